#pragma once

// The keeper of a lock folder hold: a detached process that keeps the hold's flock until the hold
// ends, so that the resource stays busy for py-lockable too (its lock file names a live PID and is
// locked) after the process that made the hold is gone. It ends the hold when its time is up,
// when a release request names it (`<folder>/.<id>.<alloc id>.release`, made by
// `lockable --release`), or on SIGTERM, and releases as a holder does: unlink, then close. Then
// it appends the allocation's end record to the ledger, as a holder does after its release. See
// docs/holds.md.

#include <chrono>
#include <string>

namespace gtest_lockable::detail {

/// What the keeper needs, all prepared before it is forked: the keeper of a multi-threaded
/// program may not allocate.
struct hold_keeper_plan {
  int lock_fd = -1;         ///< The locked lock file; the keeper shares its flock.
  std::string folder;       ///< The lock folder, absolute (the keeper leaves the working folder).
  std::string lock_name;    ///< `<id>.pid`.
  std::string request_name; ///< The release request it obeys: `.<id>.<alloc id>.release`.
  std::string record;       ///< The lock file's second line (JSON), ended by a newline.
  std::chrono::system_clock::time_point until;  ///< When the hold ends by itself.
  /// The ledger file the keeper appends the hold's end record to, absolute; empty: none.
  std::string ledger_path;
  std::string ledger_head;  ///< The end record up to its end time (see `hold_request`).
  std::string ledger_tail;  ///< The end record after the seconds held.
  std::chrono::system_clock::time_point started;  ///< When the allocation began to be held.
};

/// The name of the release request of the hold `alloc_id` of resource `id`.
std::string release_request_name(const std::string& id, const std::string& alloc_id);

/// Starts the keeper (forked twice, in a session of its own, stdio on /dev/null, every other
/// descriptor closed) and returns its PID once it has written it into the lock file. Throws
/// `error` (`errc::lock_store`) when it cannot.
long start_hold_keeper(const hold_keeper_plan& plan);

}  // namespace gtest_lockable::detail
