// A test program for the plugin's --lockable_hold_on_failure and --lockable_max_hold, driven by
// plugin_holds_test.py: PROBE_FAIL=1 makes one test fail, PROBE_SLEEP_MS makes one test run long.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

namespace {

TEST(hold_probe, passes) { SUCCEED(); }

TEST(hold_probe, fails_when_asked) {
  const char* fail = std::getenv("PROBE_FAIL");
  EXPECT_FALSE(fail != nullptr && std::string(fail) == "1") << "asked to fail";
}

TEST(hold_probe, runs_long_when_asked) {
  const char* ms = std::getenv("PROBE_SLEEP_MS");
  if (ms != nullptr) std::this_thread::sleep_for(std::chrono::milliseconds(std::atol(ms)));
}

TEST(hold_probe, last) { SUCCEED(); }

}  // namespace
