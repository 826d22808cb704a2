// An example test suite: every test runs while the program holds one board from resources.json,
// and prints which board it saw.
//
//   example_test --lockable_resources=resources.json --lockable_hostname=localhost
#include <cstdio>
#include <string>

#include "gtest_lockable/gtest.hpp"

namespace {

// Tests of a gtest_lockable::resource_test fixture read the held resource.
class board_test : public gtest_lockable::resource_test {};

TEST_F(board_test, reads_the_address) {
  const std::string address = resource_info().value("address", "");
  std::printf("board_test.reads_the_address saw %s at %s\n", resource_id().c_str(),
              address.c_str());
  EXPECT_FALSE(address.empty());
}

TEST_F(board_test, gets_an_online_board) {
  std::printf("board_test.gets_an_online_board saw %s\n", resource_id().c_str());
  EXPECT_EQ(resource_info()["online"], true);  // the default requirements ask for online: true
}

// A plain TEST reads it through the free accessors.
TEST(plain_test, sees_the_same_board) {
  std::printf("plain_test.sees_the_same_board saw %s\n", gtest_lockable::resource_id().c_str());
  EXPECT_EQ(gtest_lockable::resource_info()["type"], "board");
}

}  // namespace
