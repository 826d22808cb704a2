// Query matching throughput: one compiled query run over parsed inventories of 1,000 and 10,000
// resources, and a lock call's selection from an inventory file (the scan index and the entries
// that can match, see src/inventory/scan.hpp). Reports resources/second (items_per_second) and
// how many resources matched. 1,000 parsed resources stay in the CPU caches; 10,000 (about 20 MB
// of JSON nodes) do not, and their figure is the memory's.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/lab_inventory.hpp"
#include "gtest_lockable/inventory.hpp"
#include "gtest_lockable/lockable.hpp"
#include "gtest_lockable/query.hpp"

namespace {

using nlohmann::json;

// The inventory as a lock call holds it: parsed from text, so that the JSON nodes lie in memory
// as the parser allocates them.
std::vector<json> inventory(int size) {
  return gtest_lockable::parse_inventory(gtest_lockable::bench::lab_inventory_text(size), "bench")
      .resources;
}

void run(benchmark::State& state, const char* requirements) {
  const auto resources = inventory(static_cast<int>(state.range(0)));
  const gtest_lockable::query q(json::parse(requirements));
  std::size_t matched = 0;
  for (auto _ : state) {
    matched = 0;
    for (const auto& resource : resources) matched += q.matches(resource) ? 1 : 0;
    benchmark::DoNotOptimize(matched);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(resources.size()));
  state.counters["matched"] = static_cast<double>(matched);
}

// What a plain lock call evaluates: the defaults (hostname, online) and one attribute.
void bm_equality(benchmark::State& state) {
  run(state, R"({"hostname": "lab-3", "online": true, "type": "board"})");
}
BENCHMARK(bm_equality)->Arg(1000)->Arg(10000);

// The floor set by the JSON document itself: the same three fields looked up and compared by
// hand, without a query. The gap to bm_equality is the query's own overhead.
void bm_equality_by_hand(benchmark::State& state) {
  const auto resources = inventory(static_cast<int>(state.range(0)));
  const json hostname = "lab-3";
  const json type = "board";
  std::size_t matched = 0;
  for (auto _ : state) {
    matched = 0;
    for (const auto& resource : resources) {
      const auto h = resource.find("hostname");
      if (h == resource.end() || *h != hostname) continue;
      const auto o = resource.find("online");
      if (o == resource.end() || *o != true) continue;
      const auto t = resource.find("type");
      if (t != resource.end() && *t == type) ++matched;
    }
    benchmark::DoNotOptimize(matched);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(resources.size()));
  state.counters["matched"] = static_cast<double>(matched);
}
BENCHMARK(bm_equality_by_hand)->Arg(1000)->Arg(10000);

// A regex searched in every resource's name.
void bm_regex(benchmark::State& state) {
  run(state, R"({"name": {"$regex": "^(pixel|galaxy)-[0-9]*[56]$", "$options": "i"}})");
}
BENCHMARK(bm_regex)->Arg(1000)->Arg(10000);

// An $or of three $in, each on a different field.
void bm_or_of_in(benchmark::State& state) {
  run(state, R"({"$or": [{"os": {"$in": ["ios", "zephyr"]}},
                         {"tags": {"$in": ["nfc", "camera"]}},
                         {"ram_gb": {"$in": [16, 32]}}]})");
}
BENCHMARK(bm_or_of_in)->Arg(1000)->Arg(10000);

// What a lock call does with an inventory file: select the entries that match, from the scan
// index of the file (built by the first call, then reused while the file is unchanged).
void bm_select_equality(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  char dir[] = "/tmp/bench_match.XXXXXX";
  if (::mkdtemp(dir) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  const std::string path = std::string(dir) + "/resources.json";
  std::ofstream(path) << gtest_lockable::bench::lab_inventory_text(size);
  gtest_lockable::options opts;
  opts.hostname = "lab-3";
  opts.resources = path;
  opts.lock_folder = std::string(dir) + "/locks";
  gtest_lockable::lockable lab(opts);
  const json requirements = {{"type", "board"}};  // with the defaults: hostname, online
  std::size_t matched = 0;
  for (auto _ : state) {
    matched = lab.select(requirements).size();
    benchmark::DoNotOptimize(matched);
  }
  state.SetItemsProcessed(state.iterations() * size);
  state.counters["matched"] = static_cast<double>(matched);
  std::remove(path.c_str());
  ::rmdir(dir);
}
BENCHMARK(bm_select_equality)->Arg(10000)->Arg(100000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
