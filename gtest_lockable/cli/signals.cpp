// Signals through a self-pipe: the handler only writes one byte, and every decision is taken in
// ordinary code that polls the pipe, so no signal is lost between a check and a wait. The one
// exception is a lock call waiting inside its store, see `waiting_in_store`.
#include "cli/signals.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <system_error>

#include "cli/exit_codes.hpp"

namespace gtest_lockable::cli {
namespace {

volatile sig_atomic_t write_fd = -1;

// True while a lock call waits inside its store for a release. Nothing is held then (a lock call
// holds nothing while it waits), so a termination signal can end the process at once, from the
// handler. It must: the etcd store waits in a blocking HTTP read that retries on EINTR, so the
// pipe would only be looked at when the wait ends, seconds later. The etcd store's spare lease
// (no keys on it) then expires by itself.
std::atomic<bool> waiting_in_store{false};
static_assert(std::atomic<bool>::is_always_lock_free, "used in a signal handler");

// One byte per signal: the number in the low 7 bits, bit 7 set when the kernel sent it (a
// terminal's ^C or hang-up reaches the whole foreground process group, the command included).
// Byte 0, which no signal has, says that a held lock was lost.
constexpr unsigned char from_kernel_bit = 0x80;
constexpr unsigned char lock_lost_byte = 0;

void on_signal(int number, siginfo_t* info, void*) {
  const int saved = errno;
  auto byte = static_cast<unsigned char>(number & 0x7f);
  if (info != nullptr && info->si_code == SI_KERNEL) byte |= from_kernel_bit;
  if (number != SIGCHLD && waiting_in_store.load()) ::_exit(exit_code::signal_base + number);
  if (write_fd >= 0) {
    [[maybe_unused]] const auto n = ::write(write_fd, &byte, 1);  // full pipe: drop; still awake
  }
  errno = saved;
}

[[noreturn]] void fail(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void install(int number) {
  struct sigaction action {};
  action.sa_sigaction = on_signal;
  // No SA_RESTART: a lock wait blocked in poll(2) must return at once to notice the signal.
  action.sa_flags = SA_SIGINFO | (number == SIGCHLD ? SA_NOCLDSTOP : 0);
  sigemptyset(&action.sa_mask);
  if (::sigaction(number, &action, nullptr) != 0) fail("sigaction");
}

sigset_t termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

class interruptible_store final : public lock_store {
 public:
  interruptible_store(std::shared_ptr<lock_store> inner, signal_pipe& signals)
      : inner_(std::move(inner)), signals_(signals) {}

  std::vector<std::unique_ptr<lock_handle>> try_lock_all(const std::vector<std::string>& ids,
                                                         const lock_owner& owner,
                                                         std::vector<lock_status>& busy) override {
    check();
    return inner_->try_lock_all(ids, owner, busy);
  }
  std::unique_ptr<wait_ticket> enqueue(const std::vector<std::string>& ids, bool keep,
                                       const lock_owner& owner) override {
    return inner_->enqueue(ids, keep, owner);
  }
  void prepare_wait() override { inner_->prepare_wait(); }
  // A signal that came before the flag is set is in the pipe, and `check` sees it; one that
  // comes after ends the process from the handler (see `waiting_in_store`).
  void wait(std::chrono::steady_clock::time_point deadline) override {
    struct in_store {
      in_store() { waiting_in_store = true; }
      ~in_store() { waiting_in_store = false; }
    } const waiting;
    check();
    inner_->wait(deadline);
  }
  lock_status status(const std::string& id) override { return inner_->status(id); }
  void hold(lock_handle& lock, const std::string& id, const lock_owner& owner,
            const hold_request& hold) override {
    inner_->hold(lock, id, owner, hold);
  }
  lock_status release_hold(const std::string& id, const std::string& user, bool force) override {
    return inner_->release_hold(id, user, force);
  }
  void explain(std::vector<lock_status>& busy) override { inner_->explain(busy); }
  std::string describe() const override { return inner_->describe(); }
  std::shared_ptr<ledger_log> ledger(std::uint64_t max_size) override {
    return inner_->ledger(max_size);
  }
  std::shared_ptr<health_records> health() override { return inner_->health(); }

 private:
  void check() {
    // A lost lock is not a reason to stop waiting; its holder checks `held()` itself.
    if (const auto event = signals_.next(0); event && !event->lock_lost()) {
      throw interrupted{event->number};
    }
  }

  std::shared_ptr<lock_store> inner_;
  signal_pipe& signals_;
};

}  // namespace

signal_pipe::signal_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) fail("pipe2");
  read_fd_ = fds[0];
  write_fd = fds[1];
  if (::sigprocmask(SIG_SETMASK, nullptr, &original_mask_) != 0) fail("sigprocmask");
  for (std::size_t i = 0; i < caught_.size(); ++i) {
    if (::sigaction(caught_[i], nullptr, &original_[i]) != 0) fail("sigaction");
  }
  for (std::size_t i = 0; i + 1 < caught_.size(); ++i) {  // SIGCHLD waits for watch_children()
    if (original_[i].sa_handler != SIG_IGN) install(caught_[i]);
  }
}

signal_pipe::~signal_pipe() {
  for (std::size_t i = 0; i < caught_.size(); ++i) ::sigaction(caught_[i], &original_[i], nullptr);
  ::sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
  ::close(write_fd);
  write_fd = -1;
  ::close(read_fd_);
}

void signal_pipe::watch_children() { install(SIGCHLD); }

void signal_pipe::post_lock_lost() noexcept {
  // The same write as a signal handler's: one byte, never blocking (a full pipe already wakes
  // the reader), so the lock store's thread cannot get stuck here.
  const int fd = write_fd;
  if (fd >= 0) {
    [[maybe_unused]] const auto n = ::write(fd, &lock_lost_byte, 1);
  }
}

std::optional<signal_event> signal_pipe::next(int timeout_ms) {
  pollfd pfd{read_fd_, POLLIN, 0};
  if (::poll(&pfd, 1, timeout_ms) <= 0) return std::nullopt;
  unsigned char byte = 0;
  if (::read(read_fd_, &byte, 1) != 1) return std::nullopt;
  return signal_event{byte & 0x7f, (byte & from_kernel_bit) != 0};
}

void signal_pipe::block() {
  const sigset_t set = termination_signals();
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) fail("sigprocmask");
}

void signal_pipe::unblock() {
  const sigset_t set = termination_signals();
  if (::sigprocmask(SIG_UNBLOCK, &set, nullptr) != 0) fail("sigprocmask");
}

void signal_pipe::reset_in_child() const noexcept {
  // Dispositions first: a signal arriving between the two calls then acts on the child as it
  // would on the command, instead of running our handler in the child.
  for (std::size_t i = 0; i < caught_.size(); ++i) ::sigaction(caught_[i], &original_[i], nullptr);
  ::sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
}

std::shared_ptr<lock_store> interruptible(std::shared_ptr<lock_store> inner, signal_pipe& signals) {
  return std::make_shared<interruptible_store>(std::move(inner), signals);
}

}  // namespace gtest_lockable::cli
