// Board tests, phone tests and board+probe tests in one program with its own main, 202 tests.
// Each test that holds resources sleeps HOLD_MS, then appends one line per resource to HOLD_LOG:
// "<test> <id> <start ns> <end ns> <queue ms>" (CLOCK_MONOTONIC, one O_APPEND write per line).
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "gtest_lockable/gtest.hpp"

namespace {

long long now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void hold_and_log(std::initializer_list<const char*> names) {
  const long long start = now_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(std::getenv("HOLD_MS"))));
  const long long end = now_ns();
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const double queue_ms =
      std::chrono::duration<double, std::milli>(gtest_lockable::current_allocation()->queue_time())
          .count();
  std::string lines;
  for (const char* name : names) {
    ASSERT_FALSE(gtest_lockable::resource_id(name).empty()) << "no resource '" << name << "'";
    lines += std::string(info->test_suite_name()) + "." + info->name() + " " +
             gtest_lockable::resource_id(name) + " " + std::to_string(start) + " " +
             std::to_string(end) + " " + std::to_string(queue_ms) + "\n";
  }
  const int fd = ::open(std::getenv("HOLD_LOG"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
  ::close(fd);
}

class board_test : public gtest_lockable::resource_test,
                   public ::testing::WithParamInterface<int> {};
GTEST_LOCKABLE_REQUIRE(board_test, "type=board");
TEST_P(board_test, flashes) {
  EXPECT_EQ(resource_info()["type"], "board");
  hold_and_log({""});
}
INSTANTIATE_TEST_SUITE_P(many, board_test, ::testing::Range(0, 80));

class phone_test : public gtest_lockable::resource_test,
                   public ::testing::WithParamInterface<int> {};
GTEST_LOCKABLE_REQUIRE(phone_test, R"({"type": "phone"})");
TEST_P(phone_test, pairs) {
  EXPECT_EQ(resource_info()["type"], "phone");
  hold_and_log({""});
}
INSTANTIATE_TEST_SUITE_P(many, phone_test, ::testing::Range(0, 60));

class probed_board_test : public gtest_lockable::resource_test,
                          public ::testing::WithParamInterface<int> {};
GTEST_LOCKABLE_REQUIRE(probed_board_test, "type=board");
GTEST_LOCKABLE_REQUIRE_NAMED(probed_board_test, "probe", "type=probe");
TEST_P(probed_board_test, measures) {
  EXPECT_EQ(resource_info()["type"], "board");
  EXPECT_EQ(resource_info("probe")["type"], "probe");
  hold_and_log({"", "probe"});
}
INSTANTIATE_TEST_SUITE_P(many, probed_board_test, ::testing::Range(0, 20));

// The child of a death test sees its parent's resource and locks nothing (it would wait for its
// parent), in both styles.
class board_DeathTest : public gtest_lockable::resource_test {};
GTEST_LOCKABLE_REQUIRE(board_DeathTest, "type=board");
void child_reports_its_board() {
  std::fprintf(stderr, "child has %s\n", gtest_lockable::resource_id().c_str());
  std::_Exit(gtest_lockable::resource_id().empty() ? 1 : 0);
}
TEST_F(board_DeathTest, fast_style) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_EXIT(child_reports_its_board(), ::testing::ExitedWithCode(0), "child has board-");
}
TEST_F(board_DeathTest, threadsafe_style) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(child_reports_its_board(), ::testing::ExitedWithCode(0), "child has board-");
}

// Tests that declare nothing lock nothing.
class plain_test : public ::testing::TestWithParam<int> {};
TEST_P(plain_test, adds) {
  EXPECT_TRUE(gtest_lockable::resource_id().empty());
  EXPECT_EQ(GetParam() + 1, 1 + GetParam());
}
INSTANTIATE_TEST_SUITE_P(many, plain_test, ::testing::Range(0, 40));

}  // namespace

int main(int argc, char** argv) {
  gtest_lockable::init(&argc, argv);
  return RUN_ALL_TESTS();
}
