// `lockable [options] [--] command [args...]`: runs a command while it holds a resource.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <system_error>

#include "cli/exit_codes.hpp"
#include "cli/export_env.hpp"
#include "cli/health_modes.hpp"
#include "cli/ledger_modes.hpp"
#include "cli/modes.hpp"
#include "cli/options.hpp"
#include "cli/run.hpp"
#include "cli/signals.hpp"
#include "gtest_lockable/error.hpp"
#include "gtest_lockable/etcd_store.hpp"
#include "gtest_lockable/internal/settings.hpp"
#include "gtest_lockable/internal/time_format.hpp"
#include "gtest_lockable/lockable.hpp"

#ifndef GTEST_LOCKABLE_VERSION
#error "GTEST_LOCKABLE_VERSION must be defined by the build"
#endif

extern char** environ;

namespace gtest_lockable::cli {
namespace {

// Our messages go to stderr, one line each; stdout belongs to the command.
void say(const std::string& line) { std::cerr << "lockable: " << printable(line) << std::endl; }

// Why the lock was lost, written by the lock store's thread and read by main's.
struct lost_notice {
  std::mutex mutex;
  std::string reason;
};

// A lock server's lease can be lost while the command runs; the store's thread then only records
// why and wakes the main loop through the self-pipe, which stops the command.
etcd_options lost_lock_reporting(const std::shared_ptr<lost_notice>& notice) {
  etcd_options etcd;
  etcd.on_lost = [notice](const std::string&, const std::string& reason) {
    {
      std::lock_guard<std::mutex> guard(notice->mutex);
      if (notice->reason.empty()) notice->reason = reason;
    }
    signal_pipe::post_lock_lost();
  };
  return etcd;
}

int report_lost(lost_notice& notice, const allocation& held, const run_result* result,
                std::chrono::duration<double> lost_grace = {}) {
  std::string reason;
  {
    std::lock_guard<std::mutex> guard(notice.mutex);
    reason = notice.reason;
  }
  if (reason.empty()) reason = "lost the lock of '" + held.resource_id() + "'";
  if (result == nullptr) {
    say(reason + "; the command was not started");
  } else {
    say(reason + (result->terminated_for_lost_lock
                      ? "; sent SIGTERM to the command's process group" +
                            (result->killed ? ", then SIGKILL " +
                                                  detail::seconds_text(lost_grace, 1) + " later"
                                            : std::string())
                      : " while the command ran"));
  }
  return exit_code::lock_lost;
}

// A lock taken as the command's modes take it, and what stopped it.
struct locked {
  lockable locker;
  allocation held;
  int interrupted_by = 0;  // a signal that came as the lock was taken: stop rather than go on
};

// Waits for `requirements` as --timeout and --priority say, giving up on SIGINT, SIGTERM or
// SIGHUP (`signals`), telling of the wait unless --quiet and of ledger warnings always. With
// `notice`, a lock server's lost lease is recorded there and wakes `signals`.
locked lock_interruptibly(const cli_options& opts, const nlohmann::json& requirements,
                          signal_pipe& signals, const std::shared_ptr<lost_notice>& notice) {
  internal::lockable_hooks hooks;
  if (notice) hooks.etcd = lost_lock_reporting(notice);
  hooks.wrap_store = [&signals](std::shared_ptr<lock_store> store) {
    return interruptible(std::move(store), signals);
  };
  if (!opts.quiet) hooks.on_wait = say;
  hooks.on_warning = say;  // a ledger that cannot be written: said even with --quiet
  locked out{internal::make_lockable(opts, std::move(hooks)), {}, 0};
  lock_request request;
  request.priority = opts.priority;
  out.held = out.locker.lock(requirements, opts.timeout, request);
  if (const auto event = signals.next(0); event && !event->lock_lost()) {
    out.interrupted_by = event->number;
  }
  return out;
}

int run_mode(const cli_options& opts) {
  // Declared first, so that the lock store's thread (which writes to the pipe) ends before it.
  signal_pipe signals;
  const auto notice = std::make_shared<lost_notice>();
  const auto requirements = parse_requirements_option(opts);
  // Look for the command before locking, so that a typo fails at once instead of after a wait.
  const auto candidates = command_candidates(opts.command.front(), std::getenv("PATH"));
  if (const auto missing = check_command(opts.command.front(), candidates)) {
    say(missing->error);
    return missing->exit_status;
  }

  locked taken = lock_interruptibly(opts, requirements, signals, notice);
  if (taken.interrupted_by) return exit_code::signal_base + taken.interrupted_by;
  allocation& held = taken.held;
  if (!held.held()) return report_lost(*notice, held, nullptr);

  if (!opts.quiet) {
    say("holding " + held.resource_id() + " (allocation " + held.alloc_id() + ", waited " +
        detail::seconds_text(held.queue_time(), 2) + ")");
  }
  auto variables = resource_variables(held.resource_info(), held.resource_id(), held.alloc_id());
  if (held.fencing_token() != 0) {  // etcd: see allocation::fencing_token
    variables.push_back({"LOCKABLE_FENCING_TOKEN", std::to_string(held.fencing_token())});
  }
  const auto environment = merge_environment(environ, variables);
  run_limits limits;
  limits.max_hold = opts.max_hold;
  // Lost at half the lease's TTL (the lease keeper); SIGKILL at 0.8 of it; etcd expires it at
  // the TTL at the earliest: a fifth of the TTL is left for the kill, the reaping and the clocks.
  if (!opts.lock_server.value.empty()) {
    limits.lost_grace = etcd_lease_ttl(opts.lock_server.value) * 0.3;
  }
  const run_result result =
      run_command(opts.command, candidates, environment, held.descriptor(), signals, limits);
  // Whatever the command did, it did so without exclusive use of the resource for a while.
  const bool lost = !held.held();
  outcome ended;
  if (result.signal != 0) {
    ended.signal = result.signal;
  } else {
    ended.exit_status = result.exit_status;
  }
  held.set_outcome(std::move(ended));
  held.unlock();
  if (!result.error.empty()) say(result.error);
  if (lost) return report_lost(*notice, held, &result, limits.lost_grace.value_or(seconds(0)));
  if (result.ended_for_max_hold) {
    say("the command held " + held.resource_id() + " longer than --max-hold " +
        detail::seconds_text(*opts.max_hold) + ": sent SIGTERM to its process group" +
        (result.killed ? ", then SIGKILL 5 s later" : "") + "; released " + held.resource_id() +
        " after it ended");
    return exit_code::max_hold;
  }
  return result.exit_status;
}

// --hold: waits for a resource as a run would, then leaves it held by a keeper (lock folder) or a
// lease of the hold's length (etcd) and exits.
int hold_mode(const cli_options& opts) {
  signal_pipe signals;
  nlohmann::json requirements = parse_requirements_option(opts);
  if (!opts.command.empty()) {
    if (!requirements.is_object()) requirements = nlohmann::json::object();
    requirements["id"] = opts.command.front();
  }
  check_hold_request(opts.hold_for, opts.note);
  locked taken = lock_interruptibly(opts, requirements, signals, nullptr);
  if (taken.interrupted_by) return exit_code::signal_base + taken.interrupted_by;
  allocation& held = taken.held;
  const std::string id = held.resource_id();
  taken.locker.hold(held, opts.hold_for, opts.note);
  const lock_status now = taken.locker.store().status(id);
  if (!opts.quiet) {
    say("holding " + id + " until " + now.holder.hold_until + " (hold of " + now.holder.user +
        (opts.note.empty() ? "" : ": '" + opts.note + "'") + "); lockable --release " + id +
        " ends it");
  }
  std::cout << id << '\n';
  return 0;
}

int release_mode(const cli_options& opts) {
  lockable locker = internal::make_lockable(opts);
  const lock_status was = locker.release_hold(opts.release_id, opts.force);
  if (!opts.quiet) {
    say("released " + describe(was) + (opts.force ? " (--force)" : ""));
  }
  return 0;
}

int main_of(const std::vector<std::string>& args) {
  const cli_options opts = parse_options(args, internal::env_value);
  switch (opts.what) {
    case mode::help:
      std::cout << help_text();
      return 0;
    case mode::version:
      std::cout << "lockable (gtest_lockable) " GTEST_LOCKABLE_VERSION "\n";
      return 0;
    case mode::list:
      return list_mode(opts, std::cout);
    case mode::ctest:
      return ctest_resources_mode(opts, std::cout);
    case mode::ctest_plan:
      return ctest_plan_mode(opts, std::cout);
    case mode::ctest_spec:
      return ctest_spec_mode(opts, std::cout, std::cerr);
    case mode::status:
      return status_mode(opts, std::cout);
    case mode::validate:
      return validate_mode(opts, std::cout, std::cerr);
    case mode::history:
      return history_mode(opts, std::cout, std::cerr);
    case mode::stats:
      return stats_mode(opts, std::cout, std::cerr);
    case mode::metrics:
      return metrics_mode(opts, std::cout, std::cerr);
    case mode::report:
      return report_mode(opts, std::cout, std::cerr);
    case mode::run:
      return run_mode(opts);
    case mode::hold:
      return hold_mode(opts);
    case mode::release:
      return release_mode(opts);
    case mode::quarantine:
      return quarantine_mode(opts, std::cerr);
    case mode::unquarantine:
      return unquarantine_mode(opts, std::cerr);
  }
  return exit_code::internal;
}

}  // namespace
}  // namespace gtest_lockable::cli

int main(int argc, char** argv) {
  namespace cli = gtest_lockable::cli;
  try {
    const int status = cli::main_of(std::vector<std::string>(argv + 1, argv + argc));
    std::cout.flush();
    return status;
  } catch (const gtest_lockable::error& e) {
    cli::say(cli::message_of(e));
    return cli::exit_status_for(e.code());
  } catch (const cli::interrupted& i) {
    return cli::exit_code::signal_base + i.signal;  // nothing was held: nothing to release
  } catch (const std::system_error& e) {
    cli::say(std::string("system error: ") + e.what());
    return cli::exit_code::os_error;
  } catch (const std::exception& e) {
    cli::say(std::string("internal error: ") + e.what());
    return cli::exit_code::internal;
  } catch (...) {
    cli::say("internal error");
    return cli::exit_code::internal;
  }
}
