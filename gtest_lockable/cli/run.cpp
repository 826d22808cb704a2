// Starting the command and waiting for it, with the lock descriptor passed down as flock(1) does.
#include "cli/run.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "cli/exit_codes.hpp"

namespace gtest_lockable::cli {
namespace {

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// What a shell says and returns when `name` cannot be executed because of `err`.
run_result exec_failure(const std::string& name, int err) {
  if (err == ENOENT || err == ENOTDIR) {
    const bool bare = name.find('/') == std::string::npos;
    return {exit_code::not_found, name + ": " + (bare ? "command not found" : std::strerror(err))};
  }
  if (err == E2BIG) {  // the command line is the user's; the environment has the resource
    return {exit_code::cannot_execute,
            name + ": " + std::strerror(err) +
                " (the command line, or the environment with the resource's fields, is too "
                "large: one variable may hold at most 128 KiB)"};
  }
  return {exit_code::cannot_execute, name + ": " + std::strerror(err)};
}

int exit_status(int status) {
  if (WIFSIGNALED(status)) return exit_code::signal_base + WTERMSIG(status);
  return WEXITSTATUS(status);
}

// In the child, after fork: only async-signal-safe calls. Tries each candidate as execvp does
// (a missing one is skipped; EACCES is remembered, other errors stop the search), then writes
// the reason it failed to `report_fd`.
[[noreturn]] void exec_child(char* const* argv, char* const* candidates, char* const* envp,
                             int keep_fd, int report_fd, const signal_pipe& signals,
                             bool own_group, bool foreground) {
  if (own_group) {
    // A group of its own, which a hold limit ends whole; it keeps the terminal, as a shell's job.
    ::setpgid(0, 0);
    if (foreground) {
      sigset_t ttou;
      sigemptyset(&ttou);
      sigaddset(&ttou, SIGTTOU);
      ::sigprocmask(SIG_BLOCK, &ttou, nullptr);
      ::tcsetpgrp(0, ::getpid());
    }
  }
  signals.reset_in_child();
  if (keep_fd >= 0) {
    const int flags = ::fcntl(keep_fd, F_GETFD);
    if (flags >= 0) ::fcntl(keep_fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  int err = ENOENT;
  bool denied = false;
  for (char* const* path = candidates; *path != nullptr; ++path) {
    ::execve(*path, argv, envp);
    if (errno == EACCES) {
      denied = true;
    } else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE) {
      err = errno;
      denied = false;
      break;
    }
  }
  if (denied) err = EACCES;
  [[maybe_unused]] const auto n = ::write(report_fd, &err, sizeof err);
  ::_exit(exit_code::not_found);
}

}  // namespace

std::vector<std::string> command_candidates(const std::string& name, const char* search_path) {
  if (name.find('/') != std::string::npos) return {name};
  if (name.empty()) return {};
  const std::string path = search_path != nullptr ? search_path : "/bin:/usr/bin";
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto end = path.find(':', start);
    const std::string dir = path.substr(start, end == std::string::npos ? end : end - start);
    out.push_back(dir.empty() ? name : dir + "/" + name);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::optional<run_result> check_command(const std::string& name,
                                        const std::vector<std::string>& candidates) {
  for (const auto& path : candidates) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return std::nullopt;
  }
  return exec_failure(name, ENOENT);
}

run_result run_command(const std::vector<std::string>& argv,
                       const std::vector<std::string>& candidates,
                       const std::vector<std::string>& environment, int keep_fd,
                       signal_pipe& signals, const run_limits& limits) {
  using steady = std::chrono::steady_clock;
  const bool own_group = limits.max_hold.has_value() || limits.lost_grace.has_value();
  const bool foreground = own_group && ::isatty(0) && ::tcgetpgrp(0) == ::getpgrp();
  // Orphaned members of the command's group become our children, so we see them go.
  if (own_group) ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  // Everything the child needs is built before fork: after it, the child may not allocate.
  const auto c_argv = c_strings(argv);
  const auto c_candidates = c_strings(candidates);
  const auto c_envp = c_strings(environment);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  signals.watch_children();
  // Signals that arrive from here until the child exists stay pending, then go to the child.
  signals.block();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(report[0]);
    exec_child(c_argv.data(), c_candidates.data(), c_envp.data(), keep_fd, report[1], signals,
               own_group, foreground);
  }
  if (own_group && pid > 0) ::setpgid(pid, pid);  // as the child does: whichever runs first
  const int fork_errno = errno;
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    signals.unblock();
    throw std::system_error(fork_errno, std::generic_category(), "fork");
  }
  signals.unblock();
  bool lock_lost = false;
  auto lost_kill_at = std::chrono::steady_clock::time_point::max();
  const auto forward = [&](const signal_event& event) {
    if (event.lock_lost()) {
      // The command must not carry on with a resource that may soon be someone else's: its
      // group gets SIGTERM, and SIGKILL after `lost_grace`, before etcd can expire the lease.
      if (!lock_lost) {
        ::kill(limits.lost_grace ? -pid : pid, SIGTERM);
        if (limits.lost_grace) {
          lost_kill_at = std::chrono::steady_clock::now() +
                         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             *limits.lost_grace);
        }
      }
      lock_lost = true;
    } else if (event.number != SIGCHLD) {
      ::kill(pid, event.number);
    }
  };
  // A signal held back while the child did not exist yet never reached it: send it on, also a
  // terminal's.
  while (const auto event = signals.next(0)) forward(*event);

  // The report pipe closes on a successful exec; an errno on it means the command never ran.
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(report[0], &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  ::close(report[0]);

  const auto started = steady::now();
  const auto limit_at =
      limits.max_hold
          ? started + std::chrono::duration_cast<steady::duration>(*limits.max_hold)
          : steady::time_point::max();
  auto kill_at = steady::time_point::max();
  bool ended = false, killed = false;
  // Past the limit: SIGTERM to the group, SIGKILL after the grace period.
  const auto enforce = [&] {
    const auto now = steady::now();
    if (!ended && now >= limit_at) {
      ended = true;
      ::kill(-pid, SIGTERM);
      kill_at = now + std::chrono::duration_cast<steady::duration>(limits.grace);
    }
    if (((ended && now >= kill_at) || now >= lost_kill_at) && !killed) {
      killed = true;
      ::kill(-pid, SIGKILL);
    }
  };
  // Once the group is being ended, look every 20 ms: the deaths of its members reach us as
  // SIGCHLDs that the kernel may merge, or as none (a zombie handed to us by its dying parent).
  const auto wait_ms = [&]() -> int {
    if (ended || lost_kill_at != steady::time_point::max()) return 20;
    if (limit_at == steady::time_point::max()) return -1;
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(limit_at - steady::now());
    return static_cast<int>(std::clamp<long long>(ms.count() + 1, 0, 60000));
  };
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "waitpid");
    }
    enforce();
    const auto event = signals.next(wait_ms());
    if (!event || event->number == SIGCHLD || got == sizeof exec_errno) continue;
    // A terminal's ^C already reached the child (same process group); sending it again would
    // make it see two.
    if (!event->from_terminal) forward(*event);
  }
  // An ended command's group must be gone before the lock goes: what it started may still use
  // the resource. Its orphans are our children (the subreaper), reaped here.
  while ((ended || lost_kill_at != steady::time_point::max()) && ::kill(-pid, 0) == 0) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    enforce();
    signals.next(wait_ms());
  }
  if (foreground) {
    sigset_t ttou, old;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    ::sigprocmask(SIG_BLOCK, &ttou, &old);
    ::tcsetpgrp(0, ::getpgrp());
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
  }
  if (got == sizeof exec_errno) return exec_failure(argv.front(), exec_errno);
  run_result result{exit_status(status), {}, lock_lost, WIFSIGNALED(status) ? WTERMSIG(status) : 0};
  result.ended_for_max_hold = ended;
  result.killed = killed;
  return result;
}

}  // namespace gtest_lockable::cli
