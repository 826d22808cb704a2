#pragma once

// Internal, not a stable API: the settings layer that the `lockable` command and the GoogleTest
// plugin share. It is installed with the public headers only because both front ends are built
// against the installed core too; users should not include it, and it may change in any release.
//
// Every setting is described once, in `setting_specs()`: its name, the command's option, the
// plugin's flag, its environment variable, the default in each front end, its parser and its help
// text. Both front ends resolve through `resolve` (option or flag > variable > default; a variable
// that is set but empty counts as unset), so they report problems in one wording that names the
// source, and build their `lockable` through `make_lockable`. Adding a setting is one entry.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/etcd_store.hpp"
#include "gtest_lockable/lockable.hpp"

namespace gtest_lockable::internal {

/// The two programs that read settings.
enum class front_end {
  command,  ///< The `lockable` command: options such as `--timeout`.
  plugin,   ///< The GoogleTest plugin: flags such as `--lockable_timeout`.
};

/// Reads an environment variable: its value, or nothing when unset.
using env_reader = std::function<std::optional<std::string>(const char* name)>;

/// The value of environment variable `name` as `getenv` gives it (also when empty), or nothing
/// when it is unset.
std::optional<std::string> env_value(const char* name);

/// Parses a duration, the one syntax of every setting that takes one: a number of seconds (`90`,
/// `0.5`), or a number with a unit, `s`, `m` or `h` (`90s`, `15m`, `1.5h`); from 0 up to 10^9
/// seconds. Throws `error` (`errc::invalid_argument`) naming `what` (e.g. `timeout`) and `source`
/// (e.g. `--timeout`) otherwise.
std::chrono::duration<double> parse_duration(std::string_view text, std::string_view what,
                                             std::string_view source);

/// `parse_duration` for the timeout.
std::chrono::duration<double> parse_timeout(std::string_view text, std::string_view source);

/// The highest priority a waiter may have; 0 is the default and the lowest.
inline constexpr int max_priority = 1000;

/// Parses a priority: a whole number from 0 to `max_priority`. Throws `error`
/// (`errc::invalid_argument`) naming `source` otherwise.
int parse_priority(std::string_view text, std::string_view source);

/// What the plugin does when no resource can be locked (nothing matches, or the timeout passed).
enum class unavailable_policy {
  fail,  ///< Every selected test fails; the program exits non-zero.
  skip,  ///< Every selected test is skipped.
};

/// How a value that came from no option and no variable is named in messages.
inline constexpr const char* default_source = "the default";

/// A setting's text and where it came from (`--timeout`, `--lockable_timeout`,
/// `LOCKABLE_TIMEOUT` or `the default`), so that a message about it names the place to fix it.
struct sourced {
  std::string value;   ///< The text as given.
  std::string source;  ///< The option, flag, variable or `default_source` it came from.
};

/// Every setting, resolved. Text settings keep their source for later messages.
struct settings {
  sourced requirements;  ///< JSON or `key=value&...`; parsed by `parse_requirements_setting`.
  sourced resources;     ///< Inventory file or URI; never empty.
  sourced lock_folder;   ///< Lock folder; empty: `default_lock_folder()`.
  sourced lock_server;   ///< etcd URI; empty: the lock folder is the store.
  sourced hostname;      ///< Host name; empty: this host's name.
  std::chrono::duration<double> timeout{0};  ///< How long to wait for a resource.
  unavailable_policy on_unavailable = unavailable_policy::fail;  ///< Plugin only.
  int priority = 0;  ///< Among waiters, higher goes first (0-`max_priority`).
  /// The longest the command (the test program) may hold its resource; none: no limit.
  std::optional<std::chrono::duration<double>> max_hold;
  /// Plugin only: when a test failed, keep the resource as a hold for this long; none: release.
  std::optional<std::chrono::duration<double>> hold_on_failure;
  bool ledger = true;                     ///< Record allocations in the usage ledger.
  std::uint64_t ledger_size = 16u << 20;  ///< Bytes of records the ledger keeps.
  int quarantine_after = 3;  ///< Consecutive failed probes or resets that quarantine a resource.
  std::chrono::duration<double> recheck_every{600.0};  ///< How often a quarantine is re-checked.
  sourced health_defaults;  ///< File of probes and resets by requirement; empty: none.
};

/// How one setting appears in one front end.
struct front_end_face {
  /// The option or flag (`--timeout`, `--lockable_timeout`); null: not in this front end.
  const char* option;
  /// The value's name in help (`SECONDS`).
  const char* metavar;
  /// The default's text, computed when needed (the plugin's lock folder depends on TMPDIR).
  std::string (*fallback)();
  /// The default as help shows it; null: `fallback()` quoted.
  const char* shown;
};

/// One setting, described once for both front ends.
struct setting_spec {
  const char* name;        ///< Its name (`timeout`).
  const char* variable;    ///< Its environment variable (from `env.hpp`).
  front_end_face command;  ///< In the `lockable` command.
  front_end_face plugin;   ///< In the GoogleTest plugin.
  const char* help;        ///< What it does, one paragraph for both front ends' help.
  /// Checks `value` and stores it in `out`. Throws `error` with a message naming
  /// `value.source`.
  void (*store)(settings& out, const sourced& value);
};

/// Every setting, in the order help lists them.
const std::vector<setting_spec>& setting_specs();

/// The face of `spec` in front end `which`.
const front_end_face& face_of(const setting_spec& spec, front_end which);

/// The default of `spec` in `which` as help shows it (`none`, `1`, `'/tmp'`, ...).
std::string shown_default(const setting_spec& spec, front_end which);

/// The settings and every problem found resolving them, in `setting_specs()` order.
struct resolution {
  settings values;              ///< What resolved; a setting with a problem keeps its default.
  std::vector<error> problems;  ///< One error per bad value, each naming its source.
};

/// Resolves every setting of front end `which`: the value in `given` (keyed by the setting's
/// name, as the front end parsed it from its command line) wins over the variable read with
/// `getenv` (set but empty counts as unset), which wins over the front end's default.
/// Settings the front end does not have keep their default. Never throws for a bad value.
resolution resolve(front_end which, const std::map<std::string, std::string>& given,
                   const env_reader& getenv);

/// The requirements setting, parsed. Throws `error` (`errc::invalid_requirements`) whose message
/// starts with the option or variable the text came from (`--requirements: invalid ...`).
nlohmann::json parse_requirements_setting(const sourced& requirements);

/// The host name that `s` selects: its `hostname`, or this host's name when that is empty.
std::string effective_hostname(const settings& s);

/// `e.what()` and, when a setting is to blame, how to fix it with front end `which`'s option for
/// it ("... (give the inventory file with --lockable_resources)").
std::string message_of(const error& e, front_end which);

/// `text` word-wrapped to `width` columns and ended by a newline. The first line continues a line
/// that already holds `first_at` characters (padded to `column` when shorter); the other lines
/// are indented to `column`. A word longer than a line stays whole, and so does a part in square
/// brackets (`[LOCKABLE_TIMEOUT; default: 10]`).
std::string wrap(std::string_view text, std::size_t column, std::size_t first_at,
                 std::size_t width = 80);

/// What a front end adds to the `lockable` that `make_lockable` builds.
struct lockable_hooks {
  /// The etcd store's options (its `on_lost` callback); unused with a lock folder.
  etcd_options etcd;
  /// Called with a line when a lock call has waited a while; may be empty.
  std::function<void(const std::string&)> on_wait;
  /// Called once with a line when the ledger cannot be written; may be empty.
  std::function<void(const std::string&)> on_warning;
  /// Wraps the store chosen from the settings (the command makes it interruptible); may be
  /// empty.
  std::function<std::shared_ptr<lock_store>(std::shared_ptr<lock_store>)> wrap_store;
};

/// The `lockable` that `s` describes: its inventory, its host name, and its lock store (etcd when
/// `lock_server` is set, else the lock folder). Nothing is locked, read or created yet. Throws
/// `error` (`errc::invalid_argument`) for a malformed lock server URI.
lockable make_lockable(const settings& s, lockable_hooks hooks = {});

}  // namespace gtest_lockable::internal
