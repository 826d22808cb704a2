// A process that locks through the C++ API, for the multi-process tests. It appends
// "<resource id> <held ns> <releasing ns> <pid>\n" (CLOCK_MONOTONIC, shared by all processes on the
// host) to --log for every hold, so an independent checker can look for overlaps.
//
//   lock_tool --resources F (--lock-folder D | --lock-server URI) [--hostname H] [--requirements R]... [--timeout S]
//             [--hold-ms N] [--priority N] [--priority-step S]
//             [--holds N] [--log F] [--hold-until-eof 1] [--say-waiting 1]
//
// It prints "held <ids> <ns>" on stdout when it holds; with --hold-until-eof it then holds until
// its standard input closes, so a test decides when it releases. With --say-waiting it prints
// "waiting" when it starts to wait for a release.
//
// Exit codes: 0 held and released, 2 usage, 3 lock failed (the error on stderr).
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gtest_lockable/etcd_store.hpp"
#include "gtest_lockable/internal/settings.hpp"
#include "gtest_lockable/lockable.hpp"

namespace {

long long now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void append(const std::string& path, const std::string& line) {
  if (path.empty()) return;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  // One write with O_APPEND: lines from concurrent processes never interleave.
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  gtest_lockable::options opts;
  std::vector<nlohmann::json> requirements;
  double timeout = 0;
  long hold_ms = 0;
  int holds = 1;
  std::string log;
  bool hold_until_eof = false;
  gtest_lockable::lock_request request;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (i + 1 >= argc) throw std::runtime_error("missing value for " + arg);
      const std::string value = argv[++i];
      if (arg == "--resources")
        opts.resources = value;
      else if (arg == "--lock-folder")
        opts.lock_folder = value;
      else if (arg == "--lock-server")
        opts.store = gtest_lockable::open_lock_store("", value);
      else if (arg == "--hostname")
        opts.hostname = value;
      else if (arg == "--requirements")
        requirements.push_back(gtest_lockable::parse_requirements(value));
      else if (arg == "--timeout")
        timeout = gtest_lockable::internal::parse_timeout(value, arg).count();
      else if (arg == "--priority")
        request.priority = std::stoi(value);
      else if (arg == "--priority-step")
        request.priority_step = gtest_lockable::seconds(std::stod(value));
      else if (arg == "--hold-ms")
        hold_ms = std::stol(value);
      else if (arg == "--holds")
        holds = std::stoi(value);
      else if (arg == "--log")
        log = value;
      else if (arg == "--hold-until-eof")
        hold_until_eof = value == "1";
      else if (arg == "--say-waiting" && value == "1") {
        opts.wait_notice_after = gtest_lockable::seconds(0);
        opts.on_wait = [](const std::string&) {
          std::printf("waiting\n");
          std::fflush(stdout);
        };
      } else
        throw std::runtime_error("unknown option " + arg);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lock_tool: %s\n", e.what());
    return 2;
  }
  if (requirements.empty()) requirements.push_back(nlohmann::json::object());
  try {
    gtest_lockable::lockable lockable(opts);
    for (int h = 0; h < holds; ++h) {
      auto allocations = lockable.lock_many(requirements, gtest_lockable::seconds(timeout), request);
      const long long held = now_ns();
      std::string ids;
      for (const auto& a : allocations) ids += (ids.empty() ? "" : ",") + a.resource_id();
      std::printf("held %s %lld\n", ids.c_str(), held);
      std::fflush(stdout);
      if (hold_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
      if (hold_until_eof) {
        char c;
        while (::read(0, &c, 1) > 0) {
        }
      }
      const long long releasing = now_ns();
      for (const auto& a : allocations) {
        append(log, a.resource_id() + " " + std::to_string(held) + " " + std::to_string(releasing) +
                        " " + std::to_string(::getpid()) + "\n");
      }
    }
  } catch (const gtest_lockable::error& e) {
    std::fprintf(stderr, "lock_tool: %s\n", e.what());
    return 3;
  }
  return 0;
}
