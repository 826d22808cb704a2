// The usage ledger's records in-process: what the reader makes of lines the writer wrote, and of
// lines it did not (see docs/ledger.md). The files and concurrent writers are tested with real
// processes in tests/integration/ledger.
#include "gtest_lockable/internal/ledger.hpp"

#include <gtest/gtest.h>

#include <string>

#include "src/ledger/record.hpp"

namespace {

using gtest_lockable::outcome;
using gtest_lockable::detail::end_record;
using gtest_lockable::detail::ledger_entry;
using gtest_lockable::detail::start_fields;
using gtest_lockable::detail::start_record;
using gtest_lockable::internal::ending;
using gtest_lockable::internal::parse_ledger;

std::string start(const std::string& id, const std::string& resource, double at) {
  start_fields f;
  f.alloc_id = id;
  f.resource = resource;
  f.host = "lab-1";
  f.requirements = R"({"type":"board"})";
  f.pid = 42;
  f.queued = at - 0.5;
  f.started = at;
  return start_record(f);
}

std::string end(const std::string& id, const std::string& resource, double at, outcome o = {}) {
  ledger_entry e;
  e.alloc_id = id;
  e.resource = resource;
  e.result = std::move(o);
  return end_record(e, at, 1.0, false);
}

TEST(ledger_test, start_and_end_records_join_into_one_allocation) {
  outcome o;
  o.passed = 3;
  o.failed = 2;
  o.skipped = 0;
  o.failed_tests = {"suite.a \"quoted\"", "suite.b\\n"};
  const auto r = parse_ledger(start("a1", "b1", 100) + end("a1", "b1", 101, o));
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.skipped, 0u);
  const auto& rec = r.records[0];
  EXPECT_EQ(rec.how, ending::released);
  EXPECT_DOUBLE_EQ(rec.wait(), 0.5);
  EXPECT_EQ(rec.host, "lab-1");
  EXPECT_EQ(rec.requirements, R"({"type":"board"})");
  EXPECT_EQ(rec.result.failed_tests, o.failed_tests);
  EXPECT_TRUE(rec.failed());
  EXPECT_EQ(rec.outcome_text(), "2 of 5 tests failed: suite.a \"quoted\" suite.b\\n");
}

TEST(ledger_test, a_start_followed_by_another_hold_of_its_resource_ended_without_release) {
  const auto r =
      parse_ledger(start("a1", "b1", 100) + start("a2", "b1", 200) + start("a3", "b2", 150));
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].how, ending::abandoned);
  EXPECT_EQ(*r.records[0].ended, 200);
  EXPECT_EQ(r.records[1].how, ending::open);  // b2's only record: the store decides
  EXPECT_EQ(r.records[2].how, ending::open);
}

TEST(ledger_test, torn_and_garbage_lines_are_skipped_and_counted) {
  const std::string torn = start("a1", "b1", 100).substr(0, 40) + "\n";
  const auto r =
      parse_ledger(torn + "not json\n\xff\xfe\n{\"ev\":\"start\"}\n[1,2]\n" +
                   start("a2", "b1", 300) + end("a2", "b1", 301) + end("gone", "b1", 302));
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].alloc_id, "a2");
  EXPECT_EQ(r.lines, 8u);
  EXPECT_EQ(r.skipped, 6u);  // 5 lines, and one end whose start is gone
  ASSERT_FALSE(r.problems.empty());
  EXPECT_NE(r.problems[0].find("line 1"), std::string::npos);
}

TEST(ledger_test, deep_nesting_is_refused_not_recursed) {
  const std::string deep = "{\"ev\":\"start\",\"x\":" + std::string(100000, '[') + "}\n";
  const auto r = parse_ledger(deep + start("a1", "b1", 1));
  EXPECT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.skipped, 1u);
}

TEST(ledger_test, records_out_of_time_order_are_sorted) {
  const auto r = parse_ledger(start("late", "b1", 500) + start("early", "b2", 100));
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].alloc_id, "early");
}

TEST(ledger_test, stats_give_utilisation_waits_and_failure_rate_over_the_period) {
  outcome failed;
  failed.exit_status = 1;
  outcome passed;
  passed.exit_status = 0;
  const auto r = parse_ledger(start("a1", "b1", 100) + end("a1", "b1", 110, passed) +
                              start("a2", "b1", 150) + end("a2", "b1", 160, failed));
  const auto stats = gtest_lockable::internal::compute_stats(r, 100, 200);
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].allocations, 2u);
  EXPECT_DOUBLE_EQ(stats[0].utilisation, 0.2);
  EXPECT_DOUBLE_EQ(stats[0].mean_wait, 0.5);
  EXPECT_EQ(stats[0].failed, 1u);
  EXPECT_DOUBLE_EQ(stats[0].failure_rate(), 0.5);
  ASSERT_EQ(stats[0].last_failures.size(), 1u);
  EXPECT_EQ(stats[0].last_failures[0]->alloc_id, "a2");
}

}  // namespace
