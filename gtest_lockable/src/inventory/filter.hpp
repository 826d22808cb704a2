#pragma once

// Selecting entries by queries, the plain way: what `inventory_provider::select` does by default
// and what the scan (scan.cpp) falls back to for an inventory it cannot index.

#include <nlohmann/json.hpp>
#include <vector>

#include "gtest_lockable/query.hpp"

namespace gtest_lockable::detail {

/// Whether `resource` matches at least one of `queries`.
bool matches_any(const nlohmann::json& resource, const std::vector<const query*>& queries);

/// The entries of `resources` that match at least one of `queries`, in order.
std::vector<nlohmann::json> matching(const std::vector<nlohmann::json>& resources,
                                     const std::vector<const query*>& queries);

}  // namespace gtest_lockable::detail
