// Parsing: inventory text parsed and validated into a document (parse_inventory, as `load` and
// --validate-only do) or into a lock call's scan index, and requirements text parsed and compiled
// into a query. Reports resources/second for inventories and the time per call for requirements.

#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <string>

#include "bench/lab_inventory.hpp"
#include "gtest_lockable/inventory.hpp"
#include "gtest_lockable/query.hpp"
#include "gtest_lockable/requirements.hpp"
#include "src/inventory/scan.hpp"

namespace {

using nlohmann::json;

void bm_parse_inventory(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const std::string text = gtest_lockable::bench::lab_inventory_text(count);
  for (auto _ : state) {
    auto inv = gtest_lockable::parse_inventory(text, "bench.json");
    benchmark::DoNotOptimize(inv.resources.data());
  }
  state.SetItemsProcessed(state.iterations() * count);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(bm_parse_inventory)->Arg(10)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

// What a lock call does with a changed inventory file instead: scan and validate it into an
// index (src/inventory/scan.hpp), parsing none of the plain entries.
void bm_index_inventory(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const std::string text = gtest_lockable::bench::lab_inventory_text(count);
  for (auto _ : state) {
    auto index = gtest_lockable::detail::index_inventory(text, "bench.json");
    benchmark::DoNotOptimize(index.entries.data());
  }
  state.SetItemsProcessed(state.iterations() * count);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(bm_index_inventory)->Arg(10)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

// The floor: nlohmann's parser alone building the document, without validation.
void bm_parse_inventory_json_only(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const std::string text = gtest_lockable::bench::lab_inventory_text(count);
  for (auto _ : state) {
    auto doc = json::parse(text);
    benchmark::DoNotOptimize(doc);
  }
  state.SetItemsProcessed(state.iterations() * count);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(bm_parse_inventory_json_only)
    ->Arg(10)
    ->Arg(1000)
    ->Arg(100000)
    ->Unit(benchmark::kMicrosecond);

void parse_requirements(benchmark::State& state, const char* text) {
  for (auto _ : state) {
    auto requirements = gtest_lockable::parse_requirements(text);
    benchmark::DoNotOptimize(requirements);
  }
}

void bm_requirements_short_form(benchmark::State& state) {
  parse_requirements(state, "type=board&os=linux&board.vendor=acme&online=true");
}
BENCHMARK(bm_requirements_short_form);

void bm_requirements_json(benchmark::State& state) {
  parse_requirements(
      state, R"({"type": "board", "os": "linux", "board": {"vendor": "acme"}, "online": true})");
}
BENCHMARK(bm_requirements_json);

// What a lock call does with requirements text: parse, merge the defaults, compile the query.
void bm_requirements_to_query(benchmark::State& state) {
  for (auto _ : state) {
    const auto requirements = gtest_lockable::with_defaults(
        gtest_lockable::parse_requirements("type=board&os=linux"), "lab-3");
    gtest_lockable::query q(requirements);
    benchmark::DoNotOptimize(q);
  }
}
BENCHMARK(bm_requirements_to_query);

void bm_requirements_to_regex_query(benchmark::State& state) {
  const json requirements = {{"name", {{"$regex", "^(pixel|galaxy)-[0-9]*[56]$"}}}};
  for (auto _ : state) {
    gtest_lockable::query q(requirements);
    benchmark::DoNotOptimize(q);
  }
}
BENCHMARK(bm_requirements_to_regex_query);

}  // namespace

BENCHMARK_MAIN();
