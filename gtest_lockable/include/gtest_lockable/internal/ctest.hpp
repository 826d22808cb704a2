#pragma once

// Internal, not a stable API: the one mapping from inventory ids to CTest resource ids, shared by
// the plugin (which finds the resource CTest assigned a test) and the command (whose
// `--ctest-resources` mode writes them for the resource spec that the CMake module generates).

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gtest_lockable/inventory.hpp"

namespace gtest_lockable::internal {

/// CTest's id for an inventory id: lower case, every character outside [a-z0-9_] replaced by `_`
/// (`Board-A` is `board_a`).
inline std::string ctest_resource_id(const std::string& id) {
  std::string out;
  for (const char c : id) {
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool plain = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9') || c == '_';
    out += plain ? lower : '_';
  }
  return out;
}

/// The resources of a CTest resource spec for the selected inventory entries: a JSON array of
/// `{"id": <ctest id>, "slots": n}` in inventory order, where ids that map alike become one
/// resource with one slot each.
inline nlohmann::json ctest_resources(const std::vector<nlohmann::json>& selected) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& resource : selected) {
    const std::string id = ctest_resource_id(resource_id_text(resource));
    auto known = std::find_if(out.begin(), out.end(),
                              [&](const nlohmann::json& r) { return r["id"] == id; });
    if (known != out.end()) {
      (*known)["slots"] = (*known)["slots"].get<int>() + 1;
    } else {
      out.push_back({{"id", id}, {"slots", 1}});
    }
  }
  return out;
}

/// The CTest resource type of the pool of one requirement, as the plugin's
/// `--lockable_list_requirements` names it and as it finds the resource CTest assigned: `lockable_`
/// and 12 hex digits of a hash of the inventory, the host name setting and the requirements, so
/// that equal requirements of any test program of a build share one pool.
inline std::string ctest_pool_name(const std::string& resources, const std::string& hostname,
                                   const nlohmann::json& requirements) {
  std::uint64_t hash = 1469598103934665603ull;  // FNV-1a, 64 bits
  for (const std::string& part : {resources, hostname, requirements.dump()}) {
    for (const char c : part + '\n') {
      hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    }
  }
  char text[32];
  std::snprintf(text, sizeof text, "lockable_%012llx",
                static_cast<unsigned long long>(hash & 0xffffffffffffull));
  return text;
}

}  // namespace gtest_lockable::internal
