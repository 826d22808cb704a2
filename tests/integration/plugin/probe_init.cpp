// A test program with its own main that calls gtest_lockable::init, run by plugin_test.py: it
// prints the arguments left for its own parsing.
#include <cstdio>

#include "gtest_lockable/gtest.hpp"

TEST(init_test, sees_resource) {
  ASSERT_TRUE(gtest_lockable::has_resource());
  std::printf("init saw %s\n", gtest_lockable::resource_id().c_str());
}

int main(int argc, char** argv) {
  gtest_lockable::init(&argc, argv);
  std::printf("argv:");
  for (int i = 1; i < argc; ++i) std::printf(" %s", argv[i]);
  std::printf("\n");
  return RUN_ALL_TESTS();
}
