#pragma once

// What a lock store says about a resource's lock: `lockable::status`, `lockable --status`, the
// holders named in a timeout.

#include <string>

namespace gtest_lockable {

/// The state of one resource's lock, as `lockable --status` shows it.
enum class lock_state {
  free,   ///< Nobody holds it.
  held,   ///< A live process holds it.
  stale,  ///< A record of a holder is left but the holder is gone; the next lock takes it over.
};

/// Who holds (or held) a lock, as far as the store can tell. Empty fields are unknown.
struct holder_info {
  long pid = 0;          ///< Process id of the holder (0: unknown).
  std::string host;      ///< Host the holder runs on.
  std::string alloc_id;  ///< The holder's allocation id (our processes record it).
  std::string since;     ///< When the lock was taken, ISO 8601 UTC.
  std::string note;      ///< Anything else worth saying (e.g. "lock file is a symlink").
  std::string user;      ///< The user that took it, when recorded.
  std::string hold_until;  ///< For a hold: when it ends, ISO 8601 UTC. Empty: not a hold.
  std::string hold_note;   ///< For a hold: what it is for, as its owner said.
};

/// A resource's lock state with its holder.
struct lock_status {
  std::string resource_id;              ///< The resource.
  lock_state state = lock_state::free;  ///< Its state.
  holder_info holder;                   ///< Who holds it (for `held` and `stale`).
  /// Its health (see docs/lab-health.md): "ok", "failing 2 of 3: probe exited with status 1",
  /// "quarantined by alice@lab since ...: why"; empty when it has no probe or reset and no record.
  std::string health;
  bool quarantined = false;   ///< Never handed out while true.
  std::string health_output;  ///< The tail of the last failed probe's or reset's output.
};

/// One line describing `status` for messages: `board1 (held by PID 42 on host a since ...)`.
std::string describe(const lock_status& status);

}  // namespace gtest_lockable
