// gtest_lockable::main: link it instead of GTest::gtest_main, and the program locks a resource
// chosen by its --lockable_* flags for its tests.
#include "gtest_lockable/gtest.hpp"

int main(int argc, char** argv) {
  gtest_lockable::init(&argc, argv);
  return RUN_ALL_TESTS();
}
