// The GoogleTest holder of the stress run: a test program with the gtest_lockable plugin, which
// locks its resource before the first test (chosen by the --lockable_* flags the driver passes)
// and releases it after the last. Its one test logs the hold to STRESS_LOG (hold_log.hpp) and
// works for STRESS_HOLD_MS; `wait` is logged before the plugin starts to lock.
#include <unistd.h>

#include <cstdio>

#include "gtest_lockable/gtest.hpp"
#include "hold_log.hpp"

namespace {

const std::string& log_path() {
  static const std::string path = stress::env_or("STRESS_LOG", "");
  return path;
}

const std::string& token() {
  static const std::string value = stress::env_or("STRESS_TOKEN", "?");
  return value;
}

TEST(stress_probe, holds_and_logs) {
  const std::string id = gtest_lockable::resource_id();
  ASSERT_FALSE(id.empty()) << "the plugin holds no resource";
  ASSERT_NE(gtest_lockable::current_allocation(), nullptr);
  ASSERT_TRUE(stress::log_event(log_path(), "alloc", token(),
                                gtest_lockable::current_allocation()->alloc_id(),
                                stress::now_ns()));
  ASSERT_TRUE(stress::log_event(log_path(), "start", token(), id, stress::now_ns()));
  std::printf("held %d\n", static_cast<int>(::getpid()));
  std::fflush(stdout);
  stress::work_for(std::atol(stress::env_or("STRESS_HOLD_MS", "0").c_str()));
  // Logged before the plugin's environment releases the lock, after this test.
  ASSERT_TRUE(stress::log_event(log_path(), "end", token(), id, stress::now_ns()));
}

}  // namespace

int main(int argc, char** argv) {
  if (log_path().empty() || !stress::log_event(log_path(), "wait", token(), "", stress::now_ns())) {
    std::fprintf(stderr, "stress_probe: cannot write STRESS_LOG\n");
    return 4;
  }
  gtest_lockable::init(&argc, argv);
  return RUN_ALL_TESTS();
}
