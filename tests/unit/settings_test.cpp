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

TEST(settings_test, timeout_refuses_what_is_not_a_finite_number_from_zero) {
  for (const char* bad : {"", "-1", "nan", "inf", "1e309", "abc", "1s", "0x10", " 1", "1e10"}) {
    try {
      parse_timeout(bad, "LOCKABLE_TIMEOUT");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument);
      EXPECT_EQ(std::string(e.what()),
                std::string("invalid timeout '") + bad +
                    "' from LOCKABLE_TIMEOUT: give a number of seconds from 0 up (e.g. 10 or 0.5)");
    }
  }
}

}  // namespace
}  // namespace gtest_lockable::internal
