#pragma once

// The usage ledger's records (see docs/ledger.md): one line of JSON each, a `start` record when
// an allocation is held and an `end` record when it is released. Both are written whole by one
// append; readers join them by allocation id.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest_lockable/lockable.hpp"

namespace gtest_lockable::detail {

/// Writes the records of one `lockable`'s allocations. A ledger that cannot be written costs one
/// warning, after which this writer writes nothing more: locking goes on without it.
class ledger_writer {
 public:
  ledger_writer(std::shared_ptr<ledger_log> log, std::function<void(const std::string&)> warn)
      : log_(std::move(log)), warn_(std::move(warn)) {}

  /// Appends `line`; never throws.
  void write(const std::string& line) noexcept;

 private:
  std::shared_ptr<ledger_log> log_;
  std::function<void(const std::string&)> warn_;
  std::mutex mutex_;
  bool broken_ = false;
};

/// What an allocation keeps to write its end record.
struct ledger_entry {
  std::shared_ptr<ledger_writer> writer;
  std::string alloc_id;
  std::string resource;
  long pid = 0;  // only the process that wrote the start record writes the end record
  outcome result;
};

/// What a start record says.
struct start_fields {
  std::string alloc_id, resource, host, requirements;
  long pid = 0;
  double queued = 0, started = 0;
};

/// The start record's line, with the user and the CI job of this process.
std::string start_record(const start_fields& f);

/// The end record's line.
std::string end_record(const ledger_entry& e, double ended, double hold, bool lost);

/// The end record of an allocation that became a hold, in the two parts around its times, for
/// the store that writes it when the hold ends: `head` ends with `"ended":`; `tail` starts with
/// `,"as_hold":true`, carries the outcome and ends the line.
void hold_end_parts(const ledger_entry& e, std::string& head, std::string& tail);

/// A hold's end record from `hold_end_parts`: `head`, the end time, the seconds held, `extra`
/// members (each starting with a comma), `tail`.
std::string hold_end_record(const std::string& head, const std::string& tail, double ended,
                            double hold, const std::string& extra = {});

/// The end record that `lockable --release` writes for a hold it ended early (etcd): no times
/// held, which readers take from the start record; `by` is who released it.
std::string released_hold_record(const std::string& alloc_id, const std::string& resource,
                                 double ended, const std::string& by, bool forced);

/// The CI job this process runs in, from the CI systems' own variables (GitHub Actions, GitLab
/// CI, Jenkins, Buildkite, CircleCI, Azure Pipelines), e.g. `github:123456/1/build`; empty when
/// none is set. No other environment value is read.
std::string ci_job();

/// A value of a flat JSON object as `scan_object` found it.
struct scanned_value {
  enum kind_t { string, number, boolean, null, nested } kind = null;
  std::string_view raw;  ///< The value's text; a string's without its quotes, still escaped.
  bool escaped = false;  ///< A string with backslash escapes.
};

/// The members of one line's JSON object, in order, with nested objects and arrays kept as raw
/// text. Much faster than a DOM parse for records whose values are mostly flat. False when the
/// line is not one JSON object (it is then skipped).
bool scan_object(std::string_view line,
                 std::vector<std::pair<std::string_view, scanned_value>>& members);

/// A scanned string's value, unescaped.
std::string string_of(const scanned_value& v);

}  // namespace gtest_lockable::detail
