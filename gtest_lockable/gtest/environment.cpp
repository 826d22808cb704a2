// Locks the program's resource in a testing::Environment and turns a failure to lock into the
// outcome of each selected test.
//
// Why not report the failure from Environment::SetUp itself (see docs/design.md): a FAIL() there
// marks every test skipped, so CTest (gtest_discover_tests' SKIP_REGULAR_EXPRESSION) reports
// Skipped, and a GTEST_SKIP() there exits 0 with no test marked skipped, so CTest reports Passed.
// Instead SetUp records the failure and a listener fails, or skips, each test as it starts: a fatal
// failure or a skip added in OnTestStart stops GoogleTest before the fixture's SetUp and body, and
// the test shows as FAILED (CTest: Failed, exit 1) or SKIPPED (CTest: Skipped, exit 0), in the
// console and in the XML report alike. It needs nothing from `main`, so both entry points behave
// the same.
#include <unistd.h>

#include <errno.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <utility>

#include "gtest_lockable/env.hpp"
#include "gtest_lockable/error.hpp"
#include "gtest_lockable/gtest.hpp"
#include "gtest_lockable/internal/ctest.hpp"
#include "gtest_lockable/internal/json.hpp"
#include "gtest_lockable/internal/settings.hpp"
#include "gtest_lockable/internal/time_format.hpp"
#include "plugin_state.hpp"
#include "test_outcome.hpp"

namespace gtest_lockable::detail {
namespace {

using nlohmann::json;

// XML attribute names allow fewer characters than JSON keys.
std::string property_name(const std::string& key) {
  std::string name = "resource_";
  for (const char c : key) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '-' || c == '.';
    name += plain ? c : '_';
  }
  return name;
}

// Records the resource's fields as `resource_<field>` properties; from Environment::SetUp they
// land on <testsuites> in the XML report, like pytest-lockable's testsuite properties.
void record_properties(const json& resource_info) {
  if (!resource_info.is_object()) return;
  for (const auto& [key, value] : resource_info.items()) {
    ::testing::Test::RecordProperty(property_name(key), value.is_string()
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

// The inventory id of the resource CTest assigned to this test (RESOURCE_GROUPS <pool>:1 sets
// CTEST_RESOURCE_GROUP_0=<pool> and CTEST_RESOURCE_GROUP_0_<POOL>=id:<ctest id>,slots:1, with the
// ids that `lockable --ctest-resources` wrote into the resource spec), or
// empty. Only a preference: the lock store still decides, as another ctest, an IDE run or a
// py-lockable job may hold it.
std::string ctest_assigned_resource(lockable& l, const json& requirements) {
  const char* count = std::getenv("CTEST_RESOURCE_GROUP_COUNT");
  const char* pool = std::getenv("CTEST_RESOURCE_GROUP_0");
  if (count == nullptr || pool == nullptr || std::string(count) == "0") return {};
  std::string variable = std::string("CTEST_RESOURCE_GROUP_0_") + pool;
  for (auto& c : variable) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const char* assigned = std::getenv(variable.c_str());
  if (assigned == nullptr) return {};
  const std::string text = assigned;  // "id:board_a,slots:1"
  if (text.rfind("id:", 0) != 0) return {};
  const std::string wanted = text.substr(3, text.find(',') - 3);
  for (const auto& resource : l.select(requirements)) {
    const std::string id = resource_id_text(resource);
    if (internal::ctest_resource_id(id) == wanted) return id;
  }
  return {};
}

// The hold limit: past it, the listener fails the running and remaining tests; a test still
// running `grace` later is hung and holds the resource for nothing, so the program ends (the
// kernel drops a lock folder's lock; an etcd lease expires).
void start_watchdog(plugin_state& s, std::chrono::duration<double> limit) {
  s.hold_limit_passed = false;
  s.watchdog_stop = false;
  s.watchdog = std::thread([&s, limit] {
    constexpr auto grace = std::chrono::seconds(5);
    const auto at = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(limit);
    std::unique_lock<std::mutex> guard(s.watchdog_mutex);
    if (s.watchdog_wake.wait_until(guard, at, [&s] { return s.watchdog_stop; })) return;
    s.hold_limit_passed = true;
    say("held '" + s.resource_id + "' for --lockable_max_hold=" + seconds_text(limit) +
        ": failing the running and remaining tests");
    if (s.watchdog_wake.wait_until(guard, at + grace, [&s] { return s.watchdog_stop; })) return;
    say("ERROR: a test still runs 5 s after --lockable_max_hold=" + seconds_text(limit) +
        " passed: ending the program to free '" + s.resource_id + "'");
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
std::string failure_note(const ::testing::UnitTest& unit) {
  std::string note = std::string(program_invocation_short_name) + ": " +
                     std::to_string(unit.failed_test_count()) + " failed:";
  int listed = 0;
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const ::testing::TestSuite* suite = unit.GetTestSuite(i);
    for (int j = 0; j < suite->total_test_count(); ++j) {
      const ::testing::TestInfo* test = suite->GetTestInfo(j);
      if (!test->result()->Failed()) continue;
      const std::string name = printable(std::string(" ") + suite->name() + "." + test->name());
      if (note.size() + name.size() + 16 > max_hold_note) {
        return note + " and " + std::to_string(unit.failed_test_count() - listed) + " more";
      }
      note += name;
      ++listed;
    }
  }
  return note;
}

class lock_environment final : public ::testing::Environment {
 public:
  void SetUp() override {
    plugin_state& s = state();
    s.failure.clear();
    s.skip = false;
    if (in_death_test_child()) {
      adopt_parent_resource(s);
      return;
    }
    try {
      if (!s.settings.error.empty()) throw error(errc::invalid_argument, s.settings.error);
      lockable& l = s.get_lockable();
      const std::string prefer = ctest_assigned_resource(l, s.settings.requirements);
      lock_request request;
      request.prefer = prefer;
      request.priority = s.settings.values.priority;
      auto held = std::make_unique<allocation>(
          l.lock(s.settings.requirements, s.settings.values.timeout, request));
      s.resource_info = held->resource_info();
      s.resource_id = held->resource_id();
      s.holder_pid = ::getpid();
      s.held = std::move(held);
      ::setenv(env::death_test_resource, detail::json_text(s.resource_info).c_str(), 1);
      record_properties(s.resource_info);
      if (s.settings.values.max_hold) start_watchdog(s, *s.settings.values.max_hold);
      const int tests = ::testing::UnitTest::GetInstance()->test_to_run_count();
      const std::string& probe = s.held->health_note();  // lab health: what ran before hand-out
      if (!probe.empty()) ::testing::Test::RecordProperty("lockable_probe", probe);
      say("holding '" + s.resource_id + "' (waited " + seconds_text(s.held->queue_time(), 3) +
          (probe.empty() ? "" : "; " + probe) + ") for " + std::to_string(tests) +
          (tests == 1 ? " test" : " tests"));
    } catch (const error& e) {
      const bool no_resource = unavailable(e.code());
      s.skip = no_resource && s.settings.values.on_unavailable == unavailable_policy::skip;
      s.failure = (no_resource ? "no resource: " : "") + message_of(e);
    } catch (const std::exception& e) {
      s.failure = std::string("unexpected error: ") + e.what();
    } catch (...) {  // nothing may escape into GoogleTest
      s.failure = "unexpected error while locking";
    }
    if (s.failure.empty()) return;
    ::testing::Test::RecordProperty("lockable_error", s.failure);
    say(s.skip ? s.failure + "; skipping every selected test (--lockable_on_unavailable=skip)"
               : "ERROR: " + s.failure + "; failing every selected test");
  }

  void TearDown() override {
    plugin_state& s = state();
    stop_watchdog(s);
    const auto* unit = ::testing::UnitTest::GetInstance();
    bool kept = false;
    if (s.held && s.holder_pid == ::getpid() && s.held->held() &&
        s.settings.values.hold_on_failure && unit->failed_test_count() > 0 && !s.hold_limit_passed) {
      // The resource stays as the failing run left it, for a post-mortem.
      try {
        const std::string note = failure_note(*unit);
        s.get_lockable().hold(*s.held, *s.settings.values.hold_on_failure, note);
        kept = true;
        const lock_status now = s.get_lockable().store().status(s.resource_id);
        say("kept '" + s.resource_id + "' as a hold until " + now.holder.hold_until +
            " (--lockable_hold_on_failure): " + note + "; lockable --release " + s.resource_id +
            " ends it");
      } catch (const std::exception& e) {
        say(std::string("ERROR: could not keep a hold (") + e.what() + "); releasing");
      }
    }
    if (s.held && s.holder_pid == ::getpid() && !kept) {
      const bool lost = !s.held->held();
      s.held->set_outcome(tests_outcome());  // for the ledger's end record
      s.held->unlock();
      say((lost ? "lost '" : "released '") + s.resource_id + "' after holding it " +
          seconds_text(s.held->duration(), 3));
      ::unsetenv(env::death_test_resource);
    }
    if (kept) ::unsetenv(env::death_test_resource);
    s.held.reset();
    s.resource_info = nullptr;
    s.resource_id.clear();
  }

 private:
  // The parent holds the lock and handed its resource over; locking here would wait for the
  // parent, which waits for this child.
  static void adopt_parent_resource(plugin_state& s) {
    const auto text = internal::env_value(env::death_test_resource);
    if (!text) return;
    const json info = json::parse(*text, nullptr, false);
    if (info.is_discarded()) return;
    s.resource_info = info;
    s.resource_id = resource_id_text(info);
  }
};

class outcome_listener final : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo&) override {
    if (in_death_test_child()) return;  // the parent already decided this test runs
    plugin_state& s = state();
    lost_at_start_ = s.locks_lost;
    limit_at_start_ = s.hold_limit_passed;
    if (s.hold_limit_passed) {
      fail(limit_message(s) + "; this test did not run");
    } else if (s.held && !s.held->held()) {
      const std::string why = s.lost_since(0);
      fail("the lock on '" + s.resource_id + "' was lost (" + s.get_lockable().store().describe() +
           (why.empty() ? "" : ": " + why) + "); this test did not run");
    } else if (!s.failure.empty()) {
      if (s.skip) {
        skip(s.failure);
      } else {
        fail(s.failure);
      }
    }
  }

  // A lock lost while the test ran: the test did not have the resource to itself all along, so
  // its result cannot be trusted. GoogleTest calls OnTestEnd in reverse order of the listeners,
  // so this failure lands before the console and XML printers report the test.
  void OnTestEnd(const ::testing::TestInfo&) override {
    if (in_death_test_child()) return;
    plugin_state& s = state();
    if (s.hold_limit_passed && !limit_at_start_) fail(limit_message(s) + " while this test ran");
    if (s.locks_lost == lost_at_start_) return;
    fail("a lock was lost while this test ran: " + s.lost_since(lost_at_start_));
  }

 private:
  std::size_t lost_at_start_ = 0;
  bool limit_at_start_ = false;

  static std::string limit_message(const plugin_state& s) {
    return "the program held '" + s.resource_id + "' longer than --lockable_max_hold=" +
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
