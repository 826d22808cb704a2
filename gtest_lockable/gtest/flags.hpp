#pragma once

// The plugin's `--lockable_*` flags (internal to the plugin). The flags themselves, their
// variables, defaults and help are the settings layer's (gtest_lockable/internal/settings.hpp),
// shared with the `lockable` command; this is how the plugin reads them from argv.

#include <nlohmann/json.hpp>
#include <string>

#include "gtest_lockable/internal/settings.hpp"

namespace gtest_lockable::detail {

/// What to do when no resource can be locked (the settings layer's policy).
using internal::unavailable_policy;

/// The plugin's configuration: flags over environment variables over defaults.
struct plugin_settings {
  internal::settings values;                               ///< Every setting, resolved.
  nlohmann::json requirements = nlohmann::json::object();  ///< `values.requirements`, parsed.
  std::string error;  ///< Every configuration error in one line; empty when none.
};

/// Reads the `--lockable_NAME=VALUE` and `--lockable_NAME VALUE` flags up to a `--` argument and
/// removes them from `argv` (keeping `argv[*argc] == nullptr`). Missing flags come from their
/// environment variables (read with `getenv`), then defaults. Never throws: bad values and
/// unknown `--lockable_` flags are described in `error`.
plugin_settings parse_flags(int* argc, char** argv,
                            const internal::env_reader& getenv = internal::env_value);

/// The settings from environment variables (read with `getenv`) and defaults alone (no flags).
plugin_settings settings_from_environment(const internal::env_reader& getenv = internal::env_value);

/// The help text for every flag, printed after GoogleTest's own help.
std::string flags_help();

/// Whether GoogleTest 1.12's `InitGoogleTest` printed its help for these arguments (the ones it
/// left in argv): `--help`, or a `--gtest_`/`-gtest_`/`/gtest_` flag it does not know.
bool gtest_help_requested(int argc, char** argv);

}  // namespace gtest_lockable::detail
