#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gtest_lockable {

/// The environment variables that configure both the `lockable` command and the GoogleTest
/// plugin, so one environment configures both. A command-line flag wins over its variable.
namespace env {
inline constexpr const char* requirements = "LOCKABLE_REQUIREMENTS";  ///< JSON or key=value&...
inline constexpr const char* resources = "LOCKABLE_RESOURCES";        ///< File path or URI.
inline constexpr const char* lock_folder = "LOCKABLE_LOCK_FOLDER";    ///< Lock folder.
inline constexpr const char* lock_server = "LOCKABLE_LOCK_SERVER";    ///< etcd://HOST:PORT/...
inline constexpr const char* timeout = "LOCKABLE_TIMEOUT";            ///< Seconds.
inline constexpr const char* hostname = "LOCKABLE_HOSTNAME";          ///< Host name.
}  // namespace env

/// The value of environment variable `name`, or empty when it is unset.
std::optional<std::string> env_value(const char* name);

/// Parses a timeout in seconds (`10`, `0.5`). Throws `error` (`errc::invalid_argument`) naming
/// `source` (e.g. `--timeout`) when `text` is not a finite number from 0 up.
std::chrono::duration<double> parse_timeout(std::string_view text, std::string_view source);

}  // namespace gtest_lockable
