#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "gtest_lockable/env.hpp"

namespace gtest_lockable {

/// The value of environment variable `name`, or empty when it is unset.
std::optional<std::string> env_value(const char* name);

/// Parses a timeout in seconds (`10`, `0.5`). Throws `error` (`errc::invalid_argument`) naming
/// `source` (e.g. `--timeout`) when `text` is not a finite number from 0 up.
std::chrono::duration<double> parse_timeout(std::string_view text, std::string_view source);

}  // namespace gtest_lockable
