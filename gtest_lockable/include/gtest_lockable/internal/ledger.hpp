#pragma once

// Internal, not a stable API: reading the usage ledger (see docs/ledger.md), shared by the core
// and the `lockable` command's --history, --stats, --metrics and --report.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "gtest_lockable/lockable.hpp"

namespace gtest_lockable::internal {

/// How an allocation of the ledger ended.
enum class ending {
  released,   ///< Its holder released it and wrote the end record.
  abandoned,  ///< Its holder ended without release (killed, crashed): no end record.
  open,       ///< Still held.
};

/// One allocation, joined from its start and end records.
struct ledger_record {
  std::string alloc_id;
  std::string resource;
  std::string host;
  long pid = 0;
  long uid = -1;
  std::string user;
  std::string job;           ///< The CI job (`github:RUN/ATTEMPT/JOB`, ...), or empty.
  std::string requirements;  ///< As JSON text.
  double queued = 0;         ///< When the lock call began, seconds since the epoch.
  double started = 0;        ///< When the resource was held.
  /// When it was released; for an abandoned one, when the next holder of the resource started
  /// (an upper bound); none when unknown or still held.
  std::optional<double> ended;
  double hold = -1;  ///< Seconds held, as the holder measured them; -1 when unknown.
  ending how = ending::open;
  outcome result;
  bool lost = false;  ///< The lock server reported the lock lost while it was held.
  /// It became a hold (`lockable --hold`, the plugin's hold on failure); `ended` is the hold's end.
  bool as_hold = false;
  /// Its end is the one planned when the hold was made (etcd), not yet seen to happen.
  bool planned = false;
  std::string released_by;  ///< Who ended the hold early with `--release`, if anyone.
  bool forced = false;      ///< That release was another user's, with `--force`.

  double wait() const { return started - queued; }
  /// Whether this run counts as failed: a non-zero exit, a signal, a failed test, a lost lock, or
  /// a holder that ended without release.
  bool failed() const;
  /// Whether it has an outcome that says passed or failed (plain API use records none).
  bool judged() const;
  /// One line: `exit 0`, `signal 9`, `2 of 5 tests failed: a.b, c.d`, `ended without release`.
  std::string outcome_text() const;
};

/// What reading the ledger found.
struct ledger_reading {
  std::vector<ledger_record> records;  ///< Sorted by start time.
  std::size_t lines = 0;               ///< Lines read.
  std::size_t skipped = 0;             ///< Lines that were not records (garbage, torn).
  std::vector<std::string> problems;   ///< What was skipped and why, a few examples.
  std::string where;                   ///< The ledger's place, for messages.
};

/// Which records to read.
struct ledger_filter {
  std::optional<double> since;  ///< Only allocations that were held at or after this time.
  std::string resource;         ///< Only this resource; empty: all.
  bool details = true;          ///< Keep each record's requirements (only --history shows them).
};

/// Reads the ledger of `l`'s store: joins start and end records, and closes the records of holders
/// that ended without release (a start record whose resource is no longer held by it). Throws
/// `error` when the store keeps no ledger.
ledger_reading read_ledger(lockable& l, const ledger_filter& filter);

/// Parses ledger text (the parts of `ledger_log::read`) into records, without asking the
/// store which are still held: open records stay open. For tests and benchmarks.
ledger_reading parse_ledger(const std::string& text);

/// Per-resource figures over a period.
struct resource_stats {
  std::string resource;
  std::size_t allocations = 0;  ///< Allocations that started in the period.
  double utilisation = 0;       ///< Share of the period it was held, 0 to 1.
  double held_seconds = 0;      ///< Time held within the period.
  double mean_wait = 0, p95_wait = 0, max_wait = 0;
  double mean_hold = 0, p95_hold = 0;
  std::size_t judged = 0;     ///< Allocations with an outcome.
  std::size_t failed = 0;     ///< Of those, failed ones.
  std::size_t abandoned = 0;  ///< Ended without release.
  bool held_now = false;
  std::vector<const ledger_record*> last_failures;  ///< Newest first, at most 3.
  double failure_rate() const {
    return judged ? static_cast<double>(failed) / static_cast<double>(judged) : 0;
  }
};

/// The figures of every resource in `reading` over [from, to], sorted by resource id.
std::vector<resource_stats> compute_stats(const ledger_reading& reading, double from, double to);

/// The current time in seconds since the epoch.
double now_seconds();

}  // namespace gtest_lockable::internal
