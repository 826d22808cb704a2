// Tests of two suites, registered by two calls on one target; each checks what its call passed.
#include <cstdlib>
#include <string>

#include "gtest_lockable/gtest.hpp"

namespace {

std::string variable(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "unset";
}

}  // namespace

class first : public gtest_lockable::resource_test {};
class second : public gtest_lockable::resource_test {};

TEST_F(first, gets_the_first_calls_properties) {
  EXPECT_EQ(variable("TWO_CALLS_CALL"), "1");
  EXPECT_EQ(resource_info()["type"], "board");
}

TEST_F(second, gets_the_second_calls_properties) {
  EXPECT_EQ(variable("TWO_CALLS_CALL"), "2");
  EXPECT_EQ(resource_info()["type"], "board");
}
