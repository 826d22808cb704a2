#pragma once

// The GoogleTest plugin: a test program locks one resource before its first test and releases it
// after its last, chosen by the `--lockable_*` flags (or their LOCKABLE_* environment variables).
//
// Entry points: link `gtest_lockable::main` instead of `GTest::gtest_main`, or call
// `gtest_lockable::init(&argc, argv)` from your own `main` before `RUN_ALL_TESTS()`. Linking
// `gtest_lockable::gtest_lockable` without either changes nothing: no flags, no lock.
//
// `resource_info` is JSON, so this header exposes `nlohmann::json` deliberately.

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

/// The held resource's id; empty when there is none.
const std::string& resource_id();

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
  /// The held resource's id.
  static const std::string& resource_id() { return gtest_lockable::resource_id(); }
  /// The allocation held for this program (an empty one in a death-test child).
  static const gtest_lockable::allocation& allocation();
  /// The program's lockable, to lock more resources within a test.
  static gtest_lockable::lockable& lockable() { return program_lockable(); }
};

}  // namespace gtest_lockable
