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

#include "gtest_lockable/lock_status.hpp"

namespace gtest_lockable {

/// What a store records about the process taking a lock.
struct lock_owner {
  std::string host;      ///< This host's name.
  std::string alloc_id;  ///< The allocation id.
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
};

}  // namespace gtest_lockable
