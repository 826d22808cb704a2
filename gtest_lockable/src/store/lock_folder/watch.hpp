#pragma once

// How a lock-folder waiter sleeps: inotify on the lock folder (holders unlink on release and
// close when they end, also when killed), on its own queue tickets (touched by the waiter ahead
// when it leaves) and on the tickets of waiters a free resource was kept for (closed when their
// owners leave or die), under a safety poll.

#include <atomic>
#include <chrono>
#include <string>
#include <unordered_set>

namespace gtest_lockable::detail {

/// The wake-ups of one lock folder's waiters.
class folder_watch {
 public:
  /// The safety net under inotify: a waiter also looks this often, whatever it was told.
  static constexpr std::chrono::milliseconds safety_poll{200};

  explicit folder_watch(std::string folder);
  ~folder_watch();
  folder_watch(const folder_watch&) = delete;
  folder_watch& operator=(const folder_watch&) = delete;

  /// Starts watching the lock folder (once).
  void start();

  /// Also wakes `wait` when the queue ticket at `path` is touched (after `start`).
  void watch_ticket(const std::string& path);

  /// Also wakes `wait` when the owner of another waiter's ticket at `path` closes it: it left the
  /// queue or died (after `start`; a no-op before).
  void watch_departure(const std::string& path);
  /// Whether `watch_departure` watches `path` already.
  bool watches_departure(const std::string& path) const { return departures_.count(path) != 0; }

  /// Tells the next `wait` that a look since the last one found a resource held by a process,
  /// rather than only kept for earlier waiters.
  void saw_holder() { saw_holder_ = true; }

  /// Sleeps until something may have changed for this waiter, the safety poll, or `deadline`.
  void wait(std::chrono::steady_clock::time_point deadline);

 private:
  bool drain_events();  // true when one came from a ticket

  std::string folder_;
  int inotify_ = -1;
  int folder_watch_ = -1;
  std::chrono::milliseconds next_look_ = safety_poll;  // how long the next wait may sleep
  std::atomic<bool> saw_holder_{false};
  std::unordered_set<std::string> departures_;  // ticket names are never reused
};

}  // namespace gtest_lockable::detail
