#pragma once

// Lab health (see docs/lab-health.md): a resource's probe and reset commands, its health record
// in the lock store (consecutive failures, quarantine), and the gate a lock call passes each
// resource through before it hands it out.

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gtest_lockable/extend/lock_store.hpp"
#include "gtest_lockable/query.hpp"
#include "src/health/check_command.hpp"

namespace gtest_lockable::detail {

/// The inventory field that holds an entry's probe and reset.
inline constexpr const char* health_field = "health";

/// An entry's probe and reset commands and their timeout.
struct health_spec {
  std::vector<std::string> probe;  ///< Empty: none.
  std::vector<std::string> reset;  ///< Empty: none.
  std::chrono::duration<double> timeout{60.0};
};

/// The probe and reset of inventory entry `entry` (resource `id`), or none when it has no
/// `health` field. Throws `error` (`errc::invalid_inventory`) naming the resource and the field
/// when it is malformed.
std::optional<health_spec> health_spec_of(const nlohmann::json& entry, const std::string& id);

/// A probe and reset for the entries that match a requirement and have no `health` field of their
/// own (`options::health_defaults`).
struct health_default {
  std::shared_ptr<const query> match;
  health_spec spec;
};

/// Parses `defaults`, a JSON array of `{"match": requirements, "probe": [...], "reset": [...],
/// "timeout": s}` read from `source` (named in messages). Throws `error`
/// (`errc::invalid_argument`) naming the source, the item and what is wrong.
std::vector<health_default> parse_health_defaults(const nlohmann::json& defaults,
                                                  const std::string& source);

/// What the health settings say: after how many consecutive failures a resource is quarantined,
/// and how often a quarantined one may be checked again.
struct health_policy {
  int quarantine_after = 3;
  std::chrono::duration<double> recheck_every{600.0};
  std::string host;  ///< This host, for "by" in records.
  /// Probes and resets of entries without their own, first match wins; may be null.
  std::shared_ptr<const std::vector<health_default>> defaults;
};

/// The probe and reset of `entry`: its own `health` field, else the first of `policy.defaults`
/// whose requirements it matches, else none. Throws as `health_spec_of`.
std::optional<health_spec> health_spec_for(const nlohmann::json& entry, const std::string& id,
                                           const health_policy& policy);

/// A resource's health record as the lock store keeps it (one JSON text).
struct health_record {
  int failures = 0;       ///< Consecutive failed probes and resets.
  std::string failed;     ///< The last failure: "probe exited with status 1".
  std::string failed_at;  ///< When, ISO 8601 UTC.
  std::string output;     ///< The tail of its output.
  bool quarantined = false;
  bool manual = false;   ///< Set by `lockable --quarantine`: only `--unquarantine` ends it.
  std::string by;        ///< Who quarantined it: user@host.
  std::string since;     ///< When, ISO 8601 UTC.
  double since_s = 0;    ///< The same in seconds since the epoch.
  std::string reason;    ///< Why.
  double checked_s = 0;  ///< The last check while quarantined, in seconds since the epoch.
};

/// Reads a record; anyone who can write the store can write it, so only fields of the right
/// type are taken. Empty or unreadable text is a healthy record.
health_record parse_health_record(const std::string& text);
/// The record as the store keeps it.
std::string health_record_text(const health_record& record);

/// One line: "ok", "failing 2 of 3: probe exited with status 1", "quarantined by alice@lab since
/// 2026-12-07T10:00:00Z: probe failed 3 times in a row: exited with status 1".
std::string health_text(const health_record& record, int quarantine_after);

/// The longest reason `quarantine` takes, in bytes.
inline constexpr std::size_t max_quarantine_reason = 500;

/// Quarantines `id` by hand. Throws `error` (`errc::invalid_argument`) for a reason that is
/// empty, too long or has control characters. Returns the record written.
health_record quarantine(health_records& records, const std::string& id, const std::string& reason,
                         const std::string& by);
/// Ends the quarantine of `id` and forgets its failures; returns the record as it was. Throws
/// `error` (`errc::not_held`) when `id` is not quarantined.
health_record unquarantine(health_records& records, const std::string& id);

/// Runs `spec`'s `which` command ("probe" or "reset") for resource `id` held by `alloc_id`, with
/// the resource's environment variables, and records the outcome in `records` (may be null).
check_result run_and_record(health_records* records, const health_policy& policy, const char* which,
                            const std::vector<std::string>& argv, const health_spec& spec,
                            const nlohmann::json& entry, const std::string& id,
                            const std::string& alloc_id);

/// The reset an allocation runs when its holder is done, while the lock is still held.
struct reset_task {
  std::shared_ptr<health_records> records;
  health_policy policy;
  health_spec spec;
  nlohmann::json entry;
  std::string id;
  std::string alloc_id;
  long pid = 0;  ///< Only the process that locked runs it (not a forked child).
  std::function<void(const std::string&)> on_warning;
  /// Runs the reset; says a failure through `on_warning`. Never throws.
  void run() noexcept;
};

/// One lock call's view of health: which resources it refused and why, so that it does not try
/// them again, and says why in its wait and timeout messages.
class health_gate {
 public:
  health_gate(std::shared_ptr<health_records> records, health_policy policy)
      : records_(std::move(records)), policy_(std::move(policy)) {}

  /// `id` (inventory entry `entry`) has just been locked by this call as `alloc_id`: true when it
  /// may be handed out (not quarantined, probe passed or none). `note` gets what ran.
  bool admit(const std::string& id, const nlohmann::json& entry, const std::string& alloc_id,
             std::string& note);
  /// The resources not to try again in this call.
  std::vector<std::string> excluded() const;
  /// Before a pass: a quarantine lifted meanwhile makes its resource a candidate again.
  void refresh();
  /// When the call would wait: quarantined resources that may be checked again (automatic, with a
  /// probe or reset, last checked at least `recheck_every` ago) become candidates for one pass.
  /// True when there are any.
  bool allow_rechecks();
  /// For messages: "2 matching resources are quarantined: b1 (...), b2 (...); probe failed: b3
  /// (exited with status 1)". Empty when nothing was refused.
  std::string report() const;
  /// Whether the store keeps health records (a spec without them still runs its probe).
  health_records* records() const { return records_.get(); }
  const health_policy& policy() const { return policy_; }

 private:
  struct refusal {
    std::string why;
    bool quarantined = false;
    bool recheckable = false;  // automatic, and the resource has a check to run
    double due_s = 0;          // when it may be checked again
    bool rechecked = false;    // once per call
  };
  std::shared_ptr<health_records> records_;
  health_policy policy_;
  std::map<std::string, refusal> refused_;
  std::set<std::string> recheck_now_;
};

}  // namespace gtest_lockable::detail
