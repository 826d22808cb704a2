// A probe or reset runs while we hold the lock: it must neither keep the lock itself (it gets none
// of our descriptors) nor outlive its timeout (its process group is killed), and a command that
// prints without end must not fill our memory (only the tail is kept).
#include "src/health/check_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <system_error>

#include "src/util/fd_guard.hpp"
#include "src/util/time_format.hpp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace gtest_lockable::detail {
namespace {

using steady = std::chrono::steady_clock;

[[noreturn]] void system_failure(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}


// Only async-signal-safe calls between fork and exec: the caller may have threads.
[[noreturn]] void exec_child(char* const* argv, char* const* envp, int out_fd, int error_fd,
                             int null_fd) {
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (const int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) ::signal(s, SIG_DFL);
  if (::dup2(null_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0) {
    const int err = errno;
    (void)!::write(error_fd, &err, sizeof err);
    ::_exit(127);
  }
  // Every other descriptor closes at the exec (the lock file's among them), so a probe that
  // leaves a daemon behind cannot keep the lock; `error_fd` stays open until then.
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < 4096; ++fd) {
      if (fd != error_fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
  }
  ::execvpe(argv[0], argv, envp);
  const int err = errno;
  (void)!::write(error_fd, &err, sizeof err);
  ::_exit(127);
}

void keep_tail(std::string& tail, const char* data, std::size_t size) {
  tail.append(data, size);
  if (tail.size() > 2 * check_output_kept) tail.erase(0, tail.size() - check_output_kept);
}

std::string signal_text(int number) {
  const char* name = ::sigabbrev_np(number);
  return std::to_string(number) + (name ? std::string(" (SIG") + name + ")" : std::string());
}

}  // namespace

check_result run_check(const std::vector<std::string>& argv,
                       const std::vector<std::string>& environment,
                       std::chrono::duration<double> timeout) {
  check_result result;
  if (argv.empty()) {
    result.summary = "has no command";
    return result;
  }
  std::vector<char*> args, envs;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : environment) envs.push_back(const_cast<char*>(e.c_str()));
  envs.push_back(nullptr);

  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) system_failure("pipe2");
  fd_guard out_read(out[0]), out_write(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) system_failure("pipe2");
  fd_guard err_read(err[0]), err_write(err[1]);
  fd_guard null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_fd.get() < 0) system_failure("open /dev/null");

  const auto started = steady::now();
  const pid_t pid = ::fork();
  if (pid < 0) system_failure("fork");
  if (pid == 0) exec_child(args.data(), envs.data(), out[1], err[1], null_fd.get());
  ::setpgid(pid, pid);  // as the child does: whichever runs first, the group exists
  out_write.reset();
  err_write.reset();
  null_fd.reset();

  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(err_read.get(), &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof exec_errno)) exec_errno = 0;

  fd_guard pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  const auto deadline = started + std::chrono::duration_cast<steady::duration>(timeout);
  bool exited = false, timed_out = false, output_open = true;
  int status = 0;
  char buffer[65536];
  // After the command ended, what it left in its group is killed; a grandchild in another
  // session that keeps the pipe open gets a second to let go of it.
  steady::time_point drain_until{};
  while (output_open || !exited) {
    if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      ::kill(-pid, SIGKILL);
      drain_until = steady::now() + std::chrono::seconds(1);
    }
    if (exited && !output_open) break;
    const auto now = steady::now();
    if (!exited && now >= deadline) {
      timed_out = true;
      ::kill(-pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      exited = true;
      drain_until = steady::now() + std::chrono::seconds(1);
      continue;
    }
    if (exited && now >= drain_until) break;
    const auto until = exited ? drain_until : deadline;
    int wait_ms =
        static_cast<int>(std::ceil(std::chrono::duration<double, std::milli>(until - now).count()));
    if (pidfd.get() < 0 && !exited) wait_ms = std::min(wait_ms, 20);
    pollfd fds[2] = {{output_open ? out_read.get() : -1, POLLIN, 0},
                     {exited ? -1 : pidfd.get(), POLLIN, 0}};
    if (::poll(fds, 2, std::max(wait_ms, 0)) < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) {
      n = ::read(out_read.get(), buffer, sizeof buffer);
      if (n > 0) {
        result.output_bytes += static_cast<std::uint64_t>(n);
        keep_tail(result.output_tail, buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        output_open = false;
      }
    }
  }
  if (!exited) {  // the poll failed: do not leave it running
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  result.took = steady::now() - started;
  if (result.output_tail.size() > check_output_kept) {
    result.output_tail.erase(0, result.output_tail.size() - check_output_kept);
  }
  if (exec_errno != 0) {
    result.summary = "cannot run '" + argv.front() + "': " + std::strerror(exec_errno);
  } else if (timed_out) {
    result.summary =
        "did not end within " + seconds_text(timeout) + ": killed it and its process group";
  } else if (WIFSIGNALED(status)) {
    result.summary = "was killed by signal " + signal_text(WTERMSIG(status));
  } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    result.summary = "exited with status " + std::to_string(WEXITSTATUS(status));
  } else {
    result.passed = true;
    result.summary = "passed";
  }
  return result;
}

}  // namespace gtest_lockable::detail
