// The C++ holders of the stress run (tests/stress/stress.py). Each logs to the stress log
// (hold_log.hpp) given by STRESS_LOG, under the token STRESS_TOKEN, and holds for STRESS_HOLD_MS.
//
//   stress_holder api RESOURCES LOCK_FOLDER HOSTNAME REQUIREMENTS TIMEOUT
//       locks through the C++ API: logs `wait`, locks, logs `start`, prints "held <pid>", works,
//       logs `end`, releases.
//   stress_holder exec PROGRAM [ARGS...]
//       logs `wait`, then becomes PROGRAM (the `lockable` command), so that the wait starts when
//       the process does, as for the other holders.
//   stress_holder record
//       the command that `lockable` runs: the lock is held when it starts, so it logs `start`
//       with $LOCKABLE_RESOURCE_ID, prints "held <pid>", works, logs `end` and exits; `lockable`
//       then releases.
//
// Exit codes: 0 held and released, 2 usage, 3 lock failed, 4 the log could not be written.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "gtest_lockable/internal/settings.hpp"
#include "gtest_lockable/lockable.hpp"
#include "hold_log.hpp"

namespace {

struct context {
  std::string log = stress::env_or("STRESS_LOG", "");
  std::string token = stress::env_or("STRESS_TOKEN", "?");
  long hold_ms = std::atol(stress::env_or("STRESS_HOLD_MS", "0").c_str());

  bool event(const char* name, const std::string& resource) const {
    return stress::log_event(log, name, token, resource, stress::now_ns());
  }
};

// Logs the allocation id (for the ledger's check) and `start`, tells the driver (which may kill
// us now), works, logs `end`.
int hold(const context& ctx, const std::string& resource, const std::string& alloc_id) {
  if (!ctx.event("alloc", alloc_id) || !ctx.event("start", resource)) return 4;
  std::printf("held %d\n", static_cast<int>(::getpid()));
  std::fflush(stdout);
  stress::work_for(ctx.hold_ms);
  return ctx.event("end", resource) ? 0 : 4;
}

int api(const context& ctx, char** args) {
  gtest_lockable::options opts;
  opts.resources = args[0];
  opts.lock_folder = args[1];
  opts.hostname = args[2];
  try {
    const auto timeout = gtest_lockable::internal::parse_timeout(args[4], "TIMEOUT");
    gtest_lockable::lockable locker(opts);
    if (!ctx.event("wait", "")) return 4;
    gtest_lockable::allocation held = locker.lock(std::string_view(args[3]), timeout);
    return hold(ctx, held.resource_id(), held.alloc_id());  // released after the `end` line
  } catch (const gtest_lockable::error& e) {
    std::fprintf(stderr, "stress_holder %s: %s\n", ctx.token.c_str(), e.what());
    return 3;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const context ctx;
  const std::string mode = argc > 1 ? argv[1] : "";
  if (ctx.log.empty()) {
    std::fprintf(stderr, "stress_holder: set STRESS_LOG\n");
    return 2;
  }
  if (mode == "api" && argc == 7) return api(ctx, argv + 2);
  if (mode == "record" && argc == 2) {
    return hold(ctx, stress::env_or("LOCKABLE_RESOURCE_ID", ""),
                stress::env_or("LOCKABLE_ALLOC_ID", ""));
  }
  if (mode == "exec" && argc > 2) {
    if (!ctx.event("wait", "")) return 4;
    ::execv(argv[2], argv + 2);
    std::perror(argv[2]);
    return 2;
  }
  std::fprintf(stderr, "usage: stress_holder api|exec|record ... (see the source)\n");
  return 2;
}
