#pragma once

// What the plugin knows during a test program's run (internal to the plugin).

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "flags.hpp"
#include "gtest_lockable/lockable.hpp"

namespace gtest_lockable::detail {

struct plugin_state {
  bool initialized = false;  ///< `init` ran (so the environment is registered).
  plugin_settings settings;  ///< From the flags given to `init`.

  std::mutex lockable_mutex;         ///< Guards creating `locker` (tests may run threads).
  std::unique_ptr<lockable> locker;  ///< Created when first needed, never before the tests.
  std::unique_ptr<allocation> held;  ///< The program's resource, while held.
  pid_t holder_pid = 0;              ///< The process that locked `held`.
  nlohmann::json resource_info;      ///< Of `held`, or the death-test parent's resource.
  std::string resource_id;           ///< Its id.

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
  std::mutex watchdog_mutex;          ///< Guards `watchdog_stop`.
  std::condition_variable watchdog_wake;
  bool watchdog_stop = false;         ///< TearDown ends the watchdog.
  std::thread watchdog;               ///< Runs while a hold limit applies.

  /// The program's lockable, created from `settings` on first use. Throws `error`.
  lockable& get_lockable();
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

/// Registers the environment that locks and the listener that fails or skips tests without a
/// resource. Called once by `init`.
void register_plugin();

}  // namespace gtest_lockable::detail
