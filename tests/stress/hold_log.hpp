#pragma once
// The stress log: one line per event, `<event> <token> <resource> <ns> <pid>`, written with a
// single write(2) to a file opened with O_APPEND, so lines of concurrent processes never
// interleave. Times are CLOCK_MONOTONIC nanoseconds, one clock for every process on the host.
// tests/stress/check_holds.py reads the log; its header describes the events.

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace stress {

inline long long now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/// Appends one event line to `path`; returns false when it could not be written whole.
inline bool log_event(const std::string& path, const std::string& event, const std::string& token,
                      const std::string& resource, long long ns) {
  const std::string line = event + " " + token + " " + (resource.empty() ? "-" : resource) + " " +
                           std::to_string(ns) + " " + std::to_string(::getpid()) + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  const bool whole = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  return whole;
}

/// Sleeps `ms` milliseconds: the work a holder does with its resource.
inline void work_for(long ms) {
  timespec left{ms / 1000, (ms % 1000) * 1000000L};
  while (::clock_nanosleep(CLOCK_MONOTONIC, 0, &left, &left) != 0) {
  }
}

/// The value of environment variable `name`, or `fallback`.
inline std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : fallback;
}

}  // namespace stress
