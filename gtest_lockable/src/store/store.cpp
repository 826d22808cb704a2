// What every lock store shares: how a lock state reads in a message, the default lock folder,
// and the choice between the lock folder and etcd that both front ends make from their settings.
#include <cstdlib>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/etcd_store.hpp"
#include "gtest_lockable/lock_store.hpp"
#include "src/store/hold_release.hpp"
#include "src/util/time_format.hpp"

namespace gtest_lockable {

std::string describe(const lock_status& status) {
  std::string text = status.resource_id;
  const holder_info& h = status.holder;
  if (!h.note.empty()) return text + " (" + h.note + ")";
  if (!h.hold_until.empty()) {
    text += " (hold";
    if (!h.user.empty()) text += " of " + h.user;
    text += " until " + h.hold_until;
    if (!h.hold_note.empty()) text += ": '" + h.hold_note + "'";
    return text + ")";
  }
  switch (status.state) {
    case lock_state::free:
      return text + " (free)";
    case lock_state::stale:
      text += " (stale";
      break;
    case lock_state::held:
      text += " (held";
      break;
  }
  if (h.pid > 0) text += " by PID " + std::to_string(h.pid);
  if (!h.host.empty()) text += " on " + h.host;
  if (!h.since.empty()) text += " since " + h.since;
  return text + ")";
}

std::string default_lock_folder() {
  const char* tmp = std::getenv("TMPDIR");
  return (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
}

std::unique_ptr<lock_store> open_lock_store(const std::string& lock_folder,
                                            const std::string& lock_server, etcd_options options) {
  if (!lock_server.empty()) return etcd_lock_store(lock_server, std::move(options));
  return lock_folder_store(lock_folder.empty() ? default_lock_folder() : lock_folder);
}

}  // namespace gtest_lockable

namespace gtest_lockable::detail {

void check_hold_release(const lock_status& was, const std::string& id, const std::string& user,
                        bool force) {
  if (was.holder.hold_until.empty() || was.holder.alloc_id.empty()) {
    throw error(errc::not_held, "'" + id + "' has no hold: " + gtest_lockable::describe(was) +
                                    " is a running lock; end that process instead");
  }
  if (was.holder.user != user && !force) {
    throw error(errc::not_permitted,
                "the hold of '" + id + "' is " + was.holder.user + "'s, not " + user +
                    "'s: only its owner may release it; add --force to release it anyway "
                    "(recorded)");
  }
}

nlohmann::json forced_release_record(const lock_status& was, const std::string& user) {
  return {{"at", utc_now_iso8601()},
          {"resource_id", was.resource_id},
          {"by", user},
          {"owner", was.holder.user},
          {"alloc_id", was.holder.alloc_id},
          {"hold_until", was.holder.hold_until},
          {"note", was.holder.hold_note}};
}

}  // namespace gtest_lockable::detail
