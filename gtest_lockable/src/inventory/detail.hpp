#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest_lockable/inventory.hpp"
#include "gtest_lockable/query.hpp"

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

/// The part of an inventory that a lock call needs.
struct inventory_selection {
  std::size_t size = 0;                   ///< How many entries the whole inventory has.
  std::vector<nlohmann::json> resources;  ///< The entries that matched, in inventory order.
};

/// A provider that finds the entries matching some queries faster than `load` and a filter
/// (see inventory_scan.hpp).
class selective_inventory {
 public:
  virtual ~selective_inventory() = default;
  /// The entries matching at least one of `queries`, after validating the whole inventory as
  /// `load` does (same errors).
  virtual inventory_selection select(const std::vector<const query*>& queries) = 0;
};

/// Whether `resource` matches at least one of `queries`.
bool matches_any(const nlohmann::json& resource, const std::vector<const query*>& queries);

/// The entries of `resources` that match at least one of `queries`, in order.
std::vector<nlohmann::json> matching(const std::vector<nlohmann::json>& resources,
                                     const std::vector<const query*>& queries);

/// The entries of `provider`'s current inventory that match at least one of `queries`: through
/// `selective_inventory` when the provider is one, else `load` and a filter.
inventory_selection select_resources(inventory_provider& provider,
                                     const std::vector<const query*>& queries);

/// The provider for an http(s) URI.
std::unique_ptr<inventory_provider> http_inventory(const std::string& uri);

}  // namespace gtest_lockable::detail
