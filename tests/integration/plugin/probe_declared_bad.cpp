// A declaration whose requirements do not parse, run by plugin_declared_test.py.
#include "gtest_lockable/gtest.hpp"

class broken_suite : public gtest_lockable::resource_test {};
GTEST_LOCKABLE_REQUIRE(broken_suite, "{\"type\": ");
TEST_F(broken_suite, never_runs) { FAIL() << "ran without its resource"; }
TEST(other_suite, also_fails) {}
