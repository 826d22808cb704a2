#pragma once

// The plugin's `--lockable_*` flags (internal to the plugin).

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace gtest_lockable::detail {

/// What to do when no resource can be locked (nothing matches, or the timeout passed).
enum class unavailable_policy {
  fail,  ///< Every selected test fails; the program exits non-zero.
  skip,  ///< Every selected test is skipped.
};

/// The plugin's configuration: flags over environment variables over defaults.
struct plugin_settings {
  nlohmann::json requirements = nlohmann::json::object();  ///< Parsed requirements.
  std::string resources;                                   ///< Inventory file or URI.
  std::string lock_folder;                                 ///< Lock folder.
  std::string lock_server;                   ///< etcd URI; empty: the lock folder is the store.
  std::chrono::duration<double> timeout{0};  ///< How long to wait.
  std::string hostname;                      ///< Empty: this host's name.
  unavailable_policy on_unavailable = unavailable_policy::fail;  ///< Policy.
  std::string error;  ///< Every configuration error in one line; empty when none.
};

/// Reads the `--lockable_NAME=VALUE` and `--lockable_NAME VALUE` flags up to a `--` argument and
/// removes them from `argv` (keeping `argv[*argc] == nullptr`). Missing flags come from their
/// environment variables, then defaults. Never throws: bad values and unknown `--lockable_` flags
/// are described in `error`.
plugin_settings parse_flags(int* argc, char** argv);

/// The settings from environment variables and defaults alone (no flags).
plugin_settings settings_from_environment();

/// The help text for every flag, printed after GoogleTest's own help.
std::string flags_help();

/// Whether GoogleTest 1.12's `InitGoogleTest` printed its help for these arguments (the ones it
/// left in argv): `--help`, or a `--gtest_`/`-gtest_`/`/gtest_` flag it does not know.
bool gtest_help_requested(int argc, char** argv);

}  // namespace gtest_lockable::detail
