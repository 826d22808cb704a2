// Quarantine by hand: a record in the lock store, which every lock of ours reads before it hands
// a resource out (see docs/lab-health.md). Neither mode takes or waits for the lock.
#include "cli/health_modes.hpp"

#include <ostream>

#include "gtest_lockable/internal/settings.hpp"
#include "gtest_lockable/lockable.hpp"

namespace gtest_lockable::cli {

int quarantine_mode(const cli_options& opts, std::ostream& err) {
  lockable locker = internal::make_lockable(opts);
  const lock_status now = locker.quarantine(opts.health_id, opts.reason);
  if (!opts.quiet) {
    err << "lockable: " << printable(opts.health_id + " is " + now.health) << '\n';
    if (now.state != lock_state::free) {
      err << "lockable: "
          << printable(describe(now) +
                       " holds it now; it is not handed out "
                       "again once released")
          << '\n';
    }
  }
  return 0;
}

int unquarantine_mode(const cli_options& opts, std::ostream& err) {
  lockable locker = internal::make_lockable(opts);
  const lock_status was = locker.unquarantine(opts.health_id);
  if (!opts.quiet) {
    err << "lockable: "
        << printable("ended the quarantine of " + opts.health_id + " (was " + was.health + ")")
        << '\n';
  }
  return 0;
}

}  // namespace gtest_lockable::cli
