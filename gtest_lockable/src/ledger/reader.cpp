// Reading the usage ledger: lines to records, start and end joined, holders that ended without
// release closed, and the per-resource figures of --stats, --metrics and --report.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/internal/ledger.hpp"
#include "src/ledger/record.hpp"

namespace gtest_lockable::internal {
namespace {

using detail::scanned_value;
using members_t = std::vector<std::pair<std::string_view, scanned_value>>;

// The members a record may have, found in one pass over a line's members.
enum field {
  f_ev,
  f_alloc_id,
  f_resource,
  f_host,
  f_pid,
  f_uid,
  f_user,
  f_job,
  f_requirements,
  f_queued,
  f_started,
  f_ended,
  f_hold,
  f_lost,
  f_exit,
  f_signal,
  f_passed,
  f_failed,
  f_skipped,
  f_failed_tests,
  f_as_hold,
  f_planned,
  f_released_by,
  f_forced,
  field_count
};
constexpr std::string_view field_names[field_count] = {
    "ev",   "alloc_id",     "resource", "host",    "pid",     "uid",         "user",
    "job",  "requirements", "queued",   "started", "ended",   "hold",        "lost",
    "exit", "signal",       "passed",   "failed",  "skipped", "failed_tests",
    "as_hold", "planned", "released_by", "forced"};

struct fields {
  const scanned_value* at[field_count] = {};
  const scanned_value* operator[](field f) const { return at[f]; }
};

void index(const members_t& members, fields& out) {
  for (auto& p : out.at) p = nullptr;
  for (const auto& [key, value] : members) {
    for (int f = 0; f < field_count; ++f) {
      if (field_names[f].size() == key.size() && field_names[f] == key) {
        out.at[f] = &value;
        break;
      }
    }
  }
}

bool number_of(const fields& m, field key, double& out) {
  const scanned_value* v = m[key];
  if (v == nullptr || v->kind != scanned_value::number) return false;
  const auto [end, ec] = std::from_chars(v->raw.data(), v->raw.data() + v->raw.size(), out);
  return ec == std::errc() && end == v->raw.data() + v->raw.size() && std::isfinite(out);
}

std::optional<int> int_of(const fields& m, field key) {
  double value = 0;
  if (!number_of(m, key, value) || value < -1e9 || value > 1e9) return std::nullopt;
  return static_cast<int>(value);
}

std::string text_of(const fields& m, field key) {
  const scanned_value* v = m[key];
  return v != nullptr && v->kind == scanned_value::string ? detail::string_of(*v) : std::string();
}

// What an end record says, kept until its start is joined.
struct end_part {
  double ended = 0;
  double hold = -1;
  bool lost = false;
  bool as_hold = false, planned = false, forced = false;
  std::string released_by;
  outcome result;
};

bool true_of(const fields& m, field key) {
  const scanned_value* v = m[key];
  return v != nullptr && v->raw == "true";
}

end_part end_of(const fields& m) {
  end_part e;
  number_of(m, f_ended, e.ended);
  number_of(m, f_hold, e.hold);
  e.lost = true_of(m, f_lost);
  e.as_hold = true_of(m, f_as_hold);
  e.planned = true_of(m, f_planned);
  e.forced = true_of(m, f_forced);
  e.released_by = text_of(m, f_released_by);
  e.result.exit_status = int_of(m, f_exit);
  e.result.signal = int_of(m, f_signal);
  e.result.passed = int_of(m, f_passed);
  e.result.failed = int_of(m, f_failed);
  e.result.skipped = int_of(m, f_skipped);
  if (const scanned_value* names = m[f_failed_tests];
      names != nullptr && names->kind == scanned_value::nested) {
    const auto parsed = nlohmann::json::parse(names->raw, nullptr, false);
    if (parsed.is_array()) {
      for (const auto& name : parsed) {
        if (name.is_string()) e.result.failed_tests.push_back(name.get<std::string>());
      }
    }
  }
  return e;
}

// The start of a line that is not a record, for a message: bytes outside printable ASCII as
// \xNN, since garbage need not be UTF-8.
std::string excerpt(std::string_view line) {
  std::string out;
  for (std::size_t i = 0; i < line.size() && i < 40; ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return line.size() > 40 ? out + "..." : out;
}

void join(ledger_record& rec, end_part e) {
  if (rec.how == ending::released) {
    // A second end: the first counts, unless it was only planned (an etcd hold) and this one
    // says when the hold really ended (`--release`). The outcome stays the first one's.
    if (!rec.planned || e.planned) return;
    rec.planned = false;
    rec.ended = e.ended;
    rec.hold = e.hold;
    rec.released_by = std::move(e.released_by);
    rec.forced = e.forced;
    return;
  }
  rec.how = ending::released;
  rec.ended = e.ended;
  rec.hold = e.hold;
  rec.lost = e.lost;
  rec.as_hold = e.as_hold;
  rec.planned = e.planned;
  rec.released_by = std::move(e.released_by);
  rec.forced = e.forced;
  rec.result = std::move(e.result);
}

void note(ledger_reading& r, std::size_t line, const std::string& why) {
  ++r.skipped;
  if (r.problems.size() < 5) r.problems.push_back("line " + std::to_string(line) + ": " + why);
}

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::min(values.size(), std::max<std::size_t>(rank, 1)) - 1];
}

double mean(const std::vector<double>& values) {
  if (values.empty()) return 0;
  double sum = 0;
  for (const double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

}  // namespace

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool ledger_record::judged() const {
  return how == ending::abandoned || lost || result.exit_status || result.signal || result.failed ||
         result.passed;
}

bool ledger_record::failed() const {
  return how == ending::abandoned || lost || (result.exit_status && *result.exit_status != 0) ||
         result.signal || (result.failed && *result.failed > 0);
}

std::string ledger_record::outcome_text() const {
  if (how == ending::open) return "held";
  if (how == ending::abandoned) return "ended without release";
  std::string text;
  const auto add = [&text](const std::string& part) { text += (text.empty() ? "" : ", ") + part; };
  if (as_hold) {
    add(released_by.empty() ? "hold"
                            : "hold released by " + released_by + (forced ? " (--force)" : ""));
  }
  if (lost) add("lock lost");
  if (result.signal) add("signal " + std::to_string(*result.signal));
  if (result.exit_status) add("exit " + std::to_string(*result.exit_status));
  if (result.passed || result.failed || result.skipped) {
    const int failed_count = result.failed.value_or(0);
    const int total = result.passed.value_or(0) + failed_count + result.skipped.value_or(0);
    std::string tests = failed_count ? std::to_string(failed_count) + " of " +
                                           std::to_string(total) + " tests failed"
                                     : std::to_string(total) + " tests passed";
    if (result.skipped.value_or(0) > 0) {
      tests += " (" + std::to_string(*result.skipped) + " skipped)";
    }
    for (std::size_t i = 0; i < result.failed_tests.size(); ++i) {
      tests += (i == 0 ? ": " : " ") + result.failed_tests[i];
    }
    add(tests);
  }
  return text.empty() ? "released" : text;
}

namespace {

// Reads ledger text part by part (each file of the ledger is one part) into records.
class ledger_parser {
 public:
  explicit ledger_parser(bool details) : details_(details) {}

  void feed(std::string_view text) {
    r.records.reserve(r.records.size() + text.size() / 400);  // start + end: about 480 bytes
    by_id.reserve(r.records.capacity());
    std::size_t at = 0;
    while (at < text.size()) {
      std::size_t eol = text.find('\n', at);
      if (eol == std::string_view::npos) eol = text.size();
      line(text.substr(at, eol - at));
      at = eol + 1;
    }
  }

  ledger_reading finish();

 private:
  void line(std::string_view line) {
    ++number;
    if (line.empty()) return;
    ++r.lines;
    if (!detail::scan_object(line, members)) {
      note(r, number, "not a ledger record (torn or garbage): " + excerpt(line));
      return;
    }
    index(members, m);
    const std::string event = text_of(m, f_ev);
    std::string alloc_id = text_of(m, f_alloc_id);
    if (alloc_id.empty() || (event != "start" && event != "end")) {
      note(r, number, "not a ledger record (no alloc_id or ev)");
      return;
    }
    if (event == "end") {
      const auto it = by_id.find(alloc_id);
      if (it == by_id.end()) {
        ends.emplace_back(std::move(alloc_id), end_of(m));
      } else {
        join(r.records[it->second], end_of(m));
      }
      return;
    }
    ledger_record rec;
    rec.alloc_id = std::move(alloc_id);
    rec.resource = text_of(m, f_resource);
    double pid = 0, uid = -1;
    number_of(m, f_pid, pid);
    number_of(m, f_uid, uid);
    rec.pid = static_cast<long>(pid);
    rec.uid = static_cast<long>(uid);
    rec.host = text_of(m, f_host);
    rec.user = text_of(m, f_user);
    rec.job = text_of(m, f_job);
    if (const scanned_value* req = m[f_requirements]; req != nullptr && details_) {
      rec.requirements = std::string(req->raw);
    }
    if (!number_of(m, f_started, rec.started) || rec.resource.empty()) {
      note(r, number, "start record without resource or time");
      return;
    }
    if (!number_of(m, f_queued, rec.queued)) rec.queued = rec.started;
    if (!by_id.emplace(rec.alloc_id, r.records.size()).second) {
      note(r, number, "a second start record of allocation " + rec.alloc_id);
      return;
    }
    r.records.push_back(std::move(rec));
  }

  bool details_;
  ledger_reading r;
  std::unordered_map<std::string, std::size_t> by_id;  // alloc_id -> index into r.records
  std::vector<std::pair<std::string, end_part>> ends;  // whose start was not seen (yet)
  members_t members;
  fields m;
  std::size_t number = 0;
};

ledger_reading ledger_parser::finish() {
  std::size_t unmatched = 0;
  for (auto& [id, e] : ends) {
    const auto it = by_id.find(id);
    if (it == by_id.end()) {
      ++unmatched;  // its start is older than the ledger keeps
      continue;
    }
    join(r.records[it->second], std::move(e));
  }
  if (unmatched > 0) {
    r.skipped += unmatched;
    r.problems.push_back(std::to_string(unmatched) +
                         " end records whose start records the ledger no longer keeps");
  }
  // Appended in time order already, but for clocks that stepped back, or writers of other hosts.
  const auto earlier = [](const ledger_record& a, const ledger_record& b) {
    return a.started < b.started;
  };
  if (!std::is_sorted(r.records.begin(), r.records.end(), earlier)) {
    // Sorted by index, then moved once: a record is large to move around.
    std::vector<std::pair<double, std::size_t>> order(r.records.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = {r.records[i].started, i};
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<ledger_record> sorted;
    sorted.reserve(order.size());
    for (const auto& [t, i] : order) sorted.push_back(std::move(r.records[i]));
    r.records = std::move(sorted);
  }
  // A hold's times are those of its end record, or the start record's to the end it names.
  // One whose planned end is still to come is held.
  const double now = now_seconds();
  for (ledger_record& rec : r.records) {
    if (!rec.as_hold || rec.how != ending::released) continue;
    if (rec.hold < 0 && rec.ended) rec.hold = std::max(0.0, *rec.ended - rec.started);
    if (rec.planned && rec.ended && *rec.ended > now) {
      rec.how = ending::open;
      rec.ended.reset();
      rec.hold = -1;
    }
  }
  // A hold that was followed by another hold of the same resource has ended, released or not:
  // its end is before the next one's start.
  std::unordered_map<std::string, ledger_record*> latest;
  for (auto it = r.records.rbegin(); it != r.records.rend(); ++it) {
    ledger_record*& next = latest[it->resource];
    if (it->how == ending::open && next != nullptr) {
      it->how = ending::abandoned;
      it->ended = next->started;
    }
    next = &*it;
  }
  return std::move(r);
}

}  // namespace

ledger_reading parse_ledger(const std::string& text) {
  ledger_parser parser(true);
  parser.feed(text);
  return parser.finish();
}

ledger_reading read_ledger(lockable& l, const ledger_filter& filter) {
  const auto log = l.ledger();
  if (!log) throw error(errc::lock_store, l.store().describe() + " keeps no ledger");
  std::vector<std::string> problems;
  ledger_parser parser(filter.details);
  log->read([&parser](std::string_view part) { parser.feed(part); }, problems);
  ledger_reading all = parser.finish();
  all.where = log->describe();
  all.problems.insert(all.problems.begin(), problems.begin(), problems.end());
  const double now = now_seconds();
  // Filtered in place: the records are many and large.
  const auto kept = std::remove_if(all.records.begin(), all.records.end(), [&](ledger_record& rec) {
    if (!filter.resource.empty() && rec.resource != filter.resource) return true;
    if (rec.how == ending::open) {
      // The newest record of its resource: held by it still, unless its holder ended without
      // release (the lock file then names no one, or someone else).
      const lock_status s = l.store().status(rec.resource);
      const std::string& holder = s.holder.alloc_id;
      const bool ours = s.state == lock_state::held && !holder.empty() &&
                        (rec.alloc_id == holder || rec.alloc_id.rfind(holder + "-", 0) == 0);
      if (!ours) rec.how = ending::abandoned;
    }
    if (filter.since) {
      const double end = rec.how == ending::open ? now : rec.ended.value_or(rec.started);
      if (end < *filter.since) return true;
    }
    return false;
  });
  all.records.erase(kept, all.records.end());
  return all;
}

std::vector<resource_stats> compute_stats(const ledger_reading& reading, double from, double to) {
  struct work {
    resource_stats stats;
    std::vector<double> waits, holds;
  };
  std::map<std::string, work> by_resource;
  const double period = std::max(to - from, 1e-9);
  for (const ledger_record& rec : reading.records) {
    work& w = by_resource[rec.resource];
    w.stats.resource = rec.resource;
    double end = rec.started;
    if (rec.how == ending::open) {
      end = to;
      w.stats.held_now = true;
    } else if (rec.ended) {
      end = *rec.ended;
    } else if (rec.hold >= 0) {
      end = rec.started + rec.hold;
    }
    const double clipped = std::min(end, to) - std::max(rec.started, from);
    if (clipped > 0) w.stats.held_seconds += clipped;
    if (rec.started < from || rec.started > to) continue;
    ++w.stats.allocations;
    w.waits.push_back(std::max(0.0, rec.wait()));
    if (rec.how == ending::released && rec.hold >= 0) w.holds.push_back(rec.hold);
    if (rec.how == ending::abandoned) ++w.stats.abandoned;
    if (rec.judged()) {
      ++w.stats.judged;
      if (rec.failed()) {
        ++w.stats.failed;
        w.stats.last_failures.insert(w.stats.last_failures.begin(), &rec);
        if (w.stats.last_failures.size() > 3) w.stats.last_failures.pop_back();
      }
    }
  }
  std::vector<resource_stats> out;
  for (auto& [id, w] : by_resource) {
    resource_stats& s = w.stats;
    s.utilisation = std::min(1.0, s.held_seconds / period);
    s.mean_wait = mean(w.waits);
    s.max_wait = w.waits.empty() ? 0 : *std::max_element(w.waits.begin(), w.waits.end());
    s.p95_wait = percentile(w.waits, 0.95);
    s.mean_hold = mean(w.holds);
    s.p95_hold = percentile(w.holds, 0.95);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace gtest_lockable::internal
