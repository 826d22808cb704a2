#include "src/store/lock_folder/watch.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>

namespace gtest_lockable::detail {
namespace {

using clock = std::chrono::steady_clock;

// A wake-up can come a moment before the release it announces is visible: the kernel reports
// the close of a killed holder's descriptor before it drops the flock, and the holder's PID stays
// alive until the process is a zombie. So after a wake-up that found a resource still held the
// waiter looks again after 1, 2, 4, ... ms, until the safety poll takes over.
constexpr std::chrono::milliseconds first_recheck{1};

}  // namespace

folder_watch::folder_watch(std::string folder) : folder_(std::move(folder)) {}

folder_watch::~folder_watch() {
  if (inotify_ >= 0) ::close(inotify_);
}

void folder_watch::start() {
  if (inotify_ >= 0) return;
  inotify_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_ < 0) return;  // the safety poll still works
  // Waiters probe read-only, so their looks do not wake each other.
  const uint32_t events = IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO;
  folder_watch_ = ::inotify_add_watch(inotify_, folder_.c_str(), events);
  if (folder_watch_ < 0) {
    ::close(inotify_);
    inotify_ = -1;
  }
}

// The watch goes away by itself when the ticket is deleted.
void folder_watch::watch_ticket(const std::string& path) {
  if (inotify_ >= 0) ::inotify_add_watch(inotify_, path.c_str(), IN_ATTRIB | IN_DONT_FOLLOW);
}

// Only the ticket's owner has it open for writing, so its close is the owner leaving or dying.
// The watch goes away when the ticket is deleted.
void folder_watch::watch_departure(const std::string& path) {
  if (inotify_ >= 0 &&
      ::inotify_add_watch(inotify_, path.c_str(), IN_CLOSE_WRITE | IN_DONT_FOLLOW) >= 0) {
    departures_.insert(path);
  }
}

// A waiter that saw a resource held wakes for releases, and looks again soon after one. A waiter
// whose resources are all kept for earlier waiters only wakes when the one ahead of it leaves the
// queue (and touches its ticket) or dies (closing its own): releases are theirs to take, and a
// crowd of waiters woken by each release would slow down the one whose turn it is.
void folder_watch::wait(clock::time_point deadline) {
  const bool held = saw_holder_.exchange(false);
  const auto until = std::min(deadline, clock::now() + (held ? next_look_ : safety_poll));
  while (true) {
    const auto now = clock::now();
    if (now >= until) break;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
    if (inotify_ < 0) {
      ::poll(nullptr, 0, static_cast<int>(ms));
      break;
    }
    pollfd pfd{inotify_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(ms));
    if (ready < 0) return;  // a signal: let the caller see it
    if (ready == 0) break;
    if (drain_events() || held) {
      next_look_ = first_recheck;
      return;
    }
  }
  next_look_ = std::min<std::chrono::milliseconds>(next_look_ * 2, safety_poll);
}

bool folder_watch::drain_events() {
  bool from_queue = false;
  alignas(inotify_event) char buffer[4096];
  ssize_t n;
  while ((n = ::read(inotify_, buffer, sizeof buffer)) > 0) {
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      from_queue = from_queue || event->wd != folder_watch_;
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
  return from_queue;
}

}  // namespace gtest_lockable::detail
