// Tests that run while holding a board; they check what the CMake function passed them.
#include <cstdlib>
#include <string>

#include "gtest_lockable/gtest.hpp"

class consumer_test : public gtest_lockable::resource_test {};

TEST_F(consumer_test, holds_a_board) { EXPECT_EQ(resource_info()["type"], "board"); }

TEST_F(consumer_test, list_properties_reach_the_test_whole) {
  const char* a = std::getenv("CONSUMER_A");
  const char* b = std::getenv("CONSUMER_B");
  EXPECT_EQ(std::string(a ? a : "unset"), "1");
  EXPECT_EQ(std::string(b ? b : "unset"), "2");
}
