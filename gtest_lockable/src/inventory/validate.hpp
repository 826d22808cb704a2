#pragma once

// Validating inventories, shared by every path that reads one: a whole parse (make_inventory,
// parse_inventory), the scan of an inventory file (scan.cpp) and the http provider. Depends on
// nothing else of src/inventory.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gtest_lockable::detail {

/// Every problem that makes `entries` an invalid inventory; empty when it is valid.
std::vector<std::string> inventory_problems(const nlohmann::json& entries);

/// What is wrong with entry `index` on its own (not an object, no id, a bad id), or empty.
std::string entry_problem(std::size_t index, const nlohmann::json& entry);

/// Why `id` cannot name a lock file ("contains '/'"), or empty when it can.
std::string unsafe_id_reason(std::string_view id);

/// "duplicate ids: 'a' (entries 0 2), ..." for the ids (text, entry index) that repeat, or empty.
std::string duplicate_ids_problem(std::vector<std::pair<std::string_view, std::size_t>> ids);

/// Throws the `invalid_inventory` error listing `problems` for `origin`, if there are any.
void throw_if_problems(const std::string& origin, const std::vector<std::string>& problems);

/// Parses inventory text; a parse error names `origin`, the line and the column.
nlohmann::json parse_inventory_json(const std::string& text, const std::string& origin);

}  // namespace gtest_lockable::detail
