#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/inventory.hpp"
#include "gtest_lockable/lock_store.hpp"
#include "gtest_lockable/query.hpp"
#include "gtest_lockable/requirements.hpp"

namespace gtest_lockable {

/// Seconds, fractions allowed; `std::chrono::seconds(5)` converts implicitly.
using seconds = std::chrono::duration<double>;

/// The longest note a hold may have, in bytes.
inline constexpr std::size_t max_hold_note = 500;
/// The longest a hold may last: 30 days.
inline constexpr seconds max_hold_duration{30.0 * 24 * 3600};

/// Checks what `lockable::hold` would check of a hold: a duration above 0 and at most
/// `max_hold_duration`, a note of at most `max_hold_note` bytes without control characters.
/// Throws `error` (`errc::invalid_argument`) naming what is wrong.
void check_hold_request(seconds duration, const std::string& note);
namespace detail {
struct ledger_entry;
struct reset_task;
}

/// What the holder did with an allocation, for the usage ledger (see docs/ledger.md). Every field
/// is optional; the `lockable` command sets the exit status or signal of its command, the
/// GoogleTest plugin the test counts.
struct outcome {
  std::optional<int> exit_status;         ///< The command's exit status.
  std::optional<int> signal;              ///< The signal that ended the command.
  std::optional<int> passed;              ///< Tests that passed.
  std::optional<int> failed;              ///< Tests that failed.
  std::optional<int> skipped;             ///< Tests that were skipped.
  std::vector<std::string> failed_tests;  ///< Their names (the ledger keeps the first 20).
};

/// One held resource. Move-only; it releases the resource when destroyed, so a scope that holds
/// an `allocation` holds the resource. A moved-from allocation holds and releases nothing.
class allocation {
 public:
  allocation() = default;
  ~allocation() { unlock(); }
  allocation(allocation&&) noexcept = default;
  /// Releases what this allocation holds, then takes over `other`'s resource.
  allocation& operator=(allocation&& other) noexcept;
  allocation(const allocation&) = delete;
  allocation& operator=(const allocation&) = delete;

  /// The requirements the resource was chosen by (defaults applied).
  const nlohmann::json& requirements() const noexcept { return requirements_; }
  /// The resource's inventory entry.
  const nlohmann::json& resource_info() const noexcept { return resource_info_; }
  /// The resource's id in text form.
  const std::string& resource_id() const noexcept { return resource_id_; }
  /// A unique id of this allocation (a random UUID).
  const std::string& alloc_id() const noexcept { return alloc_id_; }
  /// How long the lock call waited before this resource was held.
  std::chrono::steady_clock::duration queue_time() const noexcept { return queue_time_; }
  /// When the resource was taken.
  std::chrono::system_clock::time_point start_time() const noexcept { return start_time_; }
  /// When the resource was released; empty while held.
  std::optional<std::chrono::system_clock::time_point> release_time() const noexcept {
    return release_time_;
  }
  /// How long the resource has been held: until now, or until its release.
  std::chrono::steady_clock::duration duration() const noexcept;
  /// Whether the resource is still held (false after `unlock`, and if the store lost the lock).
  bool held() const noexcept;
  /// A descriptor that keeps the lock while open (see `lock_handle::descriptor`), or -1.
  int descriptor() const noexcept { return lock_ ? lock_->descriptor() : -1; }
  /// The lock's fencing token: with the etcd store, the etcd revision that created its key, which
  /// is higher for every later lock of the resource. A service that keeps the highest token it
  /// has seen and refuses lower ones rejects a holder that was paused (SIGSTOP, a suspended VM)
  /// past its lease while another took the resource. 0 with the lock folder, which needs none:
  /// a paused holder keeps its flock, so nobody else can take the resource meanwhile.
  std::int64_t fencing_token() const noexcept { return lock_ ? lock_->fencing_token() : 0; }
  /// Releases the resource. Harmless when already released.
  void unlock() noexcept;
  /// The allocation as JSON (ids, requirements, resource_info, times in seconds), for reports.
  nlohmann::json to_json() const;
  /// Records what the holder did with the resource; the ledger's end record, written when the
  /// allocation is released, carries it.
  void set_outcome(outcome result);
  /// What the lock call ran on the resource before handing it out ("probe passed in 0.12 s"), or
  /// empty when it has no probe (see docs/lab-health.md).
  const std::string& health_note() const noexcept { return health_note_; }

 private:
  friend class lockable;
  nlohmann::json requirements_;
  nlohmann::json resource_info_;
  std::string resource_id_;
  std::string alloc_id_;
  std::chrono::steady_clock::duration queue_time_{};
  std::chrono::system_clock::time_point start_time_{};
  std::chrono::steady_clock::time_point held_since_{};
  std::optional<std::chrono::system_clock::time_point> release_time_;
  std::chrono::steady_clock::duration held_for_{};
  std::unique_ptr<lock_handle> lock_;
  std::shared_ptr<detail::ledger_entry> ledger_;  // its start record's, while one was written
  std::shared_ptr<detail::reset_task> reset_;     // run before the release, while still held
  std::string health_note_;
};

/// How a `lockable` finds resources and where it keeps their locks.
struct options {
  /// The host name merged into requirements as `hostname`; empty: this host's name.
  std::string hostname;
  /// The inventory: a file path or an http(s) URI. Ignored when `inventory` is set.
  std::string resources = "resources.json";
  /// The lock folder; empty: `default_lock_folder()`. Ignored when `store` is set.
  std::string lock_folder;
  /// An inventory provider to use instead of `resources` (e.g. `memory_inventory`).
  std::shared_ptr<inventory_provider> inventory;
  /// A lock store to use instead of the lock folder.
  std::shared_ptr<lock_store> store;
  /// Called once when a lock call has waited `wait_notice_after`, with a line naming the busy
  /// candidates and their holders.
  std::function<void(const std::string&)> on_wait;
  /// How long a lock call waits before `on_wait` is called.
  seconds wait_notice_after{1.0};
  /// Record every allocation in the lock store's usage ledger (see docs/ledger.md).
  bool ledger = true;
  /// How many bytes of the newest records the ledger keeps (lock folder: two files of half that).
  std::uint64_t ledger_size = 16u << 20;
  /// Called once with a line when the ledger cannot be written; locking goes on without it.
  /// Also called with a line for each failed reset.
  std::function<void(const std::string&)> on_warning;
  /// After how many consecutive failed probes or resets a resource is quarantined (1-1000).
  int quarantine_after = 3;
  /// How often a lock call that would wait may check an automatically quarantined resource
  /// again (its probe, or its reset when it has no probe); a pass ends the quarantine.
  seconds recheck_every{600.0};
  /// Probes and resets for the entries without a `health` field of their own: a JSON array of
  /// `{"match": requirements, "probe": [argv], "reset": [argv], "timeout": s}`, the first whose
  /// requirements an entry matches applies (see docs/lab-health.md). Null: none.
  nlohmann::json health_defaults;
  /// Where `health_defaults` came from, for messages (a file name).
  std::string health_defaults_source = "(options)";
};

/// How a lock call goes about it, beyond what it locks and how long it waits.
struct lock_request {
  /// The id of a resource to try first (e.g. the one CTest assigned); any other matching
  /// resource is taken when it is busy. Empty: none.
  std::string prefer;
  /// Priority among the callers waiting for the same resources, from 0 (the default) to 1000.
  /// A freed resource goes to the waiter that counts as having waited longest, each priority
  /// point counting as `priority_step` of waiting: waiters of one priority go in the order they
  /// came, and one of priority p is passed only by those of a priority q > p that come less than
  /// (q - p) * `priority_step` after it (see docs/holds.md).
  int priority = 0;
  /// What one priority point is worth; one minute unless a test needs it shorter.
  seconds priority_step{60.0};
};

/// Counters over all allocations made by one `lockable`.
struct statistics {
  std::size_t allocations = 0;  ///< Resources handed out.
  std::size_t failures = 0;     ///< Lock calls that ended without a resource.
  seconds total_wait{0};        ///< Sum of the queue times.
  seconds longest_wait{0};      ///< The longest queue time.
};

/// Locks resources from an inventory, exclusively among all processes that share the lock store.
///
/// ```
/// gtest_lockable::options opts;
/// opts.resources = "resources.json";
/// gtest_lockable::lockable lockable(opts);
/// auto board = lockable.lock("type=board", gtest_lockable::seconds(10));
/// use(board.resource_info()["address"]);  // released when `board` goes out of scope
/// ```
class lockable {
 public:
  /// Creates a lockable; nothing is read or locked until the first call that needs it.
  explicit lockable(options opts = {});
  ~lockable();
  lockable(lockable&&) noexcept;
  lockable& operator=(lockable&&) noexcept;

  /// Locks one resource matching `requirements` (JSON, or text: see `lock_requirements`;
  /// defaults merged in), waiting up to `timeout` (0: one pass), as `request` asks. Throws
  /// `error`: `no_match` at once when nothing in the inventory matches, `timeout` naming the busy
  /// candidates and their holders, `invalid_*` for bad input. Waiters on one lock folder take a
  /// freed resource in the order they started waiting.
  allocation lock(const lock_requirements& requirements, seconds timeout = seconds(0),
                  const lock_request& request = {});

  /// Locks one distinct resource for each element of `requirements`, all or nothing: while it
  /// waits it holds none of them. The result is in the order of `requirements`.
  /// `request.prefer` is not used.
  std::vector<allocation> lock_many(const std::vector<nlohmann::json>& requirements,
                                    seconds timeout = seconds(0), const lock_request& request = {});

  /// Turns `held` into a hold: its resource stays locked after this process ends, for `duration`
  /// from now or until `release_hold`, with `note` (at most `max_hold_note` bytes, no control
  /// characters) and this user's name for `status` to show. `held` holds nothing afterwards.
  /// Throws `error`: `invalid_argument` for a bad duration or note (`held` then still holds),
  /// `lock_store` when the store cannot keep holds.
  void hold(allocation& held, seconds duration, const std::string& note);

  /// Ends the hold of resource `id`, which must be this user's unless `force`; returns its state
  /// as it was. Throws `error`: `not_held` (no hold: free, or a running lock), `not_permitted`
  /// (another user's, without `force`), `invalid_argument` (an id that cannot name a resource).
  lock_status release_hold(const std::string& id, bool force = false);

  /// Releases `alloc` (the same as `alloc.unlock()`).
  void unlock(allocation& alloc) noexcept { alloc.unlock(); }

  /// The inventory entries that `requirements` select (defaults merged in), in inventory order,
  /// without locking anything.
  std::vector<nlohmann::json> select(const nlohmann::json& requirements);

  /// The lock state of every entry that `requirements` select, in inventory order.
  std::vector<lock_status> status(const nlohmann::json& requirements);

  /// `requirements` with this lockable's defaults (`hostname`, `online`) merged in.
  nlohmann::json effective_requirements(const nlohmann::json& requirements) const;

  /// Counters over the allocations made so far.
  statistics stats() const;

  /// The lock store in use.
  lock_store& store();

  /// The host name merged into requirements.
  const std::string& hostname() const;

  /// The lock store's ledger, or null when the store keeps none.
  std::shared_ptr<ledger_log> ledger();

  /// How many bytes the ledger keeps (`options::ledger_size`).
  std::uint64_t ledger_size() const;

  /// Quarantines resource `id` (an inventory entry) by hand, with `reason` (one line, at most 500
  /// bytes): no lock call hands it out until `unquarantine`. Returns its state afterwards. Throws
  /// `error`: `no_match` for an id not in the inventory, `invalid_argument` for a bad reason,
  /// `lock_store` when the store keeps no health records.
  lock_status quarantine(const std::string& id, const std::string& reason);

  /// Ends the quarantine of `id` (manual or automatic) and forgets its failures; returns its
  /// state as it was. Throws `error`: `no_match` (not in the inventory), `not_held` (not
  /// quarantined), `lock_store`.
  lock_status unquarantine(const std::string& id);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace gtest_lockable
