// One empty test: the program bench/run starts to compare the plugin's cost (linked with
// gtest_lockable::main, so it locks a resource) with plain GoogleTest (GTest::gtest_main).
#include <gtest/gtest.h>

TEST(empty_test, does_nothing) {}
