// Lab health through the C++ API, in-process: quarantine records in a lock folder, what status
// and a lock call say about them, and records that anyone with write access could have written.
// The probes and resets themselves run child processes: tests/integration/cli_health_test.py.
#include "src/health/health.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "gtest_lockable/lockable.hpp"
#include "temp_folder.hpp"

namespace gtest_lockable {
namespace {

using nlohmann::json;

class health_test : public ::testing::Test {
 protected:
  lockable make(json inventory = json::array({{{"id", "b1"}, {"type", "board"}},
                                              {{"id", "b2"}, {"type", "board"}}})) {
    options opts;
    opts.hostname = "h";
    opts.inventory = memory_inventory(std::move(inventory));
    opts.lock_folder = folder_.path().string();
    opts.ledger = false;
    return lockable(std::move(opts));
  }
  const json anywhere = {{"hostname", nullptr}, {"online", nullptr}};
  test_support::temp_folder folder_{"health_test"};
};

TEST_F(health_test, a_quarantined_resource_is_never_handed_out_and_status_says_why) {
  lockable l = make();
  const lock_status now = l.quarantine("b1", "fan broken");
  EXPECT_TRUE(now.quarantined);
  EXPECT_NE(now.health.find("quarantined by "), std::string::npos) << now.health;
  EXPECT_NE(now.health.find(": fan broken"), std::string::npos) << now.health;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(l.lock(json{{"type", "board"}, {"hostname", nullptr}, {"online", nullptr}}).resource_id(), "b2");
  }
  try {
    l.lock(json{{"id", "b1"}, {"hostname", nullptr}, {"online", nullptr}});
    FAIL() << "locked a quarantined resource";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::timeout);
    EXPECT_NE(std::string(e.what()).find("1 matching resource is quarantined: b1 ("),
              std::string::npos)
        << e.what();
  }
  const lock_status was = l.unquarantine("b1");
  EXPECT_NE(was.health.find("fan broken"), std::string::npos);
  EXPECT_EQ(l.lock(json{{"id", "b1"}, {"hostname", nullptr}, {"online", nullptr}}).resource_id(), "b1");
  const auto states = l.status(anywhere);
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].health, "");  // no probe, no record
  EXPECT_FALSE(states[0].quarantined);
}

TEST_F(health_test, bad_quarantine_requests_are_refused_with_what_to_do) {
  lockable l = make();
  const auto code_of = [](auto&& call) {
    try {
      call();
    } catch (const error& e) {
      return e.code();
    }
    return errc::lock_store;
  };
  EXPECT_EQ(code_of([&] { l.quarantine("nope", "x"); }), errc::no_match);
  EXPECT_EQ(code_of([&] { l.quarantine("b1", ""); }), errc::invalid_argument);
  EXPECT_EQ(code_of([&] { l.quarantine("b1", "a\nb"); }), errc::invalid_argument);
  EXPECT_EQ(code_of([&] { l.quarantine("b1", std::string(501, 'x')); }), errc::invalid_argument);
  EXPECT_EQ(code_of([&] { l.unquarantine("b1"); }), errc::not_held);
  EXPECT_FALSE(l.status(anywhere)[0].quarantined);
}

TEST_F(health_test, a_malformed_health_field_names_the_resource_and_the_field) {
  lockable l = make(json::array({{{"id", "b1"}, {"health", {{"probe", "reboot"}}}}}));
  try {
    l.lock(json{{"id", "b1"}, {"hostname", nullptr}, {"online", nullptr}});
    FAIL() << "locked with a malformed health field";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_inventory);
    EXPECT_NE(std::string(e.what()).find("resource 'b1': \"health\".probe is not a non-empty "
                                         "array of strings"),
              std::string::npos)
        << e.what();
  }
  // Not lost: the failed call released it.
  EXPECT_EQ(l.status(anywhere)[0].state, lock_state::free);
}

TEST(health_record_test, a_record_of_any_shape_reads_as_what_it_safely_says) {
  EXPECT_FALSE(detail::parse_health_record("").quarantined);
  EXPECT_FALSE(detail::parse_health_record("not json").quarantined);
  EXPECT_FALSE(detail::parse_health_record("[1,2]").quarantined);
  const auto odd = detail::parse_health_record(
      R"({"failures": "many", "quarantined": "yes", "reason": 7, "since_s": "x"})");
  EXPECT_EQ(odd.failures, 0);
  EXPECT_FALSE(odd.quarantined);
  EXPECT_EQ(odd.reason, "");
  detail::health_record r;
  r.failures = 2;
  r.failed = "probe exited with status 1";
  EXPECT_EQ(detail::health_text(r, 3), "failing 2 of 3: probe exited with status 1");
  const auto again = detail::parse_health_record(detail::health_record_text(r));
  EXPECT_EQ(again.failures, 2);
  EXPECT_EQ(detail::health_text(again, 3), "failing 2 of 3: probe exited with status 1");
}

TEST(health_record_test, options_out_of_range_are_refused) {
  options opts;
  opts.inventory = memory_inventory(json::array());
  opts.quarantine_after = 0;
  EXPECT_THROW(lockable{opts}, error);
  opts.quarantine_after = 3;
  opts.recheck_every = seconds(-1);
  EXPECT_THROW(lockable{opts}, error);
}

}  // namespace
}  // namespace gtest_lockable
