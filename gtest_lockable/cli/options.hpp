#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "gtest_lockable/internal/settings.hpp"

namespace gtest_lockable::cli {

/// What one invocation of `lockable` does.
enum class mode {
  run,           ///< Lock a resource and run the command.
  list,          ///< Print the selected inventory entries as JSON.
  ctest,         ///< Print the selected entries as the resources of a CTest resource spec.
  ctest_plan,    ///< Give discovered tests their CTest resource groups (for the CMake module).
  ctest_spec,    ///< Write the CTest resource spec of the pools (for the CMake module).
  status,        ///< Print the lock state of the selected entries.
  validate,      ///< Validate the inventory and the requirements.
  hold,          ///< Lock a resource and keep it as a hold after lockable exits.
  release,       ///< End a hold.
  history,       ///< Print the allocations the ledger recorded.
  stats,         ///< Print per-resource figures from the ledger.
  metrics,       ///< Write the ledger's figures in the Prometheus text format.
  report,        ///< Write the ledger as an HTML page.
  quarantine,    ///< Quarantine a resource by hand.
  unquarantine,  ///< End a resource's quarantine.
  help,          ///< Print the help text.
  version,       ///< Print the version.
};

/// Reads an environment variable (the settings layer's reader).
using internal::env_reader;
/// A setting's text and where it came from.
using internal::sourced;

/// The parsed command line: the mode and its switches, and every setting resolved (option, then
/// variable, then default) by the settings layer that the plugin shares.
struct cli_options : internal::settings {
  mode what = mode::run;             ///< The mode.
  bool quiet = false;                ///< No messages of ours on stderr except errors.
  bool json = false;                 ///< `--status`, `--history`, `--stats` print JSON.
  std::string since;                 ///< `--since`: a duration back from now, or a date.
  std::string resource;              ///< `--resource`: one resource's records only.
  std::string output;                ///< The file of `--metrics` or `--report` (`-`: stdout).
  std::vector<std::string> command;  ///< The command and its arguments (with --hold: an id).
  std::chrono::duration<double> hold_for{0};  ///< --for: how long a hold lasts.
  std::string note;                  ///< --note: what a hold is for.
  std::string release_id;            ///< --release: the resource whose hold to end.
  bool force = false;                ///< --force: --release also another user's hold.
  std::string health_id;             ///< --quarantine, --unquarantine: the resource.
  std::string reason;                ///< --reason: why it is quarantined.
  bool reason_given = false;         ///< Whether --reason was given (it may be empty: an error).
};

/// Parses `args` (without the program name). An option wins over its environment variable (read
/// with `getenv`; an empty variable counts as unset), which wins over the default. Options end at
/// `--` or at the first argument that does not start with `-`. Throws `error`
/// with a one-line message for a usage error or a bad value (`errc::invalid_argument`).
cli_options parse_options(const std::vector<std::string>& args, const env_reader& getenv);

/// The `--help` text: usage, every option with its variable and default, exit codes, an example.
std::string help_text();

}  // namespace gtest_lockable::cli
