// Each test holds the program's board for HOLD_MS and appends "<id> <start ns> <end ns>
// <queue ms>" to HOLD_LOG (CLOCK_MONOTONIC, one O_APPEND write per line).
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
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

class hold : public gtest_lockable::resource_test {
 protected:
  void hold_and_log() {
    const long long start = now_ns();
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(std::getenv("HOLD_MS"))));
    const long long end = now_ns();
    const double queue_ms =
        std::chrono::duration<double, std::milli>(allocation().queue_time()).count();
    const std::string line = resource_id() + " " + std::to_string(start) + " " +
                             std::to_string(end) + " " + std::to_string(queue_ms) + "\n";
    const int fd = ::open(std::getenv("HOLD_LOG"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    ::close(fd);
  }
};

TEST_F(hold, case_1) { hold_and_log(); }
TEST_F(hold, case_2) { hold_and_log(); }
TEST_F(hold, case_3) { hold_and_log(); }
TEST_F(hold, case_4) { hold_and_log(); }
TEST_F(hold, case_5) { hold_and_log(); }
TEST_F(hold, case_6) { hold_and_log(); }

}  // namespace
