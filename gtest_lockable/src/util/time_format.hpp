#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "gtest_lockable/internal/time_format.hpp"  // seconds_text

namespace gtest_lockable::detail {

/// `t` as ISO 8601 UTC with milliseconds, e.g. `2026-11-26T18:50:17.123Z`.
///
/// Computed here rather than with gmtime_r and strftime: glibc loads the time zone
/// (/etc/localtime, seven system calls) on the first of those calls in a process, although UTC
/// needs none, and a lock of a new process is that first call.
inline std::string iso8601(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const long long ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  long long days = ms / 86400000;
  long long in_day = ms % 86400000;
  if (in_day < 0) {
    in_day += 86400000;
    --days;
  }
  // Days since 1970-01-01 to a civil date (Howard Hinnant's civil_from_days).
  const long long z = days + 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const long long doe = z - era * 146097;
  const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long long mp = (5 * doy + 2) / 153;
  const long long day = doy - (153 * mp + 2) / 5 + 1;
  const long long month = mp < 10 ? mp + 3 : mp - 9;
  const long long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ", year,
                month, day, in_day / 3600000, in_day / 60000 % 60, in_day / 1000 % 60,
                in_day % 1000);
  return buffer;
}

/// The current time as `iso8601`.
inline std::string utc_now_iso8601() { return iso8601(std::chrono::system_clock::now()); }

}  // namespace gtest_lockable::detail
