#pragma once

// What the plugin knows during a test program's run (internal to the plugin).

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "flags.hpp"
#include "gtest_lockable/lockable.hpp"

namespace gtest_lockable::detail {

/// A resource the program holds.
struct held_resource {
  std::unique_ptr<allocation> lock;
  nlohmann::json info;  ///< Its inventory entry.
  std::string id;
  /// "program" (held for every test), "suite" (until the running suite ends) or "test".
  const char* scope;
};

/// A resource a test uses, by the name it gave it ("" for the unnamed one).
struct assigned_resource {
  nlohmann::json info;
  std::string id;
  const allocation* lock = nullptr;  ///< Null in a death-test child: its parent holds the lock.
};

struct plugin_state {
  bool initialized = false;  ///< `init` ran (so the environment is registered).
  plugin_settings settings;  ///< From the flags given to `init`.

  std::mutex lockable_mutex;           ///< Guards creating `locker` (tests may run threads).
  std::unique_ptr<lockable> locker;    ///< Created when first needed, never before the tests.
  std::vector<held_resource> holding;  ///< What this process holds now.
  pid_t holder_pid = 0;                ///< The process that locked `holding`.
  /// The resources of the running test (or, without declarations, of the program), by name.
  std::map<std::string, assigned_resource> assigned;
  bool per_test = false;  ///< Tests declare requirements: each test holds what it declares.

  std::string failure;  ///< Why the selected tests have no resource; empty when they have one.
  bool skip = false;    ///< Skip (rather than fail) the tests because of `failure`.

  /// How many locks the lock server reported lost. Counted by the store's background thread,
  /// which only signals; the listener reads it between tests and fails them.
  std::atomic<std::size_t> locks_lost{0};
  std::mutex lost_mutex;                  ///< Guards `lost_reasons`.
  std::vector<std::string> lost_reasons;  ///< Why, in order; appended before `locks_lost` grows.
  /// Lost-lock reasons from number `first` on, joined by "; ".
  std::string lost_since(std::size_t first);

  /// Set by the hold limit's watchdog once the program has held its resource for
  /// `--lockable_max_hold`; the listener then fails the running and the remaining tests.
  std::atomic<bool> hold_limit_passed{false};
  std::mutex watchdog_mutex;  ///< Guards `watchdog_stop`.
  std::condition_variable watchdog_wake;
  bool watchdog_stop = false;  ///< TearDown ends the watchdog.
  std::thread watchdog;        ///< Runs while a hold limit applies.

  /// The program's lockable, created from `settings` on first use. Throws `error`.
  lockable& get_lockable();

  /// The running test's resource called `name`, or null.
  const assigned_resource* find(const std::string& name) const;
};

/// The plugin's state. Deliberately never destroyed: a forked child that calls exit() (a
/// fast-style death test, a test's own fork) must not release, and so unlink, the lock file that
/// its parent still holds. The lock is released explicitly after the last test.
plugin_state& state();

/// Whether this process is a threadsafe-style death-test child (GoogleTest re-runs the program
/// with --gtest_internal_run_death_test).
bool in_death_test_child();

/// Prints one line of ours in GoogleTest's console output, tagged `[ LOCKABLE ]`.
void say(const std::string& line);

/// Prints, for --lockable_list_requirements, what each test of the program needs as one JSON
/// document on stdout, and returns the exit status: 0, or 1 after a line on stderr when a
/// declaration or a flag is bad.
int list_requirements();

/// Registers the environment that locks and the listener that fails or skips tests without a
/// resource. Called once by `init`.
void register_plugin();

}  // namespace gtest_lockable::detail
