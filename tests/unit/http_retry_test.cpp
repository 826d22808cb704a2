#include <gtest/gtest.h>

#include <ctime>

#include "src/http/retry.hpp"

namespace gtest_lockable::detail {
namespace {

std::chrono::system_clock::time_point utc(int year, int month, int day, int h, int m, int s) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = s;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

TEST(http_retry_test, only_transient_statuses_are_retried) {
  for (const int status : {429, 500, 502, 503, 504}) EXPECT_TRUE(retryable_status(status));
  for (const int status : {200, 301, 400, 401, 403, 404, 410, 501}) {
    EXPECT_FALSE(retryable_status(status)) << status;
  }
}

TEST(http_retry_test, retry_after_accepts_seconds_and_http_dates) {
  const auto now = utc(2015, 10, 21, 7, 27, 30);
  EXPECT_EQ(parse_retry_after("120", now)->count(), 120.0);
  EXPECT_EQ(parse_retry_after(" 0 ", now)->count(), 0.0);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now)->count(), 30.0);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now)->count(), 0.0)
      << "a date in the past means now";
  EXPECT_FALSE(parse_retry_after("", now));
  EXPECT_FALSE(parse_retry_after("-5", now));
  EXPECT_FALSE(parse_retry_after("1.5", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
  EXPECT_FALSE(parse_retry_after("Wed, 21 Foo 2015 07:28:00 GMT", now));
  EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT trailing", now));
}

TEST(http_retry_test, backoff_doubles_up_to_the_maximum_with_jitter_below_it) {
  const fractional_seconds base(0.5), max(8);
  EXPECT_EQ(backoff_delay(1, base, max, 0).count(), 0.5);
  EXPECT_EQ(backoff_delay(2, base, max, 0).count(), 1.0);
  EXPECT_EQ(backoff_delay(4, base, max, 0).count(), 4.0);
  EXPECT_EQ(backoff_delay(10, base, max, 0).count(), 8.0);
  EXPECT_EQ(backoff_delay(10, base, max, 1).count(), 4.0);
  EXPECT_EQ(backoff_delay(1000, base, max, 0).count(), 8.0);
}

}  // namespace
}  // namespace gtest_lockable::detail
