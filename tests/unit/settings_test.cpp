#include "gtest_lockable/internal/settings.hpp"

#include <gtest/gtest.h>

#include "gtest_lockable/error.hpp"

namespace gtest_lockable::internal {
namespace {

TEST(settings_test, timeout_accepts_whole_and_fractional_seconds) {
  EXPECT_DOUBLE_EQ(parse_timeout("10", "--timeout").count(), 10.0);
  EXPECT_DOUBLE_EQ(parse_timeout("0.25", "--timeout").count(), 0.25);
  EXPECT_DOUBLE_EQ(parse_timeout("0", "--timeout").count(), 0.0);
  EXPECT_DOUBLE_EQ(parse_timeout("1e2", "--timeout").count(), 100.0);
}

TEST(settings_test, durations_take_a_unit_of_seconds_minutes_or_hours) {
  EXPECT_DOUBLE_EQ(parse_timeout("90s", "--timeout").count(), 90.0);
  EXPECT_DOUBLE_EQ(parse_timeout("15m", "--timeout").count(), 900.0);
  EXPECT_DOUBLE_EQ(parse_timeout("2h", "--timeout").count(), 7200.0);
  EXPECT_DOUBLE_EQ(parse_timeout("1.5h", "--timeout").count(), 5400.0);
  EXPECT_DOUBLE_EQ(parse_timeout("0m", "--timeout").count(), 0.0);
  try {
    parse_duration("2d", "hold limit", "--max-hold");
    ADD_FAILURE() << "accepted '2d'";
  } catch (const error& e) {
    EXPECT_EQ(std::string(e.what()),
              "invalid hold limit '2d' from --max-hold: give seconds from 0 up (10, 0.5) or a "
              "number with a unit (90s, 15m, 2h)");
  }
}

TEST(settings_test, timeout_refuses_what_is_not_a_finite_number_from_zero) {
  for (const char* bad : {"", "-1", "nan", "inf", "1e309", "abc", "0x10", " 1", "1e10", "h", "1 s",
                          "1ms", "1sm", "1S", "-1m", "300000h", "nanh"}) {
    try {
      parse_timeout(bad, "LOCKABLE_TIMEOUT");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument);
      EXPECT_EQ(std::string(e.what()),
                std::string("invalid timeout '") + bad +
                    "' from LOCKABLE_TIMEOUT: give seconds from 0 up (10, 0.5) or a number with a "
                    "unit (90s, 15m, 2h)");
    }
  }
}

}  // namespace
}  // namespace gtest_lockable::internal
