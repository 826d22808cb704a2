// A test program that links the plugin library but neither its main nor init (it uses
// GTest::gtest_main): the plugin must change nothing.
#include <cstdio>

#include "gtest_lockable/gtest.hpp"

TEST(unlocked_test, runs_without_resource) {
  EXPECT_FALSE(gtest_lockable::has_resource());
  EXPECT_TRUE(gtest_lockable::resource_info().is_null());
  std::printf("unlocked ran\n");
}

class unlocked_fixture : public gtest_lockable::resource_test {};

TEST_F(unlocked_fixture, reports_no_resource) { std::printf("fixture body ran\n"); }
