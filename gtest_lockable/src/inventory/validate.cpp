#include "src/inventory/validate.hpp"

#include <algorithm>
#include <climits>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/inventory.hpp"
#include "src/util/json.hpp"

namespace gtest_lockable {
namespace {

using nlohmann::json;

// "<id>.pid" must fit in one path component.
constexpr std::size_t max_id_length = NAME_MAX - 4;

// Levels of objects and arrays in an entry (the entry itself is level 1). Deeper data would
// overflow the stack when an entry is copied, compared or printed, and no lab needs it.
constexpr int max_entry_depth = 100;

std::string single_quoted(const std::string& s) { return "'" + s + "'"; }

}  // namespace

std::string resource_id_text(const json& resource) {
  const auto it = resource.find("id");
  if (it == resource.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();
  return {};
}

std::string detail::entry_problem(std::size_t index, const json& entry) {
  const std::string where = "entry " + std::to_string(index);
  if (!entry.is_object()) return where + " is " + entry.type_name() + ", not an object";
  if (nests_deeper_than(entry, max_entry_depth)) {
    return where + " nests objects and arrays more than " + std::to_string(max_entry_depth) +
           " levels deep";
  }
  const auto id = entry.find("id");
  if (id == entry.end()) return where + " has no 'id'";
  if (!id->is_string() && !id->is_number_integer()) {
    return where + " has an id that is " +
           (id->is_number() ? std::string("a fraction") : id->type_name()) +
           " (ids are strings or integers)";
  }
  if (const std::string why = unsafe_id_reason(resource_id_text(entry)); !why.empty()) {
    return where + " has id " + json_excerpt(*id) + ", which " + why + " (ids name lock files)";
  }
  return {};
}

std::string detail::duplicate_ids_problem(
    std::vector<std::pair<std::string_view, std::size_t>> ids) {
  std::sort(ids.begin(), ids.end());
  std::string repeats;
  for (std::size_t i = 0; i < ids.size();) {
    std::size_t j = i + 1;
    while (j < ids.size() && ids[j].first == ids[i].first) ++j;
    if (j - i > 1) {
      repeats +=
          (repeats.empty() ? "" : ", ") + single_quoted(std::string(ids[i].first)) + " (entries";
      for (std::size_t k = i; k < j; ++k) repeats += " " + std::to_string(ids[k].second);
      repeats += ")";
    }
    i = j;
  }
  return repeats.empty() ? std::string() : "duplicate ids: " + repeats;
}

std::string detail::unsafe_id_reason(std::string_view id) {
  if (id.empty()) return "is empty";
  if (id == "." || id == "..") return "is '" + std::string(id) + "'";
  if (id.find('/') != std::string_view::npos) return "contains '/'";
  if (id.find('\0') != std::string_view::npos) return "contains a NUL character";
  if (id.size() > max_id_length) {
    return "is longer than " + std::to_string(max_id_length) + " bytes";
  }
  return {};
}

void detail::throw_if_problems(const std::string& origin,
                               const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  std::string message = "invalid inventory " + single_quoted(origin) + ": ";
  for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
  throw error(errc::invalid_inventory, message);
}

std::vector<std::string> detail::inventory_problems(const json& entries) {
  std::vector<std::string> problems;
  if (!entries.is_array()) {
    problems.push_back("must be a JSON array of resources, got " +
                       std::string(entries.type_name()));
    return problems;
  }
  std::vector<std::string> texts(entries.size());
  std::vector<std::pair<std::string_view, std::size_t>> ids;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (std::string problem = entry_problem(i, entries[i]); !problem.empty()) {
      problems.push_back(std::move(problem));
      continue;
    }
    texts[i] = resource_id_text(entries[i]);
    ids.emplace_back(texts[i], i);
  }
  if (std::string repeats = duplicate_ids_problem(std::move(ids)); !repeats.empty()) {
    problems.push_back(std::move(repeats));
  }
  return problems;
}

inventory make_inventory(json entries, std::string origin) {
  detail::throw_if_problems(origin, detail::inventory_problems(entries));
  inventory inv;
  inv.origin = std::move(origin);
  inv.resources.reserve(entries.size());
  for (auto& entry : entries) inv.resources.push_back(std::move(entry));
  return inv;
}

json detail::parse_inventory_json(const std::string& text, const std::string& origin) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for 1e999
    throw error(errc::invalid_inventory,
                "invalid inventory " + single_quoted(origin) + ": " + json_error_reason(e));
  }
}

inventory parse_inventory(const std::string& text, std::string origin) {
  json entries = detail::parse_inventory_json(text, origin);
  return make_inventory(std::move(entries), std::move(origin));
}

}  // namespace gtest_lockable
