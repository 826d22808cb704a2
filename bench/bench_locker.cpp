// A process that locks through the C++ API and prints CLOCK_MONOTONIC timestamps (nanoseconds),
// driven by bench/run to measure handovers and contention between real processes:
//
//   bench_locker hold INVENTORY FOLDER     lock; print "held T"; on a line "release" on stdin
//                                          print "released T", unlock, exit (EOF: exit holding)
//   bench_locker wait INVENTORY FOLDER     lock, waiting up to 30 s; print "waiting T" just
//                                          before it first blocks, then "held T"
//   bench_locker contend INVENTORY FOLDER START_NS HOLDS HOLD_MS
//                                          from START_NS on, HOLDS times: lock, hold HOLD_MS,
//                                          unlock; print "hold ID REQUESTED HELD RELEASED" each
//
// Requirements are the defaults with hostname "bench-host". Exits 1 with a message on error.
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include "gtest_lockable/lockable.hpp"

namespace {

long long now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

void sleep_until_ns(long long t) {
  timespec ts{static_cast<time_t>(t / 1000000000LL), static_cast<long>(t % 1000000000LL)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
  }
}

gtest_lockable::lockable make_locker(const std::string& inventory, const std::string& folder,
                                     bool say_waiting) {
  gtest_lockable::options opts;
  opts.hostname = "bench-host";
  opts.resources = inventory;
  opts.lock_folder = folder;
  if (say_waiting) {
    // Called once, right before the first blocking wait (the store is already watching).
    opts.wait_notice_after = gtest_lockable::seconds(0);
    opts.on_wait = [](const std::string&) {
      std::printf("waiting %lld\n", now_ns()), std::fflush(stdout);
    };
  }
  return gtest_lockable::lockable(std::move(opts));
}

int hold(const std::string& inventory, const std::string& folder) {
  auto locker = make_locker(inventory, folder, false);
  auto held = locker.lock(nlohmann::json::object(), gtest_lockable::seconds(30));
  std::printf("held %lld\n", now_ns());
  std::fflush(stdout);
  std::string line;
  if (!std::getline(std::cin, line)) std::_Exit(0);  // keep the lock to the end, as a crash would
  const long long t = now_ns();
  held.unlock();
  std::printf("released %lld\n", t);
  return 0;
}

int wait(const std::string& inventory, const std::string& folder) {
  auto locker = make_locker(inventory, folder, true);
  auto held = locker.lock(nlohmann::json::object(), gtest_lockable::seconds(30));
  std::printf("held %lld\n", now_ns());
  return 0;
}

int contend(const std::string& inventory, const std::string& folder, long long start, int holds,
            int hold_ms) {
  auto locker = make_locker(inventory, folder, false);
  sleep_until_ns(start);
  std::string out;
  for (int i = 0; i < holds; ++i) {
    const long long requested = now_ns();
    auto held = locker.lock(nlohmann::json::object(), gtest_lockable::seconds(60));
    const long long taken = now_ns();
    std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
    const long long released = now_ns();
    held.unlock();
    out += "hold " + held.resource_id() + " " + std::to_string(requested) + " " +
           std::to_string(taken) + " " + std::to_string(released) + "\n";
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "hold" && argc == 4) return hold(argv[2], argv[3]);
    if (mode == "wait" && argc == 4) return wait(argv[2], argv[3]);
    if (mode == "contend" && argc == 7) {
      return contend(argv[2], argv[3], std::atoll(argv[4]), std::atoi(argv[5]), std::atoi(argv[6]));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_locker: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: bench_locker hold|wait INVENTORY FOLDER\n"
               "       bench_locker contend INVENTORY FOLDER START_NS HOLDS HOLD_MS\n");
  return 1;
}
