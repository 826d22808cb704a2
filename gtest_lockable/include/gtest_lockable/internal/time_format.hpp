#pragma once

// Internal, not a stable API: the one formatter of seconds for messages and the one of UTC
// times, shared by the core, its modules and both front ends, so that the front ends need not
// include the core's private `src/` headers.

#include <chrono>
#include <cstdio>
#include <string>

namespace gtest_lockable::detail {

/// `d` in seconds for messages: three significant digits (`0.5 s`, `12.3 s`, `1.2e+03 s`), or
/// `decimals` fixed decimals when it is 0 or more (`seconds_text(2s, 1)` is `2.0 s`).
inline std::string seconds_text(std::chrono::duration<double> d, int decimals = -1) {
  char text[48];
  if (decimals < 0) {
    std::snprintf(text, sizeof text, "%.3g s", d.count());
  } else {
    std::snprintf(text, sizeof text, "%.*f s", decimals, d.count());
  }
  return text;
}

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

}  // namespace gtest_lockable::detail
