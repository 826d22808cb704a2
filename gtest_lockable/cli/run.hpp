#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cli/signals.hpp"

namespace gtest_lockable::cli {

/// The paths to try for command `name`, in order, as execvp(3) searches them: `name` itself when
/// it contains a `/`, else `name` in each directory of `search_path` (null: `/bin:/usr/bin`; an
/// empty entry is the current directory).
std::vector<std::string> command_candidates(const std::string& name, const char* search_path);

/// How running a command ended.
struct run_result {
  int exit_status = 0;  ///< The command's status, 128+N for signal N, or 126/127 as in shells.
  std::string error;    ///< When the command could not start: the message, shell style.
  bool terminated_for_lost_lock = false;  ///< It got SIGTERM because the lock was lost.
  int signal = 0;                         ///< The signal that ended the command, or 0.
  bool ended_for_max_hold = false;  ///< It outlived `max_hold`: its process group was ended.
  bool killed = false;              ///< ... and got SIGKILL after the grace period.
};

/// How long the command may hold its resource: when `max_hold` passes, its process group gets
/// SIGTERM, and SIGKILL `grace` later; `run_command` returns once the whole group is gone.
struct run_limits {
  std::optional<std::chrono::duration<double>> max_hold;  ///< None: no limit.
  std::chrono::duration<double> grace{5.0};               ///< From SIGTERM to SIGKILL.
  /// With a lock server: from the SIGTERM sent when the lock is lost to the SIGKILL, short enough
  /// that the command's group is gone before etcd can give the resource to another. None: the
  /// command only gets SIGTERM.
  std::optional<std::chrono::duration<double>> lost_grace;
};

/// The result for a command none of whose `candidates` exists (`foo: command not found`), or
/// nothing when one exists (it may still fail to start; `run_command` reports that).
std::optional<run_result> check_command(const std::string& name,
                                        const std::vector<std::string>& candidates);

/// Runs `argv` (the program tried at each of `candidates`) with environment `environment`, and
/// waits for it. The child inherits `keep_fd` (when >= 0) so that what it holds outlives
/// `lockable`. SIGINT, SIGTERM and SIGHUP reported by `signals` are sent on to the child, except
/// a terminal's own, which the child already got; a lost lock (`signal_pipe::post_lock_lost`)
/// sends it SIGTERM. Throws `std::system_error` when fork fails.
run_result run_command(const std::vector<std::string>& argv,
                       const std::vector<std::string>& candidates,
                       const std::vector<std::string>& environment, int keep_fd,
                       signal_pipe& signals, const run_limits& limits = {});

}  // namespace gtest_lockable::cli
