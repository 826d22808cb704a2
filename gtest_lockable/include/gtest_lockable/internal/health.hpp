#pragma once

// Internal, not a stable API: what the front ends need of lab health (see docs/lab-health.md).

#include <nlohmann/json.hpp>
#include <string>

namespace gtest_lockable::internal {

/// The problem with inventory entry `entry`'s `health` field (probe, reset, timeout), one line
/// naming the resource and the field, or empty when it has none or a valid one.
std::string health_field_problem(const nlohmann::json& entry);

}  // namespace gtest_lockable::internal
