// Query matching throughput: one compiled query run over an inventory of 10,000 resources, as a
// lock call does. Reports resources/second (items_per_second) and how many resources matched.

#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gtest_lockable/query.hpp"

namespace {

using nlohmann::json;

constexpr int inventory_size = 10000;

// A lab inventory: 10 hosts; phones, boards and tablets with a few attributes each.
const std::vector<json>& inventory() {
  static const std::vector<json> resources = [] {
    const char* const types[] = {"phone", "board", "tablet"};
    const char* const oses[] = {"android", "ios", "linux", "zephyr", "windows"};
    const char* const models[] = {"Pixel", "Galaxy", "iPhone", "RPi", "Nucleo"};
    const char* const tags[] = {"usb3", "wifi", "eth", "bt", "nfc", "camera"};
    std::vector<json> out;
    for (int i = 0; i < inventory_size; ++i) {
      out.push_back({{"id", "dut-" + std::to_string(i)},
                     {"hostname", "lab-" + std::to_string(i % 10)},
                     {"online", i % 7 != 0},
                     {"type", types[i % 3]},
                     {"os", oses[i % 5]},
                     {"name", std::string(models[i % 5]) + "-" + std::to_string(i)},
                     {"ram_gb", 2 << (i % 4)},
                     {"tags", {tags[i % 6], tags[(i / 6) % 6]}},
                     {"board", {{"rev", i % 4}, {"vendor", "acme"}}}});
    }
    return out;
  }();
  return resources;
}

void run(benchmark::State& state, const char* requirements) {
  const auto& resources = inventory();
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
BENCHMARK(bm_equality);

// The floor set by the JSON document itself: the same three fields looked up and compared by
// hand, without a query. The gap to bm_equality is the query's own overhead.
void bm_equality_by_hand(benchmark::State& state) {
  const auto& resources = inventory();
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
BENCHMARK(bm_equality_by_hand);

// A regex searched in every resource's name.
void bm_regex(benchmark::State& state) {
  run(state, R"({"name": {"$regex": "^(pixel|galaxy)-[0-9]*[56]$", "$options": "i"}})");
}
BENCHMARK(bm_regex);

// An $or of three $in, each on a different field.
void bm_or_of_in(benchmark::State& state) {
  run(state, R"({"$or": [{"os": {"$in": ["ios", "zephyr"]}},
                         {"tags": {"$in": ["nfc", "camera"]}},
                         {"ram_gb": {"$in": [16, 32]}}]})");
}
BENCHMARK(bm_or_of_in);

}  // namespace

BENCHMARK_MAIN();
