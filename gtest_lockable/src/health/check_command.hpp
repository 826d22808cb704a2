#pragma once

// Runs one probe or reset command (see docs/lab-health.md): an argv without a shell, in its own
// process group, with a timeout after which the whole group is killed, and with its output (stdout
// and stderr together) read to the end but only its tail kept.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace gtest_lockable::detail {

/// How many bytes of a command's output are kept: the last ones.
inline constexpr std::size_t check_output_kept = 4096;

/// What one run of a check command came to.
struct check_result {
  bool passed = false;             ///< It ran and exited with status 0.
  std::string summary;             ///< What happened, for messages: "exited with status 1", ...
  std::string output_tail;         ///< The last `check_output_kept` bytes of its output.
  std::uint64_t output_bytes = 0;  ///< How many bytes it printed in all.
  std::chrono::duration<double> took{0};  ///< How long it ran.
};

/// Runs `argv` (argv[0] looked up in PATH when it has no `/`) with environment `environment`
/// (`NAME=value` strings), stdin from /dev/null, no descriptor of ours but stdout and stderr, and
/// the default signal mask. After `timeout` it and its process group get SIGKILL; so does whatever
/// it left running in the group when it ends. Never throws for anything the command does; throws
/// `std::system_error` only when a pipe or a process cannot be made.
check_result run_check(const std::vector<std::string>& argv,
                       const std::vector<std::string>& environment,
                       std::chrono::duration<double> timeout);

}  // namespace gtest_lockable::detail
