#pragma once

#include <chrono>
#include <ctime>
#include <string>

namespace gtest_lockable::detail {

/// `t` as ISO 8601 UTC with milliseconds, e.g. `2026-11-26T18:50:17.123Z`.
inline std::string iso8601(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buffer[40];
  const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buffer + n, sizeof buffer - n, ".%03dZ", static_cast<int>(ms.count() % 1000));
  return buffer;
}

/// The current time as `iso8601`.
inline std::string utc_now_iso8601() { return iso8601(std::chrono::system_clock::now()); }

}  // namespace gtest_lockable::detail
