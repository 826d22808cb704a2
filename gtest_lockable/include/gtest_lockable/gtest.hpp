#pragma once

// The GoogleTest plugin: a test program locks one resource before its first test and releases it
// after its last, chosen by the `--lockable_*` flags (or their LOCKABLE_* environment variables).
// Or its tests declare what they need (GTEST_LOCKABLE_REQUIRE below), and each test holds that.
//
// Entry points: link `gtest_lockable::main` instead of `GTest::gtest_main`, or call
// `gtest_lockable::init(&argc, argv)` from your own `main` before `RUN_ALL_TESTS()`. Linking
// `gtest_lockable::gtest_lockable` without either changes nothing: no flags, no lock.
//
// `resource_info` is JSON, so this header exposes `nlohmann::json` deliberately.

#if __cplusplus < 201703L
#error "gtest_lockable/gtest.hpp needs C++17: link gtest_lockable::gtest_lockable (which asks CMake for C++17) as well as gtest_lockable::main, or compile with -std=c++17"
#endif

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "gtest_lockable/lockable.hpp"

namespace gtest_lockable {

/// Initialises GoogleTest (when not done yet), reads and removes the `--lockable_*` flags from
/// `argv`, and registers the environment that locks a resource when at least one test will run.
/// Call it once from `main`, instead of or after `testing::InitGoogleTest`. It never exits or
/// throws: a bad flag value is reported before the first test, and every selected test fails.
void init(int* argc, char** argv);

/// Whether this process's tests have a resource: one it holds, or (in a death-test child) the one
/// its parent holds.
bool has_resource();

/// The held resource's inventory entry; JSON null when there is none.
const nlohmann::json& resource_info();

/// The inventory entry of the running test's resource called `name` (declared with
/// GTEST_LOCKABLE_REQUIRE_NAMED); JSON null when it has none of that name. `""` is the unnamed one.
const nlohmann::json& resource_info(const std::string& name);

/// The held resource's id; empty when there is none.
const std::string& resource_id();

/// The id of the running test's resource called `name`; empty when it has none of that name.
const std::string& resource_id(const std::string& name);

/// The allocation this process holds, or nullptr (no resource, or a death-test child, whose
/// parent holds the lock).
const allocation* current_allocation();

/// The lockable this program locks with, configured by the flags given to `init` (else by the
/// environment variables and defaults). A test can lock more resources with it for its own scope:
/// `auto extra = gtest_lockable::program_lockable().lock("type=probe", seconds(5));`.
lockable& program_lockable();

/// A fixture base for tests that use the program's resource:
///
/// ```
/// class board_test : public gtest_lockable::resource_test {};
/// TEST_F(board_test, answers) { connect(resource_info()["address"]); }
/// ```
///
/// A test of this fixture fails at once, with a message, when the program holds no resource
/// (it links neither `gtest_lockable::main` nor calls `init`).
class resource_test : public ::testing::Test {
 protected:
  /// Fails the test at once, before its SetUp, when the program holds no resource.
  resource_test();

  /// The held resource's inventory entry.
  static const nlohmann::json& resource_info() { return gtest_lockable::resource_info(); }
  /// The inventory entry of the resource called `name`.
  static const nlohmann::json& resource_info(const std::string& name) {
    return gtest_lockable::resource_info(name);
  }
  /// The held resource's id.
  static const std::string& resource_id() { return gtest_lockable::resource_id(); }
  /// The id of the resource called `name`.
  static const std::string& resource_id(const std::string& name) {
    return gtest_lockable::resource_id(name);
  }
  /// The allocation held for this program (an empty one in a death-test child).
  static const gtest_lockable::allocation& allocation();
  /// The program's lockable, to lock more resources within a test.
  static gtest_lockable::lockable& lockable() { return program_lockable(); }
};

namespace detail {
/// Records a declaration; what the GTEST_LOCKABLE_REQUIRE macros expand to. Never throws: a bad
/// declaration fails the tests it concerns when they run.
bool declare_requirement(const char* suite, const char* test, const char* name,
                         const char* requirements, const char* file, int line) noexcept;
}  // namespace detail

}  // namespace gtest_lockable

// Requirements in code. Each macro goes at namespace scope, after the fixture, and registers
// before main (as TEST does). `requirements` is text, as --lockable_requirements takes it: JSON
// or `key=value&key2=value2`. Suites and tests are named as in TEST/TEST_F/TEST_P; a declaration
// for a parameterized or typed suite covers every instantiation.
//
//   class phone_test : public gtest_lockable::resource_test {};
//   GTEST_LOCKABLE_REQUIRE(phone_test, "os=android");            // every test of phone_test
//   GTEST_LOCKABLE_REQUIRE_NAMED(phone_test, "probe", "type=probe");   // and a probe
//   GTEST_LOCKABLE_REQUIRE_TEST(phone_test, flashes, "os=android&flash=true");  // this test only
//   TEST_F(phone_test, pairs) { use(resource_info(), resource_info("probe")); }
//
// A suite's resources are held from its first selected test to its last; a test's own
// declarations replace its suite's of the same name, and are held for that test only. All the
// resources of one test are locked together, all or nothing. `--lockable_requirements` narrows
// every declaration (a resource must match both). Once any test declares, tests without
// declarations lock nothing. See docs/plugin.md.

/// Every test of `suite` needs a resource matching `requirements`: `resource_info()`.
#define GTEST_LOCKABLE_REQUIRE(suite, requirements) \
  GTEST_LOCKABLE_DECLARE_(suite, "", "", requirements)
/// Every test of `suite` also needs a resource called `name`: `resource_info(name)`.
#define GTEST_LOCKABLE_REQUIRE_NAMED(suite, name, requirements) \
  GTEST_LOCKABLE_DECLARE_(suite, "", name, requirements)
/// The test `suite.test` needs a resource matching `requirements` (instead of its suite's).
#define GTEST_LOCKABLE_REQUIRE_TEST(suite, test, requirements) \
  GTEST_LOCKABLE_DECLARE_(suite, #test, "", requirements)
/// The test `suite.test` needs a resource called `name` (instead of its suite's of that name).
#define GTEST_LOCKABLE_REQUIRE_TEST_NAMED(suite, test, name, requirements) \
  GTEST_LOCKABLE_DECLARE_(suite, #test, name, requirements)

#define GTEST_LOCKABLE_CONCAT_INNER_(a, b) a##b
#define GTEST_LOCKABLE_CONCAT_(a, b) GTEST_LOCKABLE_CONCAT_INNER_(a, b)
#define GTEST_LOCKABLE_DECLARE_(suite, test, name, requirements)                           \
  [[maybe_unused]] static const bool GTEST_LOCKABLE_CONCAT_(gtest_lockable_declared_,      \
                                                            __COUNTER__) =                 \
      ::gtest_lockable::detail::declare_requirement(#suite, test, name, requirements, __FILE__, \
                                                    __LINE__)
