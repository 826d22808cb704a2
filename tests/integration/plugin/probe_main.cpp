// A test program linked with gtest_lockable::main, run by plugin_test.py as a subprocess. Each
// test prints what it saw so that the driver can check it; the driver picks tests by filter.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "gtest_lockable/gtest.hpp"

namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : fallback;
}

// One line appended with O_APPEND, so lines of several processes never interleave.
void log_line(const std::string& line) {
  const int fd =
      ::open(env_or("PROBE_LOG", "/dev/null").c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  const std::string text = line + "\n";
  EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
}

bool log_contains(const std::string& word) {
  std::ifstream in(env_or("PROBE_LOG", "/dev/null"));
  for (std::string line; std::getline(in, line);) {
    if (line == word) return true;
  }
  return false;
}

class board_test : public gtest_lockable::resource_test {};

TEST_F(board_test, fixture_sees_resource) {
  std::printf("fixture saw %s %s\n", resource_id().c_str(), resource_info().dump().c_str());
  EXPECT_EQ(resource_info()["id"], resource_id());
  EXPECT_TRUE(allocation().held());
  EXPECT_EQ(allocation().resource_id(), resource_id());
}

TEST(plain_test, free_accessor_sees_resource) {
  ASSERT_TRUE(gtest_lockable::has_resource());
  std::printf("plain saw %s\n", gtest_lockable::resource_id().c_str());
  ASSERT_NE(gtest_lockable::current_allocation(), nullptr);
  EXPECT_EQ(gtest_lockable::current_allocation()->resource_info(), gtest_lockable::resource_info());
}

// Takes a second resource (PROBE_EXTRA requirements) for this test's scope only.
TEST_F(board_test, extra_resource_in_scope) {
  const std::string requirements = env_or("PROBE_EXTRA", "");
  {
    const gtest_lockable::allocation extra = lockable().lock(std::string_view(requirements));
    std::printf("extra %s\n", extra.resource_id().c_str());
    EXPECT_NE(extra.resource_id(), resource_id());
  }
  // Released at the end of its scope: locking it again at once succeeds (a lock this process
  // still held would be busy, even to this process).
  const gtest_lockable::allocation again = lockable().lock(std::string_view(requirements));
  std::printf("extra again %s\n", again.resource_id().c_str());
}

// Logs when this process's tests begin and end. Before ending it waits until the driver has
// started every process (bounded), then works a little, so that the others are waiting by then.
TEST_F(board_test, logs_hold_interval) {
  const std::string me = std::to_string(::getpid());
  log_line("begin " + me + " " + resource_id());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!log_contains("launched") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the work done with the resource
  log_line("end " + me + " " + resource_id());
}

// In a threadsafe-style death test GoogleTest re-runs the program; the child must see the
// parent's resource without locking it (the parent holds it, so a lock there would time out).
TEST_F(board_test, death_test_child_sees_parent_resource) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string parent = resource_id();
  EXPECT_DEATH(
      {
        std::fprintf(stderr, "child saw %s\n", gtest_lockable::resource_id().c_str());
        std::abort();
      },
      "child saw " + parent);
}

// A fast-style death test forks without exec; a child that calls exit() runs static destructors.
// The parent's lock file must survive that: still linked, so nobody else can lock it.
TEST_F(board_test, forked_child_exit_keeps_parent_lock) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_EXIT(std::exit(0), ::testing::ExitedWithCode(0), "");
  struct stat st {};
  ASSERT_EQ(::fstat(allocation().descriptor(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u) << "the child removed the parent's lock file";
}

// Tells the driver (PROBE_LOG) that it holds its resource, then runs until the lock server
// reports the lock lost (bounded): the driver stops etcd meanwhile.
TEST_F(board_test, runs_until_lock_lost) {
  log_line("holding " + resource_id());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (allocation().held() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::printf("the test body ended; held: %s\n", allocation().held() ? "yes" : "no");
}

TEST(plain_test, second) { std::printf("second test ran\n"); }

}  // namespace
