#pragma once

// The waiters' queue of a lock folder. Without one, a freed resource goes to whichever waiter
// the scheduler runs first, or back to its releaser when that one locks again at once, so some
// waiters wait many times longer than others. Here a waiter puts a ticket in
// `<folder>/.lockable-queue`, named by its place in line (the time it started waiting, moved
// earlier by its priority: see `lock_owner::queued_at`) and listing the resources it waits for,
// and a free resource is kept for the first live ticket in line that keeps it.
//
// A ticket is live while its owner holds an flock on it (a dead owner's lock is dropped by the
// kernel) and touches it at least every `ticket_stale_after` / 4 (a stopped process holds its lock
// yet must not hold everyone back). Only tickets of the same user count. A waiter that leaves
// touches the ticket next in line for each of its resources, which that waiter watches: one
// wake-up per departure instead of one for every waiter. py-lockable ignores the queue.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "gtest_lockable/extend/lock_store.hpp"

namespace gtest_lockable::detail {

/// A ticket not touched for this long holds nobody back.
constexpr std::chrono::seconds ticket_stale_after{2};

/// The text that orders a caller with `queued_at` among the tickets' names (their first 20
/// characters): the nanoseconds since the epoch, 20 digits. The epoch stands for now.
std::string line_key(std::chrono::system_clock::time_point queued_at);

/// A place in the queue, held open and locked while it is in the queue.
class queue_ticket {
 public:
  queue_ticket(int folder_fd, int fd, std::string name, std::vector<std::string> ids);
  ~queue_ticket();  ///< Leaves the queue (without telling anyone: see `folder_queue::leave`).
  queue_ticket(const queue_ticket&) = delete;
  queue_ticket& operator=(const queue_ticket&) = delete;

  /// The ticket's file name; names order tickets by the time their owners started waiting.
  const std::string& name() const { return name_; }
  /// The resources its owner waits for.
  const std::vector<std::string>& ids() const { return ids_; }
  /// Tells other waiters that the owner is still running (rate-limited; cheap to call often).
  void touch();

 private:
  int folder_fd_;
  int fd_;
  std::string name_;
  std::vector<std::string> ids_;
  std::chrono::steady_clock::time_point touched_;
};

/// The queue in `<folder>/.lockable-queue`.
class folder_queue {
 public:
  explicit folder_queue(const std::string& folder);
  ~folder_queue();
  folder_queue(const folder_queue&) = delete;
  folder_queue& operator=(const folder_queue&) = delete;

  /// The queue's folder.
  const std::string& path() const { return path_; }

  /// Joins the queue for `ids`; with `keep`, a free resource among them is kept for this ticket
  /// while it is the oldest that keeps it. The queue folder is created with the lock folder's
  /// `mode`, so whoever may lock there may queue there. Null when the queue cannot be used:
  /// waiting then works as without one.
  /// The ticket is named by `owner.queued_at`, so that waiters go in order of it.
  std::unique_ptr<queue_ticket> join(const std::vector<std::string>& ids, bool keep, mode_t mode,
                                     const lock_owner& owner);

  /// Leaves the queue and touches the ticket next in line for each of the ticket's resources.
  void leave(std::unique_ptr<queue_ticket> ticket);

  /// Reads which tickets are queued; `ahead_of` answers from this reading.
  void read();

  /// The owner of the oldest live ticket older than `mine` (any, when empty) that keeps `id`;
  /// nothing when there is none. Sets `ticket` to that ticket's name, when given.
  std::optional<holder_info> ahead_of(const std::string& id, const std::string& mine,
                                      std::string* ticket = nullptr);

  /// Whether `mine` is the ticket waiting for `id` that comes next after `ticket`: the one that
  /// `ticket`'s owner wakes when it leaves, and so the one to wake if it dies instead.
  bool next_after(const std::string& id, const std::string& ticket, const std::string& mine);

 private:
  struct wanted {
    bool keep = false;
    std::vector<std::string> ids;
    int priority = 0;       // for messages: the name orders the tickets
    long long since_ns = 0;  // when its owner began to wait (0: unknown)
  };
  // The oldest live ticket after `after` and before `before` (either may be empty: no bound)
  // that waits for `id` (and keeps it, with `keeping`).
  std::optional<std::string> first_waiter(const std::string& id, bool keeping,
                                          const std::string& after, const std::string& before);
  const wanted* wanted_by(const std::string& name, int fd);

  std::string path_;
  int folder_fd_ = -1;                              // the queue folder, as read
  std::vector<std::string> names_;                  // queued tickets, oldest first
  std::unordered_map<std::string, wanted> wanted_;  // what each ticket waits for
};

}  // namespace gtest_lockable::detail
