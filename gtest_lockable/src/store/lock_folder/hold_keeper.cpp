#include "src/store/lock_folder/hold_keeper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "gtest_lockable/error.hpp"

namespace gtest_lockable::detail {
namespace {

// What the keeper reads after fork, as plain pointers into the plan's strings.
struct keeper_args {
  int lock_fd;
  int ready_fd;
  const char* folder;
  const char* lock_name;
  const char* request_name;
  const char* record;
  std::size_t record_size;
  long long until_ns;
  const char* ledger_path;  // null: no end record
  const char* ledger_head;
  std::size_t ledger_head_size;
  const char* ledger_tail;
  std::size_t ledger_tail_size;
  long long started_ns;
  char* ledger_buffer;  // room for the whole record, allocated before the fork
};

long long realtime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// "<pid>\n" without allocating.
std::size_t pid_line(char* out, long pid) {
  char digits[24];
  std::size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + pid % 10);
    pid /= 10;
  } while (pid > 0 && n < sizeof digits);
  for (std::size_t i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
  out[n] = '\n';
  return n + 1;
}

// "<seconds>.<microseconds>" of `ns` (at least 0), without allocating; returns the end.
char* put_time(char* out, long long ns) {
  if (ns < 0) ns = 0;
  const long long us = ns / 1000;
  out += pid_line(out, static_cast<long>(us / 1000000)) - 1;  // the digits, not the newline
  *out++ = '.';
  long long frac = us % 1000000;
  for (int i = 5; i >= 0; --i) {
    out[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  return out + 6;
}

char* put(char* out, const char* text, std::size_t size) {
  std::memcpy(out, text, size);
  return out + size;
}

// Appends the hold's end record as the ledger's writers do (docs/ledger.md): one write with
// O_APPEND under a shared flock of the file that the name still means; a torn last line gets a
// newline first. The rotation is left to the next writer. Gives up quietly: the record then stays
// open, and readers close it as ended without release.
void append_end_record(const keeper_args& a, long long ended_ns) {
  char* out = a.ledger_buffer;
  *out++ = '\n';
  out = put(out, a.ledger_head, a.ledger_head_size);
  out = put_time(out, ended_ns);
  out = put(out, ",\"hold\":", 8);
  out = put_time(out, ended_ns - a.started_ns);
  out = put(out, a.ledger_tail, a.ledger_tail_size);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int fd = ::open(a.ledger_path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return;
    struct stat held {}, named{};
    if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
      ::close(fd);
      ::sched_yield();  // a rotation is renaming it
      continue;
    }
    if (::fstat(fd, &held) != 0 || ::lstat(a.ledger_path, &named) != 0 ||
        held.st_ino != named.st_ino || held.st_dev != named.st_dev || !S_ISREG(held.st_mode)) {
      ::close(fd);
      continue;
    }
    char last = '\n';
    const bool torn = held.st_size > 0 && ::pread(fd, &last, 1, held.st_size - 1) == 1 &&
                      last != '\n';
    const char* from = torn ? a.ledger_buffer : a.ledger_buffer + 1;
    [[maybe_unused]] const auto w = ::write(fd, from, static_cast<std::size_t>(out - from));
    ::close(fd);
    return;
  }
}

// The keeper itself, after fork: system calls only (the process it came from may have had other
// threads, one of which may have held the allocator's lock).
[[noreturn]] void keep(const keeper_args& a) {
  // The lock file names the keeper from now on: for py-lockable a live PID, for us a hold.
  char line[32];
  const std::size_t n = pid_line(line, static_cast<long>(::getpid()));
  const bool written =
      ::ftruncate(a.lock_fd, 0) == 0 &&
      ::write(a.lock_fd, line, n) == static_cast<ssize_t>(n) &&
      ::write(a.lock_fd, a.record, a.record_size) == static_cast<ssize_t>(a.record_size);
  const char ready = written ? 'k' : 'e';
  [[maybe_unused]] const auto r = ::write(a.ready_fd, &ready, 1);
  if (!written) ::_exit(1);
  // Nothing of the process it came from: no terminal, no pipe a CI job waits on, no other file.
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
  }
  if (a.lock_fd > 3) ::close_range(3, static_cast<unsigned>(a.lock_fd - 1), 0);
  ::close_range(static_cast<unsigned>(a.lock_fd + 1), ~0U, 0);
  if (::chdir("/") != 0) {  // nothing to do: it only must not keep a mount busy
  }
  // The handlers of the process it came from mean nothing here.
  struct sigaction plain {};
  plain.sa_handler = SIG_DFL;
  for (int sig = 1; sig < 32; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &plain, nullptr);
  }
  plain.sa_handler = SIG_IGN;
  ::sigaction(SIGHUP, &plain, nullptr);
  ::sigaction(SIGPIPE, &plain, nullptr);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  ::sigprocmask(SIG_SETMASK, &stop, nullptr);
  const int signals = ::signalfd(-1, &stop, SFD_CLOEXEC);
  const int dir = ::open(a.folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const int watch = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (watch >= 0) ::inotify_add_watch(watch, a.folder, IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO);
  struct stat st {};
  while (true) {
    if (dir >= 0 && ::fstatat(dir, a.request_name, &st, AT_SYMLINK_NOFOLLOW) == 0) break;
    const long long left = a.until_ns - realtime_ns();
    if (left <= 0) break;
    long long ms = left / 1000000 + 1;
    if (watch < 0 && ms > 250) ms = 250;  // no inotify: look for a request four times a second
    if (ms > 3600000) ms = 3600000;       // the clock may be set forward meanwhile
    pollfd fds[2] = {{signals, POLLIN, 0}, {watch, POLLIN, 0}};
    const int ready_count = ::poll(fds, 2, static_cast<int>(ms));
    if (ready_count > 0 && (fds[0].revents & POLLIN)) break;
    if (ready_count > 0 && (fds[1].revents & POLLIN)) {
      char events[4096];
      while (::read(watch, events, sizeof events) > 0) {
      }
    }
  }
  const long long ended_ns = realtime_ns();  // taken before the release, as a holder does
  // Released as a holder releases: unlink while the file is still ours, then close.
  struct stat held {}, named{};
  if (dir >= 0 && ::fstat(a.lock_fd, &held) == 0 &&
      ::fstatat(dir, a.lock_name, &named, AT_SYMLINK_NOFOLLOW) == 0 && held.st_dev == named.st_dev &&
      held.st_ino == named.st_ino && ::unlinkat(dir, a.lock_name, 0) != 0) {
    [[maybe_unused]] const int t = ::ftruncate(a.lock_fd, 0);  // another user's, in a sticky folder
  }
  ::close(a.lock_fd);
  if (a.ledger_path != nullptr) append_end_record(a, ended_ns);
  ::_exit(0);
}

}  // namespace

std::string release_request_name(const std::string& id, const std::string& alloc_id) {
  return "." + id + "." + alloc_id + ".release";
}

long start_hold_keeper(const hold_keeper_plan& plan) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) {
    throw error(errc::lock_store, std::string("cannot start a hold's keeper: pipe2: ") +
                                      std::strerror(errno));
  }
  const auto ns_of = [](std::chrono::system_clock::time_point t) {
    return static_cast<long long>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
  };
  // The record's parts, two times of at most 20 + 7 characters, ",\"hold\":" and a newline.
  std::string buffer(plan.ledger_head.size() + plan.ledger_tail.size() + 80, '\0');
  const keeper_args args{plan.lock_fd,
                         ready[1],
                         plan.folder.c_str(),
                         plan.lock_name.c_str(),
                         plan.request_name.c_str(),
                         plan.record.data(),
                         plan.record.size(),
                         static_cast<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                    plan.until.time_since_epoch())
                                                    .count()),
                         plan.ledger_path.empty() ? nullptr : plan.ledger_path.c_str(),
                         plan.ledger_head.data(),
                         plan.ledger_head.size(),
                         plan.ledger_tail.data(),
                         plan.ledger_tail.size(),
                         ns_of(plan.started),
                         buffer.data()};
  // Twice, with a session between: the keeper is nobody's child but init's (or a subreaper's),
  // has no terminal, and outlives the shell or job that made the hold.
  const pid_t middle = ::fork();
  if (middle == 0) {
    ::close(ready[0]);
    ::setsid();
    const pid_t keeper = ::fork();
    if (keeper == 0) keep(args);
    ::_exit(keeper < 0 ? 1 : 0);
  }
  const int fork_errno = errno;
  ::close(ready[1]);
  if (middle < 0) {
    ::close(ready[0]);
    throw error(errc::lock_store, std::string("cannot start a hold's keeper: fork: ") +
                                      std::strerror(fork_errno));
  }
  int status = 0;
  while (::waitpid(middle, &status, 0) < 0 && errno == EINTR) {
  }
  char answer = 0;
  ssize_t got;
  do {
    got = ::read(ready[0], &answer, 1);
  } while (got < 0 && errno == EINTR);
  ::close(ready[0]);
  if (got != 1 || answer != 'k') {
    throw error(errc::lock_store, "the keeper of the hold could not write its lock file '" +
                                      plan.folder + "/" + plan.lock_name + "'");
  }
  char first[32] = {};
  const ssize_t n = ::pread(plan.lock_fd, first, sizeof first - 1, 0);
  return n > 0 ? std::strtol(first, nullptr, 10) : 0;
}

}  // namespace gtest_lockable::detail
