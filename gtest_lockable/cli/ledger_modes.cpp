// The modes that read the usage ledger: --history, --stats, --metrics and --report.
#include "cli/ledger_modes.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <ostream>

#include "cli/exit_codes.hpp"
#include "gtest_lockable/error.hpp"
#include "gtest_lockable/internal/json.hpp"
#include "gtest_lockable/internal/settings.hpp"
#include "gtest_lockable/internal/time_format.hpp"
#include "gtest_lockable/lockable.hpp"

namespace gtest_lockable::cli {
namespace {

using internal::ending;
using internal::ledger_reading;
using internal::ledger_record;
using internal::resource_stats;
using nlohmann::json;

// Days from 1970-01-01 to a civil date (Howard Hinnant's days_from_civil).
long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

// The ledger as --since and --resource select it, with what was skipped said on `err`.
struct ledger_view {
  ledger_reading reading;
  double from = 0;
  double to = 0;
};

ledger_view read_view(const cli_options& opts, std::ostream& err) {
  ledger_view view;
  view.to = internal::now_seconds();
  internal::ledger_filter filter;
  if (!opts.since.empty()) filter.since = parse_since(opts.since, view.to);
  filter.resource = opts.resource;
  filter.details = opts.what == mode::history;
  lockable reader = internal::make_lockable(opts);
  view.reading = internal::read_ledger(reader, filter);
  if (view.reading.skipped > 0 || !view.reading.problems.empty()) {
    std::string line = view.reading.where + ": skipped " + std::to_string(view.reading.skipped) +
                       " of " + std::to_string(view.reading.lines) + " lines";
    for (const auto& p : view.reading.problems) line += "; " + p;
    err << "lockable: " << printable(line) << '\n';
  }
  view.from = filter.since
                  ? *filter.since
                  : (view.reading.records.empty() ? view.to : view.reading.records.front().started);
  return view;
}

std::string holder_text(const ledger_record& r) {
  std::string who = r.user.empty() ? (r.uid >= 0 ? "uid " + std::to_string(r.uid) : "?") : r.user;
  return who + "@" + r.host + " " + std::to_string(r.pid);
}

const char* ending_name(ending e) {
  switch (e) {
    case ending::released:
      return "released";
    case ending::abandoned:
      return "ended without release";
    case ending::open:
      return "held";
  }
  return "?";
}

json record_json(const ledger_record& r) {
  json out = {{"alloc_id", r.alloc_id},
              {"resource", r.resource},
              {"host", r.host},
              {"pid", r.pid},
              {"queued", time_text(r.queued)},
              {"started", time_text(r.started)},
              {"wait", r.wait()},
              {"ending", ending_name(r.how)},
              {"failed", r.failed()},
              {"outcome", r.outcome_text()}};
  if (r.uid >= 0) out["uid"] = r.uid;
  if (!r.user.empty()) out["user"] = r.user;
  if (!r.job.empty()) out["job"] = r.job;
  const json req = json::parse(r.requirements, nullptr, false);
  if (!req.is_discarded()) out["requirements"] = req;
  out["ended"] = r.ended ? json(time_text(*r.ended)) : json(nullptr);
  out["hold"] = r.hold >= 0 ? json(r.hold) : json(nullptr);
  if (r.as_hold) out["as_hold"] = true;
  if (!r.released_by.empty()) out["released_by"] = r.released_by;
  if (r.forced) out["forced"] = true;
  if (r.result.exit_status) out["exit"] = *r.result.exit_status;
  if (r.result.signal) out["signal"] = *r.result.signal;
  if (r.result.passed) out["passed"] = *r.result.passed;
  if (r.result.failed) out["failed_count"] = *r.result.failed;
  if (r.result.skipped) out["skipped"] = *r.result.skipped;
  if (!r.result.failed_tests.empty()) out["failed_tests"] = r.result.failed_tests;
  if (r.lost) out["lost"] = true;
  return out;
}

template <std::size_t N>
std::string table(const std::vector<std::array<std::string, N>>& rows) {
  std::array<std::size_t, N> width{};
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < N; ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < N; ++c) {
      line += row[c];
      if (c + 1 < N) line.append(width[c] - row[c].size() + 2, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + '\n';
  }
  return out;
}

std::string percent(double share) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", share * 100);
  return buffer;
}

json stats_json(const resource_stats& s) {
  json failures = json::array();
  for (const ledger_record* r : s.last_failures) failures.push_back(record_json(*r));
  return {{"resource", s.resource},       {"allocations", s.allocations},
          {"utilisation", s.utilisation}, {"held_seconds", s.held_seconds},
          {"mean_wait", s.mean_wait},     {"p95_wait", s.p95_wait},
          {"max_wait", s.max_wait},       {"mean_hold", s.mean_hold},
          {"p95_hold", s.p95_hold},       {"judged", s.judged},
          {"failed", s.failed},           {"failure_rate", s.failure_rate()},
          {"abandoned", s.abandoned},     {"held_now", s.held_now},
          {"last_failures", failures}};
}

// Writes `text` to `path` whole: a temporary file beside it, then a rename, so that a reader
// (node_exporter's textfile collector, a browser) never sees half of it.
void write_whole(const std::string& path, const std::string& text, std::ostream& out) {
  if (path == "-") {
    out << text;
    return;
  }
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  const int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  const auto fail = [&](int err) {
    if (fd >= 0) ::close(fd);
    ::unlink(temporary.c_str());
    throw error(errc::invalid_argument, "cannot write '" + path + "': " + std::strerror(err));
  };
  if (fd < 0) fail(errno);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(n < 0 ? errno : ENOSPC);
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temporary.c_str());
    throw error(errc::invalid_argument, "cannot write '" + path + "': " + std::strerror(err));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temporary.c_str());
    throw error(errc::invalid_argument, "cannot write '" + path + "': " + std::strerror(err));
  }
}

// A label value in the Prometheus text format: backslash, double quote and newline escaped.
std::string label(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number(double v) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);
  return buffer;
}

}  // namespace

double parse_since(const std::string& text, double now) {
  const auto bad = [&text]() {
    return error(errc::invalid_argument,
                 "invalid --since '" + text +
                     "': give a duration back from now (90m, 24h, 7d) or a UTC date "
                     "(2026-12-01, 2026-12-01T08:00)");
  };
  if (!text.empty() && text.back() == 'd') {
    const std::string days = text.substr(0, text.size() - 1);
    try {
      return now - internal::parse_duration(days, "--since", "--since").count() * 86400;
    } catch (const error&) {
      throw bad();
    }
  }
  if (text.size() >= 10 && text[4] == '-' && text[7] == '-') {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    char tail[8] = {0};
    const int got =
        std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%7s", &y, &mo, &d, &h, &mi, &s, tail);
    const bool shape = got == 3 ? text.size() == 10 : got >= 5;
    const bool zone = got < 7 || std::string(tail) == "Z";
    if (!shape || !zone || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
      throw bad();
    }
    return static_cast<double>(
        days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
        mi * 60 + s);
  }
  try {
    return now - internal::parse_duration(text, "--since", "--since").count();
  } catch (const error&) {
    throw bad();
  }
}

std::string time_text(double epoch_seconds) {
  using namespace std::chrono;
  const milliseconds ms(std::llround(epoch_seconds * 1000));
  return detail::iso8601(system_clock::time_point(duration_cast<system_clock::duration>(ms)));
}

std::string duration_text(double seconds) {
  char buffer[32];
  if (seconds < 0) return "-";
  if (seconds < 60) {
    std::snprintf(buffer, sizeof buffer, seconds < 10 ? "%.2f s" : "%.1f s", seconds);
  } else if (seconds < 3600) {
    std::snprintf(buffer, sizeof buffer, "%.1f min", seconds / 60);
  } else if (seconds < 86400 * 2) {
    std::snprintf(buffer, sizeof buffer, "%.1f h", seconds / 3600);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f d", seconds / 86400);
  }
  return buffer;
}

int history_mode(const cli_options& opts, std::ostream& out, std::ostream& err) {
  const ledger_view view = read_view(opts, err);
  if (opts.json) {
    json all = json::array();
    for (const auto& r : view.reading.records) all.push_back(record_json(r));
    out << detail::json_text(all, 2) << '\n';
    return 0;
  }
  std::vector<std::array<std::string, 7>> rows;
  rows.push_back({"STARTED", "RESOURCE", "WAIT", "HOLD", "HOLDER", "JOB", "OUTCOME"});
  for (const auto& r : view.reading.records) {
    const double hold = r.hold >= 0 ? r.hold : r.ended ? *r.ended - r.started : -1;
    rows.push_back({time_text(r.started), printable(r.resource), duration_text(r.wait()),
                    r.how == ending::open ? "-" : duration_text(hold), printable(holder_text(r)),
                    r.job.empty() ? "-" : printable(r.job), printable(r.outcome_text())});
  }
  out << table(rows);
  return 0;
}

int stats_mode(const cli_options& opts, std::ostream& out, std::ostream& err) {
  const ledger_view view = read_view(opts, err);
  const auto stats = internal::compute_stats(view.reading, view.from, view.to);
  if (opts.json) {
    json all = json::array();
    for (const auto& s : stats) all.push_back(stats_json(s));
    out << detail::json_text(
               json{{"from", time_text(view.from)}, {"to", time_text(view.to)}, {"resources", all}},
               2)
        << '\n';
    return 0;
  }
  out << "from " << time_text(view.from) << " to " << time_text(view.to) << " ("
      << duration_text(view.to - view.from) << "), " << view.reading.records.size()
      << " allocations\n";
  std::vector<std::array<std::string, 9>> rows;
  rows.push_back({"RESOURCE", "ALLOCATIONS", "UTILISATION", "WAIT MEAN", "WAIT P95", "HOLD MEAN",
                  "HOLD P95", "FAILED", "NOW"});
  for (const auto& s : stats) {
    rows.push_back({printable(s.resource), std::to_string(s.allocations), percent(s.utilisation),
                    duration_text(s.mean_wait), duration_text(s.p95_wait),
                    duration_text(s.mean_hold), duration_text(s.p95_hold),
                    s.judged ? std::to_string(s.failed) + "/" + std::to_string(s.judged) + " (" +
                                   percent(s.failure_rate()) + ")"
                             : "-",
                    s.held_now ? "held" : "free"});
  }
  out << table(rows);
  bool heading = false;
  for (const auto& s : stats) {
    for (const ledger_record* r : s.last_failures) {
      if (!heading) out << "\nlast failing runs:\n";
      heading = true;
      out << "  " << printable(s.resource) << "  " << time_text(r->started) << "  "
          << printable(r->job.empty() ? holder_text(*r) : r->job + " " + holder_text(*r)) << "  "
          << printable(r->outcome_text()) << '\n';
    }
  }
  return 0;
}

int metrics_mode(const cli_options& opts, std::ostream& out, std::ostream& err) {
  const ledger_view view = read_view(opts, err);
  // The states come from the inventory (offline entries are quarantined) and the lock store.
  lockable reader = internal::make_lockable(opts);
  json requirements = internal::parse_requirements_setting(opts.requirements);
  if (requirements.is_object() && !requirements.contains("online"))
    requirements["online"] = nullptr;
  std::map<std::string, std::string> state;
  for (const auto& entry : reader.select(requirements)) {
    const std::string id = resource_id_text(entry);
    if (!opts.resource.empty() && id != opts.resource) continue;
    const auto online = entry.find("online");
    if (online == entry.end() || *online != json(true)) {
      state[id] = "quarantined";
      continue;
    }
    state[id] = reader.store().status(id).state == lock_state::held ? "held" : "free";
  }
  constexpr std::array<double, 9> wait_buckets = {0.001, 0.01, 0.1, 1, 10, 60, 300, 1800, 3600};
  constexpr std::array<double, 9> hold_buckets = {1, 10, 60, 300, 900, 1800, 3600, 14400, 86400};
  struct histogram {
    std::array<std::size_t, 9> counts{};
    std::size_t count = 0;
    double sum = 0;
  };
  struct figures {
    std::size_t allocations = 0, failures = 0;
    histogram wait, hold;
  };
  std::map<std::string, figures> by;
  const auto observe = [](histogram& h, const std::array<double, 9>& bounds, double v) {
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      if (v <= bounds[i]) ++h.counts[i];
    }
    ++h.count;
    h.sum += v;
  };
  for (const auto& r : view.reading.records) {
    figures& f = by[r.resource];
    ++f.allocations;
    if (r.failed()) ++f.failures;
    observe(f.wait, wait_buckets, std::max(0.0, r.wait()));
    if (r.how == ending::released && r.hold >= 0) observe(f.hold, hold_buckets, r.hold);
  }
  for (const auto& [id, f] : by) state.emplace(id, "");  // in the ledger, not the inventory
  std::string text;
  text +=
      "# HELP lockable_resource_state 1 for the state the resource is in now (quarantined: "
      "offline in the inventory).\n# TYPE lockable_resource_state gauge\n";
  for (const auto& [id, s] : state) {
    if (s.empty()) continue;
    for (const char* name : {"held", "free", "quarantined"}) {
      text += "lockable_resource_state{resource=\"" + label(id) + "\",state=\"" + name + "\"} " +
              (s == name ? "1" : "0") + "\n";
    }
  }
  text +=
      "# HELP lockable_allocations_total Allocations the ledger recorded.\n"
      "# TYPE lockable_allocations_total counter\n";
  for (const auto& [id, f] : by) {
    text += "lockable_allocations_total{resource=\"" + label(id) + "\"} " +
            std::to_string(f.allocations) + "\n";
  }
  text +=
      "# HELP lockable_failures_total Allocations whose command or tests failed, or whose "
      "holder ended without release.\n# TYPE lockable_failures_total counter\n";
  for (const auto& [id, f] : by) {
    text += "lockable_failures_total{resource=\"" + label(id) + "\"} " +
            std::to_string(f.failures) + "\n";
  }
  const auto histograms = [&](const char* name, const char* help,
                              const std::array<double, 9>& bounds, histogram figures::*which) {
    text += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " histogram\n";
    for (const auto& [id, f] : by) {
      const histogram& h = f.*which;
      const std::string res = "resource=\"" + label(id) + "\"";
      for (std::size_t i = 0; i < bounds.size(); ++i) {
        text += std::string(name) + "_bucket{" + res + ",le=\"" + number(bounds[i]) + "\"} " +
                std::to_string(h.counts[i]) + "\n";
      }
      text +=
          std::string(name) + "_bucket{" + res + ",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
      text += std::string(name) + "_sum{" + res + "} " + number(h.sum) + "\n";
      text += std::string(name) + "_count{" + res + "} " + std::to_string(h.count) + "\n";
    }
  };
  histograms("lockable_wait_seconds", "How long lock calls waited for the resource.", wait_buckets,
             &figures::wait);
  histograms("lockable_hold_seconds", "How long the resource was held (released allocations).",
             hold_buckets, &figures::hold);
  text +=
      "# HELP lockable_ledger_skipped_lines Ledger lines that were not records.\n"
      "# TYPE lockable_ledger_skipped_lines gauge\nlockable_ledger_skipped_lines " +
      std::to_string(view.reading.skipped) + "\n";
  write_whole(opts.output, text, out);
  return 0;
}

int report_mode(const cli_options& opts, std::ostream& out, std::ostream& err) {
  const ledger_view view = read_view(opts, err);
  const auto stats = internal::compute_stats(view.reading, view.from, view.to);
  write_whole(opts.output, report_html(view.reading, stats, view.from, view.to), out);
  return 0;
}

}  // namespace gtest_lockable::cli
