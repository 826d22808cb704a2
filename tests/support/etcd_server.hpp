// Test support: child processes, and real etcd servers on loopback with ephemeral ports and a
// temporary data folder, stopped by PID. No GoogleTest here, so benchmarks can use it too.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gtest_lockable::testing_support {

using seconds = std::chrono::duration<double>;
using steady = std::chrono::steady_clock;

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
int free_port();

/// `now + timeout`, for bounded waits.
steady::time_point after(seconds timeout);

/// A process started with fork+exec. It dies with the thread that started it (PR_SET_PDEATHSIG),
/// so a crashed test leaves no servers behind; the destructor kills and reaps it.
class child_process {
 public:
  /// Starts `argv`. With an empty `log_file`, its stdin and stdout are pipes to us (stderr is
  /// inherited); otherwise stdin is /dev/null and stdout and stderr go to `log_file`.
  explicit child_process(const std::vector<std::string>& argv, const std::string& log_file = "");
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// The process id.
  pid_t pid() const { return pid_; }
  /// The next line of its stdout without the newline, or empty at end of output or `deadline`.
  std::optional<std::string> read_line(steady::time_point deadline);
  /// Writes `text` to its stdin.
  void write(const std::string& text);
  /// Sends `signal`, then waits for the exit (SIGKILL after `grace`). Returns the wait status,
  /// or -1 when it was already reaped.
  int stop(int signal, seconds grace = seconds(10));
  /// Waits for the exit until `deadline`; returns the wait status, or nullopt if still running.
  std::optional<int> wait(steady::time_point deadline);

 private:
  pid_t pid_ = -1;
  int in_ = -1;   // its stdin
  int out_ = -1;  // its stdout
  std::string buffer_;
};

/// Every key of an etcd at one moment, read straight from its JSON gateway.
struct etcd_snapshot {
  long long revision = 0;                 ///< The store revision (bumped by each write).
  std::map<std::string, long long> keys;  ///< Key -> id of the lease it is attached to.
};

/// Reads every key from the etcd member at `endpoint` (`http://127.0.0.1:PORT`); throws
/// std::runtime_error when it does not answer.
etcd_snapshot read_all_keys(const std::string& endpoint);

/// A temporary etcd cluster of `members` members on 127.0.0.1.
class etcd_cluster {
 public:
  /// The etcd server executable.
  static constexpr const char* executable = "/usr/bin/etcd";
  /// Whether `executable` exists.
  static bool available();

  /// Picks ports and a temporary folder, and starts every member; returns once each answers
  /// `/health` (throws std::runtime_error with the log's tail after 30 s).
  explicit etcd_cluster(int members = 1);
  /// Stops every member and removes the folder.
  ~etcd_cluster();
  etcd_cluster(const etcd_cluster&) = delete;
  etcd_cluster& operator=(const etcd_cluster&) = delete;

  /// Starts member `i` again with its data (after `stop`), and waits until it is healthy.
  void start(int i);
  /// Stops member `i` with `signal` (SIGKILL after 10 s) and waits for its exit.
  void stop(int i, int signal = SIGTERM);
  /// The index of the member that leads the cluster now (throws if none answers).
  int leader() const;
  /// `etcd://` URI listing the members in `order` (default: all, in index order), with `prefix`.
  std::string uri(const std::string& prefix, std::vector<int> order = {}) const;
  /// `http://127.0.0.1:PORT` of member `i`.
  std::string endpoint(int i) const;
  /// The folder with the members' data and logs.
  const std::string& folder() const { return folder_; }

 private:
  struct member {
    int client_port = 0;
    int peer_port = 0;
    std::unique_ptr<child_process> process;
  };
  void spawn(int i);
  void wait_healthy(int i, steady::time_point deadline);
  std::string log_tail(int i) const;

  std::string folder_;
  std::vector<member> members_;
};

}  // namespace gtest_lockable::testing_support
