// The modes that run no command: --list, --ctest-resources, --status and --validate-only.
#include "cli/modes.hpp"

#include <algorithm>
#include <array>
#include <ostream>

#include "cli/exit_codes.hpp"
#include "gtest_lockable/error.hpp"
#include "gtest_lockable/internal/ctest.hpp"
#include "gtest_lockable/internal/health.hpp"
#include "gtest_lockable/internal/json.hpp"
#include "gtest_lockable/internal/settings.hpp"
#include "gtest_lockable/lockable.hpp"

namespace gtest_lockable::cli {
namespace {

using nlohmann::json;

const char* state_name(lock_state state) {
  switch (state) {
    case lock_state::free:
      return "free";
    case lock_state::held:
      return "held";
    case lock_state::stale:
      return "stale";
  }
  return "unknown";
}

}  // namespace

json parse_requirements_option(const cli_options& opts) {
  return internal::parse_requirements_setting(opts.requirements);
}

int list_mode(const cli_options& opts, std::ostream& out) {
  const json requirements = parse_requirements_option(opts);
  // Nothing is locked or created: the lock folder is only read (a missing one means every
  // resource is free), the lock server only asked.
  auto selector = internal::make_lockable(opts);
  json entries = json(selector.select(requirements));
  // Lab health: an entry with a probe, a reset or a health record says how it is, under a key
  // of ours; the others are printed as the inventory has them.
  const auto states = selector.status(requirements);
  for (std::size_t i = 0; i < states.size() && i < entries.size(); ++i) {
    if (!states[i].health.empty()) entries[i]["lockable_health"] = states[i].health;
  }
  out << detail::json_text(entries, 2) << '\n';
  return 0;
}

int ctest_resources_mode(const cli_options& opts, std::ostream& out) {
  const json requirements = parse_requirements_option(opts);
  auto selector = internal::make_lockable(opts);
  out << detail::json_text(internal::ctest_resources(selector.select(requirements)), 2) << '\n';
  return 0;
}

int status_mode(const cli_options& opts, std::ostream& out) {
  const json requirements = parse_requirements_option(opts);
  auto selector = internal::make_lockable(opts);
  const auto states = selector.status(requirements);
  if (opts.json) {
    out << detail::json_text(status_json(states), 2) << '\n';
  } else {
    out << status_table(states);
  }
  return 0;
}

int validate_mode(const cli_options& opts, std::ostream& out, std::ostream& err) {
  std::vector<std::string> problems;
  std::shared_ptr<const inventory> inv;
  try {
    inv = open_inventory(opts.resources.value)->load();
  } catch (const error& e) {
    problems.push_back(message_of(e));
  }
  // Lab health: a malformed probe or reset would fail only when a lock reaches its resource.
  if (inv) {
    for (const json& resource : inv->resources) {
      if (auto problem = internal::health_field_problem(resource); !problem.empty()) {
        problems.push_back("inventory '" + opts.resources.value + "': " + problem);
      }
    }
  }
  json effective;
  std::optional<query> selector;
  try {
    effective = with_defaults(parse_requirements_option(opts), internal::effective_hostname(opts));
    selector.emplace(effective);
  } catch (const error& e) {
    problems.emplace_back(e.what());
  }
  if (!problems.empty()) {
    for (const auto& problem : problems) err << "lockable: " << printable(problem) << '\n';
    return exit_code::invalid_input;
  }
  const auto matching = std::count_if(inv->resources.begin(), inv->resources.end(),
                                      [&](const json& r) { return selector->matches(r); });
  out << "inventory '" << opts.resources.value << "' is valid: " << inv->resources.size()
      << " resources, " << matching << " matching " << detail::json_text(effective) << '\n';
  return 0;
}

std::string status_table(const std::vector<lock_status>& states) {
  std::vector<std::array<std::string, 7>> rows;
  rows.push_back({"RESOURCE", "STATE", "PID", "HOST", "SINCE", "NOTE", "HEALTH"});
  bool notes = false;
  // The health column only when some resource has a probe, a reset or a record.
  const bool health = std::any_of(states.begin(), states.end(),
                                  [](const lock_status& s) { return !s.health.empty(); });
  for (const auto& s : states) {
    const holder_info& h = s.holder;
    const bool known = s.state != lock_state::free;
    // Ids come from the inventory and the rest from lock files: printed, never obeyed.
    std::string note = h.note;
    if (note.empty() && known && !h.hold_until.empty()) {
      note = "hold of " + h.user + " until " + h.hold_until +
             (h.hold_note.empty() ? "" : ": " + h.hold_note);
    }
    rows.push_back({printable(s.resource_id), state_name(s.state),
                    known && h.pid > 0 ? std::to_string(h.pid) : "-",
                    known && !h.host.empty() ? printable(h.host) : "-",
                    known && !h.since.empty() ? printable(h.since) : "-", printable(note),
                    s.health.empty() ? "-" : printable(s.health)});
    notes = notes || !note.empty();
  }
  std::vector<std::size_t> shown = {0, 1, 2, 3, 4};
  if (notes) shown.push_back(5);
  if (health) shown.push_back(6);
  std::array<std::size_t, 7> width{};
  for (const auto& row : rows) {
    for (const std::size_t c : shown) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < shown.size(); ++i) {
      const std::size_t c = shown[i];
      line += row[c];
      if (i + 1 < shown.size()) line.append(width[c] - row[c].size() + 2, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + '\n';
  }
  return out;
}

json status_json(const std::vector<lock_status>& states) {
  json out = json::array();
  for (const auto& s : states) {
    json entry = {{"id", s.resource_id}, {"state", state_name(s.state)}};
    const holder_info& h = s.holder;
    if (s.state != lock_state::free) {
      if (h.pid > 0) entry["pid"] = h.pid;
      if (!h.host.empty()) entry["host"] = h.host;
      if (!h.alloc_id.empty()) entry["alloc_id"] = h.alloc_id;
      if (!h.since.empty()) entry["since"] = h.since;
      if (!h.user.empty()) entry["user"] = h.user;
      if (!h.hold_until.empty()) entry["hold"] = {{"until", h.hold_until}, {"note", h.hold_note}};
    }
    if (!h.note.empty()) entry["note"] = h.note;
    if (!s.health.empty()) {
      entry["health"] = s.health;
      entry["quarantined"] = s.quarantined;
      if (!s.health_output.empty()) entry["health_output"] = s.health_output;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace gtest_lockable::cli
