#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "gtest_lockable/internal/ledger.hpp"

namespace gtest_lockable::cli {

/// `--history`: the ledger's allocations to `out`, as a table or JSON; what was skipped to `err`.
int history_mode(const cli_options& opts, std::ostream& out, std::ostream& err);

/// `--stats`: per-resource figures to `out`, as a table or JSON.
int stats_mode(const cli_options& opts, std::ostream& out, std::ostream& err);

/// `--metrics FILE`: the Prometheus text format, written to FILE whole (through a rename).
int metrics_mode(const cli_options& opts, std::ostream& out, std::ostream& err);

/// `--report FILE`: the HTML page, written to FILE whole.
int report_mode(const cli_options& opts, std::ostream& out, std::ostream& err);

/// `--since`'s text as seconds since the epoch, `now` minus a duration (`90m`, `24h`, `7d`) or
/// a UTC date (`2026-12-01`, `2026-12-01T08:00`, `2026-12-01T08:00:00Z`). Throws `error`.
double parse_since(const std::string& text, double now);

/// A time as ISO 8601 UTC with milliseconds.
std::string time_text(double epoch_seconds);

/// A duration for people: `0.25 s`, `12.5 min`, `3.2 h`.
std::string duration_text(double seconds);

/// The page of `--report` (in report.cpp).
std::string report_html(const internal::ledger_reading& reading,
                        const std::vector<internal::resource_stats>& stats, double from, double to);

}  // namespace gtest_lockable::cli
