// The page of `lockable --report`: one self-contained HTML file (inline CSS and SVG, no script,
// nothing fetched), with a timeline of the allocations per resource, utilisation and wait charts
// and the table of --stats. Hovering a bar shows its SVG <title>: resource, times, holder, job,
// outcome.
#include <algorithm>
#include <cstdio>
#include <string>

#include "cli/ledger_modes.hpp"
#include "gtest_lockable/error.hpp"

namespace gtest_lockable::cli {
namespace {

using internal::ending;
using internal::ledger_record;
using internal::resource_stats;

constexpr int label_width = 170;
constexpr int plot_width = 960;
constexpr int row_height = 16;
constexpr int axis_height = 24;

// Text for HTML and SVG, escaped; control characters from the ledger shown as \xNN.
std::string esc(const std::string& raw) {
  const std::string text = printable(raw);
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string fixed(double v, int decimals = 1) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
  return buffer;
}

const char* bar_class(const ledger_record& r) {
  if (r.how == ending::open) return "alloc open";
  if (r.how == ending::abandoned) return "alloc abandoned";
  if (r.failed()) return "alloc fail";
  return r.judged() ? "alloc ok" : "alloc none";
}

// A tick step that gives at most about ten ticks over `span` seconds.
double tick_step(double span) {
  const double steps[] = {1,    5,     15,    60,    300,   900,    1800,   3600,
                          7200, 10800, 21600, 43200, 86400, 172800, 604800, 2592000};
  for (const double s : steps) {
    if (span / s <= 10) return s;
  }
  return span / 10;
}

std::string tick_label(double t, double span) {
  const std::string iso = time_text(t);  // 2026-12-07T08:15:00.000Z
  if (span < 120) return iso.substr(11, 8);
  if (span < 2 * 86400) return iso.substr(11, 5);
  return iso.substr(5, 5) + " " + iso.substr(11, 5);
}

std::string timeline(const internal::ledger_reading& reading,
                     const std::vector<resource_stats>& stats, double from, double to) {
  const double span = std::max(to - from, 1e-3);
  const auto x_of = [&](double t) {
    return label_width + (std::clamp(t, from, to) - from) / span * plot_width;
  };
  std::vector<std::string> rows;
  for (const auto& s : stats) rows.push_back(s.resource);
  const int height = axis_height + static_cast<int>(rows.size()) * row_height + 4;
  const int width = label_width + plot_width + 10;
  std::string svg = "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    std::to_string(width) + "\" height=\"" + std::to_string(height) +
                    "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
                    "\" role=\"img\" aria-label=\"allocations per resource over time\">\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const int y = axis_height + static_cast<int>(i) * row_height;
    if (i % 2 == 0) {
      svg += "<rect class=\"stripe\" x=\"" + std::to_string(label_width) + "\" y=\"" +
             std::to_string(y) + "\" width=\"" + std::to_string(plot_width) + "\" height=\"" +
             std::to_string(row_height) + "\"/>";
    }
    svg += "<text class=\"label\" x=\"" + std::to_string(label_width - 6) + "\" y=\"" +
           std::to_string(y + row_height - 4) + "\">" + esc(rows[i]) + "</text>\n";
  }
  const double step = tick_step(span);
  for (double t = std::ceil(from / step) * step; t <= to; t += step) {
    const std::string x = fixed(x_of(t));
    svg += "<line class=\"tick\" x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" +
           std::to_string(axis_height - 4) + "\" y2=\"" + std::to_string(height) +
           "\"/><text class=\"axis\" x=\"" + x + "\" y=\"14\">" + tick_label(t, span) + "</text>\n";
  }
  for (const ledger_record& r : reading.records) {
    const auto row = std::find(rows.begin(), rows.end(), r.resource);
    if (row == rows.end()) continue;
    const double end = r.how == ending::open ? to
                       : r.ended             ? *r.ended
                       : r.hold >= 0         ? r.started + r.hold
                                             : r.started;
    const double x = x_of(r.started);
    const double w = std::max(0.8, x_of(end) - x);
    const int y = axis_height + static_cast<int>(row - rows.begin()) * row_height + 2;
    std::string title = r.resource + ": " + time_text(r.started) + ", ";
    title += r.how == ending::open ? "held now" : "held " + duration_text(end - r.started);
    title += " (waited " + duration_text(r.wait()) + "); " +
             (r.user.empty() ? "uid " + std::to_string(r.uid) : r.user) + "@" + r.host + " PID " +
             std::to_string(r.pid);
    if (!r.job.empty()) title += "; job " + r.job;
    title += "; " + r.outcome_text();
    svg += "<rect class=\"" + std::string(bar_class(r)) + "\" x=\"" + fixed(x, 2) + "\" y=\"" +
           std::to_string(y) + "\" width=\"" + fixed(w, 2) + "\" height=\"" +
           std::to_string(row_height - 4) + "\"><title>" + esc(title) + "</title></rect>\n";
  }
  return svg + "</svg>\n";
}

// Horizontal bars, one row per resource: `values` scaled to the largest (or to `full`).
std::string bar_chart(const std::string& id, const std::vector<resource_stats>& stats,
                      double (*value)(const resource_stats&),
                      double (*second)(const resource_stats&), double full,
                      std::string (*text)(const resource_stats&)) {
  double top = full;
  if (top <= 0) {
    for (const auto& s : stats) top = std::max({top, value(s), second ? second(s) : 0.0});
  }
  if (top <= 0) top = 1;
  constexpr int bar_width = 600;
  const int height = static_cast<int>(stats.size()) * row_height + 4;
  const int width = label_width + bar_width + 220;
  std::string svg = "<svg id=\"" + id + "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    std::to_string(width) + "\" height=\"" + std::to_string(height) + "\">\n";
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const auto& s = stats[i];
    const int y = static_cast<int>(i) * row_height;
    svg += "<text class=\"label\" x=\"" + std::to_string(label_width - 6) + "\" y=\"" +
           std::to_string(y + row_height - 4) + "\">" + esc(s.resource) + "</text>";
    if (second) {
      svg += "<rect class=\"bar2\" x=\"" + std::to_string(label_width) + "\" y=\"" +
             std::to_string(y + 2) + "\" width=\"" + fixed(second(s) / top * bar_width, 2) +
             "\" height=\"" + std::to_string(row_height - 4) + "\"/>";
    }
    svg += "<rect class=\"bar\" x=\"" + std::to_string(label_width) + "\" y=\"" +
           std::to_string(y + 2) + "\" width=\"" + fixed(value(s) / top * bar_width, 2) +
           "\" height=\"" + std::to_string(row_height - 4) + "\"/>";
    svg += "<text class=\"value\" x=\"" + std::to_string(label_width + bar_width + 8) + "\" y=\"" +
           std::to_string(y + row_height - 4) + "\">" + esc(text(s)) + "</text>\n";
  }
  return svg + "</svg>\n";
}

std::string percent(double share) { return fixed(share * 100) + " %"; }

}  // namespace

std::string report_html(const internal::ledger_reading& reading,
                        const std::vector<resource_stats>& stats, double from, double to) {
  std::size_t failed = 0;
  for (const auto& s : stats) failed += s.failed;
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>lockable: resource usage</title>\n<style>\n"
      "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px 32px;"
      "color:#1d232a;background:#fff}\n"
      "h1{font-size:21px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px}\n"
      ".meta{color:#5a6470;margin:0 0 12px}\n"
      ".stripe{fill:#f3f5f8} .label{font-size:11px;text-anchor:end;fill:#333}\n"
      ".axis{font-size:10px;text-anchor:middle;fill:#5a6470} .tick{stroke:#d5dae0}\n"
      ".value{font-size:11px;fill:#333}\n"
      ".alloc.ok{fill:#2e8b57} .alloc.fail{fill:#d0342c} .alloc.none{fill:#5b84c4}\n"
      ".alloc.open{fill:#e8a317} .alloc.abandoned{fill:#8e44ad}\n"
      ".alloc:hover{stroke:#000;stroke-width:1.5}\n"
      ".bar{fill:#5b84c4} .bar2{fill:#c9d6ea}\n"
      ".legend{margin:4px 0 8px;color:#333} .legend i{display:inline-block;width:11px;"
      "height:11px;margin:0 5px 0 14px;vertical-align:-1px}\n"
      "table{border-collapse:collapse;font-variant-numeric:tabular-nums}\n"
      "th,td{padding:3px 10px;border-bottom:1px solid #e1e5ea;text-align:right}\n"
      "th:first-child,td:first-child{text-align:left} th{background:#f3f5f8}\n"
      "tr.bad td{color:#b0261e;font-weight:600}\n"
      "</style></head><body>\n";
  html += "<h1>Resource usage</h1>\n<p class=\"meta\">" + esc(time_text(from)) + " to " +
          esc(time_text(to)) + " (" + esc(duration_text(to - from)) + ") &middot; " +
          std::to_string(reading.records.size()) + " allocations of " +
          std::to_string(stats.size()) + " resources &middot; " + std::to_string(failed) +
          " failed &middot; " + esc(reading.where);
  if (reading.skipped > 0) {
    html += " &middot; " + std::to_string(reading.skipped) + " ledger lines skipped";
  }
  html +=
      "</p>\n<h2>Timeline</h2>\n<div class=\"legend\">"
      "<i style=\"background:#2e8b57\"></i>passed"
      "<i style=\"background:#d0342c\"></i>failed"
      "<i style=\"background:#8e44ad\"></i>ended without release"
      "<i style=\"background:#e8a317\"></i>held now"
      "<i style=\"background:#5b84c4\"></i>no outcome recorded"
      " &nbsp; (hover a bar for its holder, job and outcome)</div>\n";
  html += timeline(reading, stats, from, to);
  html += "<h2>Utilisation</h2>\n";
  html += bar_chart(
      "utilisation", stats, [](const resource_stats& s) { return s.utilisation; }, nullptr, 1.0,
      [](const resource_stats& s) { return percent(s.utilisation); });
  html +=
      "<h2>Waiting for the resource</h2>\n<div class=\"legend\">"
      "<i style=\"background:#5b84c4\"></i>mean<i style=\"background:#c9d6ea\"></i>p95</div>\n";
  html += bar_chart(
      "waiting", stats, [](const resource_stats& s) { return s.mean_wait; },
      [](const resource_stats& s) { return s.p95_wait; }, 0,
      [](const resource_stats& s) {
        return "mean " + duration_text(s.mean_wait) + ", p95 " + duration_text(s.p95_wait);
      });
  html +=
      "<h2>Statistics</h2>\n<table id=\"stats\"><tr><th>resource</th><th>allocations</th>"
      "<th>utilisation</th><th>wait mean</th><th>wait p95</th><th>hold mean</th>"
      "<th>hold p95</th><th>failed</th><th>now</th></tr>\n";
  for (const auto& s : stats) {
    const bool bad = s.judged > 0 && s.failure_rate() >= 0.5;
    html += std::string(bad ? "<tr class=\"bad\">" : "<tr>") + "<td>" + esc(s.resource) +
            "</td><td>" + std::to_string(s.allocations) + "</td><td>" + percent(s.utilisation) +
            "</td><td>" + duration_text(s.mean_wait) + "</td><td>" + duration_text(s.p95_wait) +
            "</td><td>" + duration_text(s.mean_hold) + "</td><td>" + duration_text(s.p95_hold) +
            "</td><td>" +
            (s.judged ? std::to_string(s.failed) + "/" + std::to_string(s.judged) + " (" +
                            percent(s.failure_rate()) + ")"
                      : "-") +
            "</td><td>" + (s.held_now ? "held" : "free") + "</td></tr>\n";
  }
  html += "</table>\n";
  std::string failures;
  for (const auto& s : stats) {
    for (const ledger_record* r : s.last_failures) {
      failures += "<tr><td>" + esc(s.resource) + "</td><td>" + esc(time_text(r->started)) +
                  "</td><td>" + esc(r->job.empty() ? "-" : r->job) + "</td><td>" +
                  esc((r->user.empty() ? "uid " + std::to_string(r->uid) : r->user) + "@" +
                      r->host + " " + std::to_string(r->pid)) +
                  "</td><td style=\"text-align:left\">" + esc(r->outcome_text()) + "</td></tr>\n";
    }
  }
  if (!failures.empty()) {
    html +=
        "<h2>Last failing runs</h2>\n<table id=\"failures\"><tr><th>resource</th>"
        "<th>started</th><th>job</th><th>holder</th><th>outcome</th></tr>\n" +
        failures + "</table>\n";
  }
  return html + "</body></html>\n";
}

}  // namespace gtest_lockable::cli
