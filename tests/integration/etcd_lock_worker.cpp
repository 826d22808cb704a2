// A separate process that locks through the etcd store, for etcd_store_test: several of them prove
// exclusion between processes; one killed while holding proves that its lock expires.
//
//   etcd_lock_worker hold URI TTL RESOURCE
//     locks RESOURCE and prints "locked"; on the stdin line "release [MS]" waits MS milliseconds,
//     releases it and prints "released <steady-clock ns when the release began>"; exits at the
//     end of stdin.
//   etcd_lock_worker loop URI TTL RESOURCE COUNT HOLD_MS LOG
//     COUNT times: locks RESOURCE, holds it HOLD_MS, appends "<start ns> <end ns> <pid>" to LOG
//     (steady clock, which all processes of a host share), releases it.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

#include "gtest_lockable/etcd_store.hpp"
#include "gtest_lockable/lockable.hpp"

namespace {

using namespace gtest_lockable;

long long steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

lockable make(const std::string& uri, double ttl, const std::string& resource) {
  etcd_options etcd;
  etcd.ttl = seconds(ttl);
  options opts;
  opts.hostname = "lab";
  opts.inventory = memory_inventory(
      nlohmann::json::array({{{"id", resource}, {"hostname", "lab"}, {"online", true}}}));
  opts.store = etcd_lock_store(uri, etcd);
  return lockable(std::move(opts));
}

int hold(lockable& l) {
  auto a = l.lock(nlohmann::json::object(), seconds(60));
  std::cout << "locked" << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.rfind("release", 0) != 0) continue;
    // "release MS": the holder keeps working MS more milliseconds, so a waiter is surely waiting.
    if (line.size() > 8)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(line.substr(8))));
    const long long began = steady_ns();
    a.unlock();
    std::cout << "released " << began << std::endl;
  }
  return 0;
}

int loop(lockable& l, int count, int hold_ms, const std::string& log) {
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + log);
  for (int i = 0; i < count; ++i) {
    auto a = l.lock(nlohmann::json::object(), seconds(60));
    const long long start = steady_ns();
    std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));  // the "test" using it
    const long long end = steady_ns();
    // Logged while still holding, so the interval lies inside the hold.
    const std::string line =
        std::to_string(start) + " " + std::to_string(end) + " " + std::to_string(::getpid()) + "\n";
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      throw std::runtime_error("cannot write " + log);
    }
  }
  ::close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "hold" && argc == 5) {
      auto l = make(argv[2], std::stod(argv[3]), argv[4]);
      return hold(l);
    }
    if (mode == "loop" && argc == 8) {
      auto l = make(argv[2], std::stod(argv[3]), argv[4]);
      return loop(l, std::stoi(argv[5]), std::stoi(argv[6]), argv[7]);
    }
    std::cerr << "usage: etcd_lock_worker hold URI TTL RESOURCE | loop URI TTL RESOURCE COUNT "
                 "HOLD_MS LOG\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "etcd_lock_worker: " << e.what() << "\n";
    return 1;
  }
}
