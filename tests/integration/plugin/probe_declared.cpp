// A test program whose suites declare their resources in code, run by plugin_declared_test.py.
// Each test prints what it got: "<test> uses <name>=<id>".
#include <cstdio>
#include <string>

#include "gtest_lockable/gtest.hpp"

namespace {

void print_uses(std::initializer_list<const char*> names) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  for (const char* name : names) {
    std::printf("%s.%s uses %s=%s\n", info->test_suite_name(), info->name(), name,
                gtest_lockable::resource_id(name).c_str());
  }
}

class board_suite : public gtest_lockable::resource_test {};
GTEST_LOCKABLE_REQUIRE(board_suite, "type=board");
TEST_F(board_suite, first) { print_uses({""}); }
TEST_F(board_suite, second) { print_uses({""}); }

class probed_suite : public gtest_lockable::resource_test {};
GTEST_LOCKABLE_REQUIRE(probed_suite, "type=board");
GTEST_LOCKABLE_REQUIRE_NAMED(probed_suite, "probe", "type=probe");
TEST_F(probed_suite, both) {
  EXPECT_EQ(resource_info("probe")["type"], "probe");
  print_uses({"", "probe"});
}

class override_suite : public gtest_lockable::resource_test {};
GTEST_LOCKABLE_REQUIRE(override_suite, "type=board");
GTEST_LOCKABLE_REQUIRE_TEST(override_suite, on_phone, R"({"type": "phone"})");
TEST_F(override_suite, on_board) { print_uses({""}); }
TEST_F(override_suite, on_phone) { print_uses({""}); }

// Parameterized: one declaration covers every instantiation.
class param_suite : public gtest_lockable::resource_test,
                    public ::testing::WithParamInterface<int> {};
GTEST_LOCKABLE_REQUIRE(param_suite, "type=phone");
TEST_P(param_suite, runs) { print_uses({""}); }
INSTANTIATE_TEST_SUITE_P(two, param_suite, ::testing::Values(1, 2));

TEST(plain_suite, locks_nothing) {
  EXPECT_TRUE(gtest_lockable::resource_id().empty());
  print_uses({""});
}

}  // namespace
