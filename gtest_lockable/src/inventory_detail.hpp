#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gtest_lockable/inventory.hpp"

namespace gtest_lockable::detail {

/// Every problem that makes `entries` an invalid inventory; empty when it is valid.
std::vector<std::string> inventory_problems(const nlohmann::json& entries);

/// Parses inventory text; a parse error names `origin`, the line and the column.
nlohmann::json parse_inventory_json(const std::string& text, const std::string& origin);

/// The provider for an http(s) URI.
std::unique_ptr<inventory_provider> http_inventory(const std::string& uri);

}  // namespace gtest_lockable::detail
