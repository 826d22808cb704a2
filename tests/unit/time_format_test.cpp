#include "src/util/time_format.hpp"

#include <gtest/gtest.h>
#include <time.h>

#include <chrono>

namespace gtest_lockable {
namespace {

std::chrono::system_clock::time_point at_ms(long long ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

TEST(time_format_test, known_instants) {
  EXPECT_EQ(detail::iso8601(at_ms(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(detail::iso8601(at_ms(951782400000LL + 123)), "2000-02-29T00:00:00.123Z");
  EXPECT_EQ(detail::iso8601(at_ms(1795711817123LL)), "2026-11-26T16:50:17.123Z");
  EXPECT_EQ(detail::iso8601(at_ms(4107542399999LL)), "2100-02-28T23:59:59.999Z");
  EXPECT_EQ(detail::iso8601(at_ms(-1)), "1969-12-31T23:59:59.999Z");
}

// Every day from 1696 to 2243 (what system_clock's nanoseconds hold), against the C library.
TEST(time_format_test, agrees_with_gmtime_every_day) {
  for (long long day = -100000; day < 100000; day += 1) {
    const long long ms = day * 86400000LL + (day % 86400) * 1000 + 7;
    const time_t secs = static_cast<time_t>(day * 86400LL + day % 86400);
    struct tm tm {};
    ASSERT_NE(gmtime_r(&secs, &tm), nullptr);
    char expected[64];
    std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d.007Z",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    ASSERT_EQ(detail::iso8601(at_ms(ms)), expected) << "day " << day;
  }
}

// Messages show seconds in one of two forms: three significant digits, or fixed decimals.
TEST(time_format_test, seconds_text) {
  using std::chrono::duration;
  EXPECT_EQ(detail::seconds_text(duration<double>(0.5)), "0.5 s");
  EXPECT_EQ(detail::seconds_text(duration<double>(12.345)), "12.3 s");
  EXPECT_EQ(detail::seconds_text(duration<double>(1234)), "1.23e+03 s");
  EXPECT_EQ(detail::seconds_text(std::chrono::milliseconds(250)), "0.25 s");
  EXPECT_EQ(detail::seconds_text(std::chrono::microseconds(5000000)), "5 s");
  EXPECT_EQ(detail::seconds_text(std::chrono::seconds(2), 1), "2.0 s");
  EXPECT_EQ(detail::seconds_text(duration<double>(0.1234), 2), "0.12 s");
  EXPECT_EQ(detail::seconds_text(duration<double>(1.5), 3), "1.500 s");
  EXPECT_EQ(detail::seconds_text(duration<double>(7.6), 0), "8 s");
}

}  // namespace
}  // namespace gtest_lockable
