#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gtest_lockable/lockable.hpp"

namespace gtest_lockable::cli {

/// What one invocation of `lockable` does.
enum class mode {
  run,       ///< Lock a resource and run the command.
  list,      ///< Print the selected inventory entries as JSON.
  status,    ///< Print the lock state of the selected entries.
  validate,  ///< Validate the inventory and the requirements.
  help,      ///< Print the help text.
  version,   ///< Print the version.
};

/// A setting's value and where it came from (`--timeout`, `LOCKABLE_TIMEOUT` or `default`), so
/// that a message about a bad value names the place to fix it.
struct sourced {
  std::string value;   ///< The text as given.
  std::string source;  ///< The option, variable or `default` it came from.
};

/// The parsed command line, with environment variables and defaults applied.
struct cli_options {
  mode what = mode::run;             ///< The mode.
  sourced requirements;              ///< JSON or `key=value&...`.
  sourced resources;                 ///< Inventory file or URI.
  sourced lock_folder;               ///< Lock folder.
  sourced lock_server;               ///< etcd URI; empty: the lock folder is the store.
  sourced hostname;                  ///< Host name; empty: this host.
  seconds timeout{1.0};              ///< How long to wait for a resource.
  bool quiet = false;                ///< No messages of ours on stderr except errors.
  bool json = false;                 ///< `--status` prints JSON.
  std::vector<std::string> command;  ///< The command and its arguments.
};

/// Reads an environment variable: its value, or nothing when unset.
using env_reader = std::function<std::optional<std::string>(const char* name)>;

/// Parses `args` (without the program name). An option wins over its environment variable (read
/// with `getenv`; an empty variable counts as unset), which wins over the default. Options end at
/// `--` or at the first argument that does not start with `-`. Throws `error`
/// (`errc::invalid_argument`) with a one-line message for a usage error.
cli_options parse_options(const std::vector<std::string>& args, const env_reader& getenv);

/// The `--help` text: usage, every option with its variable and default, exit codes, an example.
std::string help_text();

}  // namespace gtest_lockable::cli
