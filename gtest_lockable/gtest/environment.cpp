// Locks what the tests need and turns a failure to lock into the outcome of each selected test.
// Without declarations, a testing::Environment locks the program's one resource before the first
// test; with them, a listener locks each test's resources as it starts (reusing what its suite
// already holds) and releases them when the test, or its suite, ends.
//
// Why not report the failure from Environment::SetUp itself (see docs/design.md): a FAIL() there
// marks every test skipped, so CTest (gtest_discover_tests' SKIP_REGULAR_EXPRESSION) reports
// Skipped, and a GTEST_SKIP() there exits 0 with no test marked skipped, so CTest reports Passed.
// Instead SetUp records the failure and a listener fails, or skips, each test as it starts: a fatal
// failure or a skip added in OnTestStart stops GoogleTest before the fixture's SetUp and body, and
// the test shows as FAILED (CTest: Failed, exit 1) or SKIPPED (CTest: Skipped, exit 0), in the
// console and in the XML report alike. It needs nothing from `main`, so both entry points behave
// the same.
#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <utility>

#include "declared.hpp"
#include "gtest_lockable/env.hpp"
#include "gtest_lockable/error.hpp"
#include "gtest_lockable/gtest.hpp"
#include "gtest_lockable/internal/ctest.hpp"
#include "gtest_lockable/internal/json.hpp"
#include "gtest_lockable/internal/settings.hpp"
#include "gtest_lockable/internal/time_format.hpp"
#include "gtest_lockable/query.hpp"
#include "plugin_state.hpp"
#include "test_outcome.hpp"

namespace gtest_lockable::detail {
namespace {

using nlohmann::json;

// XML attribute names allow fewer characters than JSON keys.
std::string property_name(const std::string& prefix, const std::string& key) {
  std::string name = prefix;
  for (const char c : key) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '-' || c == '.';
    name += plain ? c : '_';
  }
  return name;
}

// Whether the run writes an XML or JSON report (--gtest_output). Only then are properties
// recorded: a property is visible to the tests' own code (UnitTest::ad_hoc_test_result), and
// suites such as GoogleTest's own check that there is none they did not set.
bool report_asked() { return !GTEST_FLAG_GET(output).empty(); }

// Records a resource's fields as `<prefix><field>` properties. From Environment::SetUp they land
// on <testsuites> in the XML report, like pytest-lockable's testsuite properties; from a test's
// start, on its <testcase>.
void record_properties(const std::string& prefix, const json& resource_info) {
  if (!report_asked() || !resource_info.is_object()) return;
  for (const auto& [key, value] : resource_info.items()) {
    ::testing::Test::RecordProperty(property_name(prefix, key), value.is_string()
                                                                    ? value.get<std::string>()
                                                                    : detail::json_text(value));
  }
}

// A library error's message with the flag that would fix it, where one is to blame.
std::string message_of(const error& e) {
  return internal::message_of(e, internal::front_end::plugin);
}

// Failures a policy may turn into skips: the inventory and flags were fine, only no resource was
// there to take. Anything else is a mistake to fix, so it fails whatever the policy.
bool unavailable(errc code) { return code == errc::no_match || code == errc::timeout; }

std::string upper(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// The inventory id of a resource CTest assigned to this test from `pool` (any pool when empty),
// other than those in `taken`, or empty. RESOURCE_GROUPS "<pool>:1;<pool2>:1" sets
// CTEST_RESOURCE_GROUP_COUNT=2, CTEST_RESOURCE_GROUP_<i>=<pool> and
// CTEST_RESOURCE_GROUP_<i>_<POOL>=id:<ctest id>,slots:1, with the ids that
// `lockable --ctest-spec` wrote into the resource spec. Only a preference: the lock store still
// decides, as another ctest, an IDE run or a py-lockable job may hold it.
std::string ctest_assigned_resource(lockable& l, const json& requirements, const std::string& pool,
                                    const std::vector<std::string>& taken) {
  const char* count_text = std::getenv("CTEST_RESOURCE_GROUP_COUNT");
  if (count_text == nullptr) return {};
  const long count = std::strtol(count_text, nullptr, 10);
  std::vector<std::string> wanted;
  for (long group = 0; group < count && group < 64; ++group) {
    const std::string prefix = "CTEST_RESOURCE_GROUP_" + std::to_string(group);
    const char* type = std::getenv(prefix.c_str());
    if (type == nullptr || (!pool.empty() && pool != type)) continue;
    const char* assigned = std::getenv((prefix + "_" + upper(type)).c_str());
    if (assigned == nullptr) continue;
    const std::string text = assigned;  // "id:board_a,slots:1"
    if (text.rfind("id:", 0) == 0) wanted.push_back(text.substr(3, text.find(',') - 3));
  }
  if (wanted.empty()) return {};
  for (const auto& resource : l.select(requirements)) {
    const std::string id = resource_id_text(resource);
    if (std::find(taken.begin(), taken.end(), id) != taken.end()) continue;
    if (std::find(wanted.begin(), wanted.end(), internal::ctest_resource_id(id)) != wanted.end()) {
      return id;
    }
  }
  return {};
}

// The running test's resources as the death-test child reads them: {"name": entry, ...}.
void hand_to_death_tests(const plugin_state& s) {
  json named = json::object();
  for (const auto& [name, resource] : s.assigned) named[name] = resource.info;
  ::setenv(env::death_test_resource, detail::json_text(named).c_str(), 1);
}

// The parent holds the locks and handed its resources over; locking here would wait for the
// parent, which waits for this child.
void adopt_parent_resources(plugin_state& s) {
  const auto text = internal::env_value(env::death_test_resource);
  if (!text) return;
  const json named = json::parse(*text, nullptr, false);
  if (!named.is_object()) return;
  for (const auto& [name, info] : named.items()) {
    s.assigned[name] = assigned_resource{info, resource_id_text(info), nullptr};
  }
}

// The ids of what `s` holds, for messages: 'b1', 'b1' and 'p1', ...
std::string held_ids(const plugin_state& s) {
  std::string ids;
  for (std::size_t i = 0; i < s.holding.size(); ++i) {
    ids += (i == 0 ? "'" : i + 1 == s.holding.size() ? "' and '" : "', '") + s.holding[i].id;
  }
  return ids.empty() ? "its resources" : ids + "'";
}

// The hold limit, counted from the program's first lock: past it, the listener fails the running
// and remaining tests; a test still running `grace` later is hung and holds resources for
// nothing, so the program ends (the kernel drops a lock folder's lock; an etcd lease expires).
void start_watchdog(plugin_state& s, std::chrono::duration<double> limit) {
  if (s.watchdog.joinable()) return;
  s.hold_limit_passed = false;
  s.watchdog_stop = false;
  // What the messages name: the program's resource, or, as tests lock their own, none by id
  // (the thread must not read `holding`, which the tests' thread changes).
  const std::string what = s.per_test ? "its resources" : held_ids(s);
  s.watchdog = std::thread([&s, limit, what] {
    constexpr auto grace = std::chrono::seconds(5);
    const auto at = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(limit);
    std::unique_lock<std::mutex> guard(s.watchdog_mutex);
    if (s.watchdog_wake.wait_until(guard, at, [&s] { return s.watchdog_stop; })) return;
    s.hold_limit_passed = true;
    say("held " + what + " for --lockable_max_hold=" + seconds_text(limit) +
        ": failing the running and remaining tests");
    if (s.watchdog_wake.wait_until(guard, at + grace, [&s] { return s.watchdog_stop; })) return;
    say("ERROR: a test still runs 5 s after --lockable_max_hold=" + seconds_text(limit) +
        " passed: ending the program to free " + what);
    std::_Exit(1);
  });
}

void stop_watchdog(plugin_state& s) {
  if (!s.watchdog.joinable()) return;
  {
    std::lock_guard<std::mutex> guard(s.watchdog_mutex);
    s.watchdog_stop = true;
  }
  s.watchdog_wake.notify_all();
  s.watchdog.join();
}

// The note of a hold made for failed tests: the program and the failed tests, cut to fit.
std::string failure_note(const outcome& out) {
  std::string note = std::string(program_invocation_short_name) + ": " +
                     std::to_string(out.failed.value_or(0)) + " failed:";
  for (std::size_t listed = 0; listed < out.failed_tests.size(); ++listed) {
    const std::string name = printable(" " + out.failed_tests[listed]);
    if (note.size() + name.size() + 16 > max_hold_note) {
      return note + " and " + std::to_string(out.failed_tests.size() - listed) + " more";
    }
    note += name;
  }
  return note;
}

// The outcome of one test, for the end record of what it held alone.
outcome test_outcome(const ::testing::TestInfo& test) {
  const ::testing::TestResult& result = *test.result();
  outcome out;
  out.passed = out.failed = out.skipped = 0;
  if (result.Skipped()) {
    out.skipped = 1;
  } else if (result.Failed()) {
    out.failed = 1;
    out.failed_tests.push_back(std::string(test.test_suite_name()) + "." + test.name());
  } else {
    out.passed = 1;
  }
  return out;
}

// Ends what `s` holds in `scope` (every scope when null), whose tests ended as `out`: turned into
// a hold when tests failed and --lockable_hold_on_failure asks for one (the resource stays as the
// failing run left it, for a post-mortem), released otherwise. Says which.
void release(plugin_state& s, const char* scope, const outcome& out) {
  if (s.holder_pid != ::getpid()) return;  // a forked child: its parent releases
  const auto& hold_for = s.settings.values.hold_on_failure;
  const bool keep = hold_for && out.failed.value_or(0) > 0 && !s.hold_limit_passed;
  auto& holding = s.holding;
  for (auto it = holding.begin(); it != holding.end();) {
    if (scope != nullptr && std::string(it->scope) != scope) {
      ++it;
      continue;
    }
    const bool lost = !it->lock->held();
    bool kept = false;
    if (keep && !lost) {
      try {
        const std::string note = failure_note(out);
        s.get_lockable().hold(*it->lock, *hold_for, note);
        kept = true;
        const lock_status now = s.get_lockable().store().status(it->id);
        say("kept '" + it->id + "' as a hold until " + now.holder.hold_until +
            " (--lockable_hold_on_failure): " + note + "; lockable --release " + it->id +
            " ends it");
      } catch (const std::exception& e) {
        say(std::string("ERROR: could not keep a hold (") + e.what() + "); releasing");
      }
    }
    if (!kept) {
      it->lock->set_outcome(out);  // for the ledger's end record
      it->lock->unlock();
      say((lost ? "lost '" : "released '") + it->id + "' after holding it " +
          seconds_text(it->lock->duration(), 3));
    }
    it = holding.erase(it);
  }
}

// Locks the program's one resource (no test declares requirements), as before declarations.
void lock_for_program(plugin_state& s) {
  lockable& l = s.get_lockable();
  const std::string prefer = ctest_assigned_resource(l, s.settings.requirements, "", {});
  lock_request request;
  request.prefer = prefer;
  request.priority = s.settings.values.priority;
  auto lock = std::make_unique<allocation>(
      l.lock(s.settings.requirements, s.settings.values.timeout, request));
  const allocation* raw = lock.get();
  s.holding.push_back(
      held_resource{std::move(lock), raw->resource_info(), raw->resource_id(), "program"});
  s.holder_pid = ::getpid();
  s.assigned[""] = assigned_resource{raw->resource_info(), raw->resource_id(), raw};
  hand_to_death_tests(s);
  record_properties("resource_", raw->resource_info());
  if (s.settings.values.max_hold) start_watchdog(s, *s.settings.values.max_hold);
  const int tests = ::testing::UnitTest::GetInstance()->test_to_run_count();
  const std::string& probe = raw->health_note();  // lab health: what ran before hand-out
  if (!probe.empty() && report_asked()) ::testing::Test::RecordProperty("lockable_probe", probe);
  say("holding '" + raw->resource_id() + "' (waited " + seconds_text(raw->queue_time(), 3) +
      (probe.empty() ? "" : "; " + probe) + ") for " + std::to_string(tests) +
      (tests == 1 ? " test" : " tests"));
}

// Gives the test `info` what it declares: resources already held that match (the suite's, kept
// from its earlier tests), and the rest locked together, all or nothing. Throws `error`.
void lock_for_test(plugin_state& s, const ::testing::TestInfo& info) {
  s.assigned.clear();
  const std::vector<need> needs =
      needs_of(info.test_suite_name(), info.name(), s.settings.requirements);
  if (needs.empty()) return;
  lockable& l = s.get_lockable();
  std::vector<bool> used(s.holding.size(), false);
  std::vector<const need*> missing;
  for (const need& n : needs) {
    const query wanted(l.effective_requirements(n.requirements));
    bool found = false;
    for (std::size_t i = 0; i < s.holding.size() && !found; ++i) {
      if (used[i] || !wanted.matches(s.holding[i].info)) continue;
      used[i] = found = true;
      s.assigned[n.name] =
          assigned_resource{s.holding[i].info, s.holding[i].id, s.holding[i].lock.get()};
    }
    if (!found) missing.push_back(&n);
  }
  if (!missing.empty()) {
    lock_request request;
    request.priority = s.settings.values.priority;
    std::vector<allocation> locked;
    if (missing.size() == 1) {
      std::vector<std::string> taken;
      for (const auto& [name, resource] : s.assigned) taken.push_back(resource.id);
      const auto& values = s.settings.values;
      const std::string pool = internal::ctest_pool_name(
          values.resources.value, values.hostname.value, missing.front()->requirements);
      request.prefer = ctest_assigned_resource(l, missing.front()->requirements, pool, taken);
      locked.push_back(l.lock(missing.front()->requirements, values.timeout, request));
    } else {
      std::vector<json> requirements;
      for (const need* n : missing) requirements.push_back(n->requirements);
      locked = l.lock_many(requirements, s.settings.values.timeout, request);
    }
    s.holder_pid = ::getpid();
    for (std::size_t i = 0; i < missing.size(); ++i) {
      auto lock = std::make_unique<allocation>(std::move(locked[i]));
      const allocation* raw = lock.get();
      const std::string& probe = raw->health_note();
      say("holding '" + raw->resource_id() + "' (waited " + seconds_text(raw->queue_time(), 3) +
          (probe.empty() ? "" : "; " + probe) + ") for " +
          (std::string(missing[i]->scope) == "test"
               ? "test " + std::string(info.test_suite_name()) + "." + info.name()
               : "suite " + std::string(info.test_suite_name())));
      s.assigned[missing[i]->name] =
          assigned_resource{raw->resource_info(), raw->resource_id(), raw};
      s.holding.push_back(held_resource{std::move(lock), raw->resource_info(), raw->resource_id(),
                                        missing[i]->scope});
    }
    if (s.settings.values.max_hold) start_watchdog(s, *s.settings.values.max_hold);
  }
  for (const auto& [name, resource] : s.assigned) {
    record_properties(name.empty() ? "resource_" : property_name("resource_", name) + "_",
                      resource.info);
  }
  hand_to_death_tests(s);
}

class lock_environment final : public ::testing::Environment {
 public:
  void SetUp() override {
    plugin_state& s = state();
    s.failure.clear();
    s.skip = false;
    s.per_test = any_declared();
    if (in_death_test_child()) {
      adopt_parent_resources(s);
      return;
    }
    try {
      if (!s.settings.error.empty()) throw error(errc::invalid_argument, s.settings.error);
      if (!declaration_problems().empty()) {
        std::string problems;
        for (const auto& p : declaration_problems()) problems += (problems.empty() ? "" : "; ") + p;
        throw error(errc::invalid_requirements, problems);
      }
      if (!s.per_test) lock_for_program(s);
    } catch (const error& e) {
      fail_all(s, e);
    } catch (const std::exception& e) {
      s.failure = std::string("unexpected error: ") + e.what();
    } catch (...) {  // nothing may escape into GoogleTest
      s.failure = "unexpected error while locking";
    }
    if (s.failure.empty()) return;
    if (report_asked()) ::testing::Test::RecordProperty("lockable_error", s.failure);
    say(s.skip ? s.failure + "; skipping every selected test (--lockable_on_unavailable=skip)"
               : "ERROR: " + s.failure + "; failing every selected test");
  }

  void TearDown() override {
    plugin_state& s = state();
    stop_watchdog(s);
    release(s, nullptr, tests_outcome());
    if (s.holder_pid == ::getpid()) ::unsetenv(env::death_test_resource);
    s.holding.clear();
    s.assigned.clear();
  }

  // Records why no test may run, as a skip when only no resource was there and the policy says so.
  static void fail_all(plugin_state& s, const error& e) {
    const bool no_resource = unavailable(e.code());
    s.skip = no_resource && s.settings.values.on_unavailable == unavailable_policy::skip;
    s.failure = (no_resource ? "no resource: " : "") + message_of(e);
  }
};

class outcome_listener final : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo& info) override {
    if (in_death_test_child()) return;  // the parent already decided this test runs
    plugin_state& s = state();
    lost_at_start_ = s.locks_lost;
    limit_at_start_ = s.hold_limit_passed;
    if (s.hold_limit_passed) {
      fail(limit_message(s) + "; this test did not run");
      return;
    }
    for (const held_resource& h : s.holding) {
      if (h.lock->held()) continue;
      const std::string why = s.lost_since(0);
      fail("the lock on '" + h.id + "' was lost (" + s.get_lockable().store().describe() +
           (why.empty() ? "" : ": " + why) + "); this test did not run");
      return;
    }
    if (!s.failure.empty()) {
      s.skip ? skip(s.failure) : fail(s.failure);
      return;
    }
    if (!s.per_test) return;
    try {
      lock_for_test(s, info);
    } catch (const error& e) {
      const bool no_resource = unavailable(e.code());
      const std::string why = (no_resource ? "no resource: " : "") + message_of(e);
      say((no_resource ? "" : "ERROR: ") + why);
      no_resource&& s.settings.values.on_unavailable == unavailable_policy::skip ? skip(why)
                                                                                 : fail(why);
    } catch (const std::exception& e) {
      fail(std::string("unexpected error: ") + e.what());
    }
  }

  // A lock lost while the test ran: the test did not have the resource to itself all along, so
  // its result cannot be trusted. GoogleTest calls OnTestEnd in reverse order of the listeners,
  // so this failure lands before the console and XML printers report the test.
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (in_death_test_child()) return;
    plugin_state& s = state();
    if (s.hold_limit_passed && !limit_at_start_) fail(limit_message(s) + " while this test ran");
    if (s.locks_lost != lost_at_start_) {
      fail("a lock was lost while this test ran: " + s.lost_since(lost_at_start_));
    }
    if (!s.per_test) return;
    s.assigned.clear();
    release(s, "test", test_outcome(info));
  }

  void OnTestSuiteEnd(const ::testing::TestSuite& suite) override {
    plugin_state& s = state();
    if (in_death_test_child() || !s.per_test) return;
    release(s, "suite",
            tests_outcome([&suite](const ::testing::TestSuite& t) { return &t == &suite; }));
  }

 private:
  std::size_t lost_at_start_ = 0;
  bool limit_at_start_ = false;

  static std::string limit_message(const plugin_state& s) {
    return "the program held " + (s.per_test ? std::string("its resources") : held_ids(s)) +
           " longer than --lockable_max_hold=" +
           seconds_text(s.settings.values.max_hold.value_or(seconds(0)));
  }

  // GoogleTest's own FAIL()/GTEST_SKIP() machinery, naming "gtest_lockable" as the place instead
  // of a source file of ours. Both stop the test before its fixture's SetUp.
  static void fail(const std::string& why) {
    report(why, ::testing::TestPartResult::kFatalFailure);
  }
  static void skip(const std::string& why) { report(why, ::testing::TestPartResult::kSkip); }
  static void report(const std::string& why, ::testing::TestPartResult::Type type) {
    GTEST_MESSAGE_AT_("gtest_lockable", -1, why.c_str(), type);
  }
};

}  // namespace

bool in_death_test_child() { return !GTEST_FLAG_GET(internal_run_death_test).empty(); }

void register_plugin() {
  ::testing::AddGlobalTestEnvironment(new lock_environment);
  ::testing::UnitTest::GetInstance()->listeners().Append(new outcome_listener);
}

}  // namespace gtest_lockable::detail
