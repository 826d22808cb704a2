// Multi-process tests of the lock folder's queue of waiters (src/store/lock_folder/queue.hpp): a
// freed resource goes to the process that has waited longest, also when its releaser locks again at
// once, and a waiter that died or stopped does not hold the others back.
#include <signal.h>

#include <chrono>
#include <thread>

#include "gtest_lockable/lockable.hpp"
#include "lock_folder_fixture.hpp"

namespace {

using namespace lock_folder_testing;

class lock_folder_queue_test : public lock_folder_test {
 protected:
  // The holds of `id`, oldest first.
  std::vector<interval> holds_of(const std::string& id) {
    auto list = holds()[id];
    std::sort(list.begin(), list.end(),
              [](const interval& a, const interval& b) { return a.start < b.start; });
    return list;
  }

  bool queue_is_empty() {
    const auto queue = folder_ / ".lockable-queue";
    return !fs::exists(queue) || fs::is_empty(queue);
  }
};

TEST_F(lock_folder_queue_test, waiters_get_the_resource_in_the_order_they_started_waiting) {
  inventory({{"r1", "x"}});
  auto holder = tool({"--hold-until-eof", "1"});
  ASSERT_EQ(holder->read_line().value_or("").substr(0, 8), "held r1 ");
  std::vector<std::unique_ptr<subprocess>> waiters;
  for (int w = 0; w < 5; ++w) {
    waiters.push_back(tool({"--timeout", "30", "--say-waiting", "1", "--hold-ms", "5"}));
    ASSERT_EQ(waiters.back()->read_line(), "waiting");  // in line before the next one starts
  }
  holder->close_stdin();
  EXPECT_EQ(holder->exit_code(), 0);
  for (auto& w : waiters) EXPECT_EQ(w->exit_code(), 0);
  const auto order = holds_of("r1");
  ASSERT_EQ(order.size(), 6u);
  for (std::size_t w = 0; w < waiters.size(); ++w) {
    EXPECT_EQ(order[w + 1].pid, waiters[w]->pid()) << "hold " << w + 1 << " went out of turn";
  }
  expect_no_overlap(holds());
  // The last waiter to leave removes the queue folder: the lock folder is as py-lockable left it.
  EXPECT_FALSE(fs::exists(folder_ / ".lockable-queue")) << "every waiter leaves the queue";
}

TEST_F(lock_folder_queue_test, a_releaser_that_locks_again_at_once_lets_the_waiter_go_first) {
  inventory({{"r1", "x"}});
  // Two holds in a row: the second lock call comes right after the first release.
  auto again =
      tool({"--holds", "2", "--hold-until-eof", "1", "--timeout", "30", "--say-waiting", "1"});
  ASSERT_EQ(again->read_line().value_or("").substr(0, 8), "held r1 ");
  auto waiter = tool({"--timeout", "30", "--say-waiting", "1", "--hold-ms", "5"});
  ASSERT_EQ(waiter->read_line(), "waiting");
  // Stopped, the waiter cannot take r1 before the releaser asks for it again.
  ::kill(waiter->pid(), SIGSTOP);
  again->close_stdin();
  EXPECT_EQ(again->read_line(), "waiting") << "the releaser took r1 back from its waiter";
  ::kill(waiter->pid(), SIGCONT);
  EXPECT_EQ(waiter->exit_code(), 0);
  EXPECT_EQ(again->read_line().value_or("").substr(0, 8), "held r1 ");
  EXPECT_EQ(again->exit_code(), 0);
  const auto order = holds_of("r1");
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[1].pid, waiter->pid());
  expect_no_overlap(holds());
}

TEST_F(lock_folder_queue_test, a_waiter_killed_in_line_holds_nobody_back) {
  inventory({{"r1", "x"}});
  auto holder = tool({"--hold-until-eof", "1"});
  ASSERT_EQ(holder->read_line().value_or("").substr(0, 8), "held r1 ");
  auto first = tool({"--timeout", "30", "--say-waiting", "1"});
  ASSERT_EQ(first->read_line(), "waiting");
  auto second = tool({"--timeout", "30", "--say-waiting", "1"});
  ASSERT_EQ(second->read_line(), "waiting");
  first->kill(SIGKILL);
  EXPECT_EQ(first->exit_code(), 128 + SIGKILL);
  holder->close_stdin();
  EXPECT_EQ(holder->exit_code(), 0);
  EXPECT_EQ(second->read_line().value_or("").substr(0, 8), "held r1 ");
  EXPECT_EQ(second->exit_code(), 0);
  EXPECT_TRUE(queue_is_empty()) << "the dead waiter's ticket is cleared away";
}

// A waiter that finds a free resource kept for the one ahead of it does not wake for releases
// (they are not its to take); the death of the one ahead must wake it, not the safety poll.
TEST_F(lock_folder_queue_test, a_waiter_killed_at_its_turn_hands_over_to_the_next) {
  inventory({{"r1", "x"}});
  auto holder = tool({"--hold-until-eof", "1"});
  ASSERT_EQ(holder->read_line().value_or("").substr(0, 8), "held r1 ");
  auto first = tool({"--timeout", "30", "--say-waiting", "1"});
  ASSERT_EQ(first->read_line(), "waiting");
  ::kill(first->pid(), SIGSTOP);  // it cannot take r1 at its turn
  holder->close_stdin();
  EXPECT_EQ(holder->exit_code(), 0);
  // Its first looks find r1 free but kept for `first`, which has waited longer.
  auto second = tool({"--timeout", "30", "--say-waiting", "1"});
  ASSERT_EQ(second->read_line(), "waiting");
  const long long killed = now_ns();
  first->kill(SIGKILL);
  EXPECT_EQ(second->read_line().value_or("").substr(0, 8), "held r1 ");
  std::printf("a waiter killed at its turn held the next one back for %.1f ms\n",
              static_cast<double>(now_ns() - killed) / 1e6);
  EXPECT_EQ(first->exit_code(), 128 + SIGKILL);
  EXPECT_EQ(second->exit_code(), 0);
  expect_no_overlap(holds());
}

TEST_F(lock_folder_queue_test, a_stopped_waiter_holds_the_others_back_only_for_a_while) {
  inventory({{"r1", "x"}});
  auto holder = tool({"--hold-until-eof", "1"});
  ASSERT_EQ(holder->read_line().value_or("").substr(0, 8), "held r1 ");
  auto stopped = tool({"--timeout", "60", "--say-waiting", "1"});
  ASSERT_EQ(stopped->read_line(), "waiting");
  ::kill(stopped->pid(), SIGSTOP);
  auto second = tool({"--timeout", "30", "--say-waiting", "1"});
  ASSERT_EQ(second->read_line(), "waiting");
  const long long released = now_ns();
  holder->close_stdin();
  EXPECT_EQ(holder->exit_code(), 0);
  EXPECT_EQ(second->read_line().value_or("").substr(0, 8), "held r1 ");
  std::printf("a stopped waiter held the next one back for %.2f s\n",
              static_cast<double>(now_ns() - released) / 1e9);
  EXPECT_EQ(second->exit_code(), 0);
  ::kill(stopped->pid(), SIGCONT);
  EXPECT_EQ(stopped->read_line().value_or("").substr(0, 8), "held r1 ");
  EXPECT_EQ(stopped->exit_code(), 0);
  expect_no_overlap(holds());
}

TEST_F(lock_folder_queue_test, a_busy_report_names_the_waiter_a_free_resource_is_kept_for) {
  inventory({{"r1", "x"}});
  auto holder = tool({"--hold-until-eof", "1"});
  ASSERT_EQ(holder->read_line().value_or("").substr(0, 8), "held r1 ");
  auto waiter = tool({"--timeout", "30", "--say-waiting", "1", "--hold-until-eof", "1"});
  ASSERT_EQ(waiter->read_line(), "waiting");
  // Stop the waiter so that it cannot take r1 when it is freed: r1 is then free yet kept for it.
  ::kill(waiter->pid(), SIGSTOP);
  holder->close_stdin();
  EXPECT_EQ(holder->exit_code(), 0);
  gtest_lockable::options opts;
  opts.hostname = "h";
  opts.resources = (dir_ / "resources.json").string();
  opts.lock_folder = folder_.string();
  gtest_lockable::lockable late(opts);
  try {
    late.lock(nlohmann::json::object(), gtest_lockable::seconds(0));
    ADD_FAILURE() << "a late caller took a resource kept for a waiter";
  } catch (const gtest_lockable::error& e) {
    EXPECT_EQ(e.code(), gtest_lockable::errc::timeout);
    EXPECT_NE(std::string(e.what()).find("r1 (free, kept for PID " + std::to_string(waiter->pid()) +
                                         ", which has waited longer)"),
              std::string::npos)
        << e.what();
  }
  ::kill(waiter->pid(), SIGCONT);
  EXPECT_EQ(waiter->read_line().value_or("").substr(0, 8), "held r1 ");
  waiter->close_stdin();
  EXPECT_EQ(waiter->exit_code(), 0);
}

// Each waiter says "waiting" once it is in line, before the next one starts: their arrival order
// is known. Then the holder releases, and the log of holds shows who got r1 when.
TEST_F(lock_folder_queue_test, a_higher_priority_goes_first_and_one_priority_in_arrival_order) {
  inventory({{"r1", "x"}});
  auto holder = tool({"--hold-until-eof", "1"});
  ASSERT_EQ(holder->read_line().value_or("").substr(0, 8), "held r1 ");
  std::vector<std::unique_ptr<subprocess>> waiters;
  for (const char* priority : {"0", "5", "1", "1"}) {
    waiters.push_back(tool({"--timeout", "30", "--say-waiting", "1", "--hold-ms", "5",
                            "--priority", priority}));
    ASSERT_EQ(waiters.back()->read_line(), "waiting");
  }
  holder->close_stdin();
  EXPECT_EQ(holder->exit_code(), 0);
  for (auto& w : waiters) EXPECT_EQ(w->exit_code(), 0);
  const auto order = holds_of("r1");
  ASSERT_EQ(order.size(), 5u);
  // Priority 5, then the two of priority 1 as they came, then priority 0.
  for (const auto& [hold, waiter] : {std::pair{1, 1}, {2, 2}, {3, 3}, {4, 0}}) {
    EXPECT_EQ(order[hold].pid, waiters[waiter]->pid()) << "hold " << hold << " went out of turn";
  }
  expect_no_overlap(holds());
}

// The starvation bound: a waiter of priority p is passed only by one of priority q > p that comes
// less than (q - p) * step after it. With a step of 1 s, priority 2 counts as 2 s of waiting: a
// priority-2 waiter that comes at once goes first, one that comes 3 s later does not.
TEST_F(lock_folder_queue_test, a_higher_priority_passes_only_those_that_came_less_than_its_head_start_before) {
  inventory({{"r1", "x"}});
  auto holder = tool({"--hold-until-eof", "1"});
  ASSERT_EQ(holder->read_line().value_or("").substr(0, 8), "held r1 ");
  const std::vector<std::string> common = {"--timeout",  "30", "--say-waiting",   "1",
                                           "--hold-ms", "5",  "--priority-step", "1"};
  const auto waiter = [&](const char* priority) {
    auto args = common;
    args.insert(args.end(), {"--priority", priority});
    auto w = tool(args);
    EXPECT_EQ(w->read_line(), "waiting");
    return w;
  };
  auto low = waiter("0");
  auto soon = waiter("2");
  // What is tested is the passing of time itself: 3 s is more than the 2 s head start.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  auto late = waiter("2");
  holder->close_stdin();
  EXPECT_EQ(holder->exit_code(), 0);
  for (auto* w : {&low, &soon, &late}) EXPECT_EQ((*w)->exit_code(), 0);
  const auto order = holds_of("r1");
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order[1].pid, soon->pid()) << "priority 2, 0 s after the priority-0 waiter, goes first";
  EXPECT_EQ(order[2].pid, low->pid()) << "priority 0 is not passed by one that came 3 s later";
  EXPECT_EQ(order[3].pid, late->pid());
  expect_no_overlap(holds());
}

}  // namespace
