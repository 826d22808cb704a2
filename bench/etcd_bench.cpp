// Lock + unlock latency of the etcd store against the lock folder, uncontended, one process.
//
//   etcd_bench [ROUNDS] [etcd://URI]
//
// Without a URI it starts a throw-away etcd on 127.0.0.1 (like the tests do). Prints, per store,
// the median, 90th percentile and maximum of ROUNDS (default 300) rounds, for the store alone
// (try_lock_all + release) and through `lockable` (lock + unlock, inventory matching included).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "etcd_server.hpp"
#include "gtest_lockable/etcd_store.hpp"
#include "gtest_lockable/lockable.hpp"

namespace {

using namespace gtest_lockable;
using steady = std::chrono::steady_clock;

struct summary {
  double median_ms, p90_ms, max_ms;
};

template <typename round_fn>
summary measure(int rounds, round_fn&& round) {
  for (int i = 0; i < rounds / 10 + 1; ++i) round();  // warm up connections and caches
  std::vector<double> ms;
  for (int i = 0; i < rounds; ++i) {
    const auto start = steady::now();
    round();
    ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[ms.size() * 9 / 10], ms.back()};
}

void print(const char* store, const char* path, const summary& s) {
  std::printf("| %-12s | %-26s | %8.3f | %8.3f | %8.3f |\n", store, path, s.median_ms, s.p90_ms,
              s.max_ms);
}

void bench_store(const char* name, const std::shared_ptr<lock_store>& store, int rounds) {
  const lock_owner owner{"bench-host", "bench-alloc"};
  print(name, "try_lock_all + release", measure(rounds, [&] {
          std::vector<lock_status> busy;
          auto held = store->try_lock_all({"bench"}, owner, busy);
          if (held.empty()) throw std::runtime_error("'bench' is busy: " + describe(busy.at(0)));
          held[0]->release();
        }));
  options opts;
  opts.hostname = "bench-host";
  opts.inventory = memory_inventory(
      nlohmann::json::array({{{"id", "bench"}, {"hostname", "bench-host"}, {"online", true}}}));
  opts.store = store;
  lockable l(std::move(opts));
  print(name, "lockable lock + unlock",
        measure(rounds, [&] { l.lock(nlohmann::json::object()).unlock(); }));
}

// A mkdtemp folder, removed however the benchmark ends.
struct temp_folder {
  temp_folder() {
    path = (std::filesystem::temp_directory_path() / "etcd_bench.XXXXXX").string();
    if (::mkdtemp(path.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  }
  ~temp_folder() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string path;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    const int rounds = argc > 1 ? std::max(10, std::stoi(argv[1])) : 300;
    std::unique_ptr<testing_support::etcd_cluster> etcd;
    std::string uri = argc > 2 ? argv[2] : "";
    if (uri.empty()) {
      etcd = std::make_unique<testing_support::etcd_cluster>(1);
      uri = etcd->uri("/bench");
    }
    const temp_folder folder;
    std::printf("%d rounds each; etcd at %s; times in ms\n\n", rounds, uri.c_str());
    std::printf("| store        | path                       |   median |      p90 |      max |\n");
    std::printf("|--------------|----------------------------|----------|----------|----------|\n");
    bench_store("lock folder", lock_folder_store(folder.path), rounds);
    bench_store("etcd", etcd_lock_store(uri), rounds);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "etcd_bench: %s\n", e.what());
    return 1;
  }
}
