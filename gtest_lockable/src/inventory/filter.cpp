#include "src/inventory/filter.hpp"

#include <algorithm>

#include "gtest_lockable/extend/inventory_provider.hpp"

namespace gtest_lockable {

using nlohmann::json;

bool detail::matches_any(const json& resource, const std::vector<const query*>& queries) {
  return std::any_of(queries.begin(), queries.end(),
                     [&](const query* q) { return q->matches(resource); });
}

std::vector<json> detail::matching(const std::vector<json>& resources,
                                   const std::vector<const query*>& queries) {
  std::vector<json> out;
  for (const auto& resource : resources) {
    if (matches_any(resource, queries)) out.push_back(resource);
  }
  return out;
}

inventory_selection inventory_provider::select(const std::vector<const query*>& queries) {
  const auto inv = load();
  return {inv->resources.size(), detail::matching(inv->resources, queries)};
}

}  // namespace gtest_lockable
