// What every lock store shares: how a lock state reads in a message, the default lock folder,
// and the choice between the lock folder and etcd that both front ends make from their settings.
#include <cstdlib>

#include "gtest_lockable/etcd_store.hpp"
#include "gtest_lockable/lock_store.hpp"

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
