#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "gtest_lockable/internal/time_format.hpp"  // seconds_text, iso8601

namespace gtest_lockable::detail {

/// The current time as `iso8601`.
inline std::string utc_now_iso8601() { return iso8601(std::chrono::system_clock::now()); }

}  // namespace gtest_lockable::detail
