#pragma once

#include <signal.h>

#include <array>
#include <memory>
#include <optional>

#include "gtest_lockable/extend/lock_store.hpp"

namespace gtest_lockable::cli {

/// A signal as the self-pipe reports it, or the news that a held lock was lost.
struct signal_event {
  int number = 0;              ///< The signal number; 0 for `post_lock_lost`.
  bool from_terminal = false;  ///< Sent by the kernel (a terminal's ^C or hang-up), not kill(2).
  /// Whether this is `post_lock_lost`'s event rather than a signal.
  bool lock_lost() const { return number == 0; }
};

/// Catches SIGINT, SIGTERM and SIGHUP (and SIGCHLD after `watch_children`) into a self-pipe, so
/// that a poll(2) loop sees every one of them without races. A signal that was ignored when
/// `lockable` started stays ignored (as `nohup` expects). One instance per process.
class signal_pipe {
 public:
  /// Creates the pipe and installs the handlers. Throws `std::system_error`.
  signal_pipe();
  /// Restores the dispositions found at construction.
  ~signal_pipe();
  signal_pipe(const signal_pipe&) = delete;
  signal_pipe& operator=(const signal_pipe&) = delete;

  /// Also reports SIGCHLD, so that a child's end wakes `next`.
  void watch_children();
  /// Reports a lost lock to `next` (an event whose `lock_lost()` is true). Callable from any
  /// thread, e.g. a lock store's `on_lost` callback, while the instance exists; async-signal-safe.
  static void post_lock_lost() noexcept;
  /// The next event, waiting up to `timeout_ms` (-1: until one comes); nothing when none came or
  /// the wait was interrupted.
  std::optional<signal_event> next(int timeout_ms);
  /// Holds SIGINT, SIGTERM and SIGHUP back (they stay pending) until `unblock`.
  void block();
  /// Delivers the signals held back by `block`.
  void unblock();
  /// For a forked child before exec: the dispositions and signal mask `lockable` started with.
  /// Async-signal-safe.
  void reset_in_child() const noexcept;

 private:
  static constexpr std::array<int, 4> caught_ = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};
  int read_fd_ = -1;
  std::array<struct sigaction, 4> original_{};
  sigset_t original_mask_{};
};

/// Thrown out of a lock call when SIGINT, SIGTERM or SIGHUP arrives while it waits.
struct interrupted {
  int signal;  ///< The signal that arrived.
};

/// `inner`, except that a signal reported by `signals` makes a waiting lock call give up by
/// throwing `interrupted` (before it takes anything); one that arrives while the store itself
/// waits for a release (holding nothing) ends the process at once with 128+N.
std::shared_ptr<lock_store> interruptible(std::shared_ptr<lock_store> inner, signal_pipe& signals);

}  // namespace gtest_lockable::cli
