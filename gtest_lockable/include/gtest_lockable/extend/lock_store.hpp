#pragma once

// For authors of lock stores: the interface a store implements. Users pass a store in
// `options::store` and need only `gtest_lockable/lock_store.hpp` (the stores this library ships).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/lock_status.hpp"

namespace gtest_lockable {

/// What a store records about the process taking a lock.
struct lock_owner {
  std::string host;      ///< This host's name.
  std::string alloc_id;  ///< The allocation id.
  int priority = 0;      ///< The lock call's priority (for messages; `queued_at` has it already).
  /// The caller's place in line: when its lock call began, moved earlier by its priority's head
  /// start. Among the waiters for a resource, the one with the earliest `queued_at` goes first.
  /// The epoch (the default): the caller has no place and lets every waiter go first.
  std::chrono::system_clock::time_point queued_at{};
};

/// A held lock; destroying it releases the lock.
class lock_handle {
 public:
  virtual ~lock_handle() = default;
  /// Releases the lock. Harmless when already released.
  virtual void release() noexcept = 0;
  /// A descriptor that holds the lock for as long as any process keeps it open (so a child
  /// process can keep the lock after its parent dies), or -1 if the store has none.
  virtual int descriptor() const noexcept { return -1; }
  /// False once the store knows the lock was lost (e.g. an expired lease).
  virtual bool valid() const noexcept { return true; }
  /// A number that grows with every lock of this resource, for services that reject a stale
  /// holder (see `allocation::fencing_token`), or 0 if the store gives none.
  virtual std::int64_t fencing_token() const noexcept { return 0; }
};

/// A hold: a lock kept after the process that took it ends, until `until` or a release.
struct hold_request {
  std::chrono::system_clock::time_point until;  ///< When the hold ends by itself.
  std::string note;                             ///< What it is for (one line, checked).
  std::string user;                             ///< Who holds it: this process's user name.
  /// The usage ledger's end record of the allocation, for the store to write when the hold
  /// ends (see docs/ledger.md), or both empty when the allocation is not recorded:
  /// `ledger_head`, the end time, `,"hold":`, the seconds held since `started`, `ledger_tail`.
  std::string ledger_head;
  std::string ledger_tail;                          ///< See `ledger_head`.
  std::chrono::system_clock::time_point started{};  ///< When the allocation began to be held.
};

/// A place in a store's queue of waiters (see `lock_store::enqueue`); leaves it when destroyed.
class wait_ticket {
 public:
  virtual ~wait_ticket() = default;
};

/// Where a store keeps its usage ledger: records of one line of JSON each (see docs/ledger.md).
class ledger_log {
 public:
  virtual ~ledger_log() = default;
  /// Appends `line` (one record, ended by '\n') whole, so that the records of concurrent writers
  /// never interleave. Throws `error` (`errc::lock_store`) when it cannot.
  virtual void append(const std::string& line) = 0;
  /// Calls `part` with every line kept, oldest first, in parts that end between lines (the text
  /// is valid only during the call). `problems` gets a line for each piece that could not be
  /// read; a ledger that does not exist yet is empty, not a problem.
  virtual void read(const std::function<void(std::string_view)>& part,
                    std::vector<std::string>& problems) = 0;
  /// Where the ledger is, for messages (`ledger '/tmp/.lockable-ledger/ledger.jsonl'`).
  virtual std::string describe() const = 0;
};

/// Where a store keeps each resource's health record (see docs/lab-health.md): failed probes and
/// resets, and quarantine, shared by every process of the pool. A record is one JSON text, written
/// and read whole; the core gives it its meaning, a store only keeps it.
class health_records {
 public:
  virtual ~health_records() = default;
  /// The record of resource `id`, or empty when it has none (healthy). Cheap when it has none:
  /// every lock reads it. Throws `error` (`errc::lock_store`) when the store fails.
  virtual std::string read(const std::string& id) = 0;
  /// Replaces the record of `id` by `change(current)` atomically with respect to every other
  /// `update` of it, in any process; an empty result removes the record. Returns the result.
  virtual std::string update(const std::string& id,
                             const std::function<std::string(const std::string&)>& change) = 0;
};

/// Where locks live: a lock folder on this host, or a server shared by many hosts.
class lock_store {
 public:
  virtual ~lock_store() = default;

  /// Takes every lock in `ids` without waiting, all or nothing. On success returns one handle per
  /// id, in order. On failure holds nothing, returns an empty vector and appends to `busy` the
  /// ids found busy with their holders. Throws `error` (`errc::lock_store`) when the store itself
  /// fails.
  virtual std::vector<std::unique_ptr<lock_handle>> try_lock_all(
      const std::vector<std::string>& ids, const lock_owner& owner,
      std::vector<lock_status>& busy) = 0;

  /// Puts the caller in line once it has to wait, so that a resource freed while several
  /// processes wait for it goes to the one that has waited longest, and one that has not waited
  /// does not take it from them. `ids` are the resources it waits for. With `keep`, one freed
  /// while the caller is first in line for it is kept for the caller; without, the caller only
  /// lets earlier waiters go first (a caller that needs several resources at once should not
  /// keep some idle while it waits for the others). `try_lock_all` calls with the same
  /// `owner.alloc_id` then act for this place. Leaves the line when the ticket is destroyed,
  /// which must happen before the store is. A store without a queue returns null (the default).
  virtual std::unique_ptr<wait_ticket> enqueue(const std::vector<std::string>& ids, bool keep,
                                               const lock_owner& owner) {
    (void)ids, (void)keep, (void)owner;
    return nullptr;
  }

  /// Starts watching for releases, so that one happening after this call wakes `wait`. Called
  /// only once a caller has to wait, as watching has a cost.
  virtual void prepare_wait() = 0;

  /// Blocks until a lock may have been released or `deadline` passes (spurious wake-ups are
  /// allowed).
  virtual void wait(std::chrono::steady_clock::time_point deadline) = 0;

  /// Turns `lock`, a lock of resource `id` that this store's `try_lock_all` gave `owner`, into a
  /// hold that outlives this process until `hold.until` or `release_hold`. Afterwards `lock`
  /// holds nothing of it: destroying the handle leaves the hold in place. Throws `error`
  /// (`errc::lock_store`) when the store cannot keep holds (the default) or fails.
  virtual void hold(lock_handle& lock, const std::string& id, const lock_owner& owner,
                    const hold_request& hold) {
    (void)lock, (void)id, (void)owner, (void)hold;
    throw error(errc::lock_store, describe() + " cannot keep holds");
  }

  /// Ends the hold of resource `id` for user `user`, who must be its owner unless `force`; returns
  /// its state as it was. Throws `error`: `errc::not_held` when `id` has no hold (it is free, or
  /// held by a running process), `errc::not_permitted` for another user's hold without `force`.
  virtual lock_status release_hold(const std::string& id, const std::string& user, bool force) {
    (void)user, (void)force;
    throw error(errc::not_held, describe() + " keeps no holds, so '" + id + "' has none");
  }

  /// The state of resource `id`'s lock, without taking it.
  virtual lock_status status(const std::string& id) = 0;

  /// Adds to `busy` (from `try_lock_all`) what a message about it should say that a look does not
  /// need to know; called only to build one. Does nothing by default.
  virtual void explain(std::vector<lock_status>& busy) { (void)busy; }

  /// Where the locks live, for messages (`lock folder /tmp`).
  virtual std::string describe() const = 0;

  /// The store's usage ledger, which keeps about `max_size` bytes of the newest records, or null
  /// when the store keeps none (the default). Opens nothing until it is written or read.
  virtual std::shared_ptr<ledger_log> ledger(std::uint64_t max_size) {
    (void)max_size;
    return nullptr;
  }

  /// The store's health records, or null when it keeps none (the default): probes and resets
  /// still run, but failures are not counted and nothing can be quarantined.
  virtual std::shared_ptr<health_records> health() { return nullptr; }
};

}  // namespace gtest_lockable
