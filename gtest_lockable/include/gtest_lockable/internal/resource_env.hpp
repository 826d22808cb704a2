#pragma once

// Internal, not a stable API: a resource as environment variables, py-lockable style. The
// `lockable` command gives them to its command, and the lock path to a resource's probe and reset
// commands (see docs/lab-health.md), so all of them see the same names.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gtest_lockable::internal {

/// One environment variable: name and value.
using variable = std::pair<std::string, std::string>;

/// The variable name for resource field `key`: upper-cased, with every character that may not
/// appear in a variable name (anything but letters, digits and `_`; a multi-byte UTF-8 character
/// counts once) turned into `_`, and a `_` put in front of a leading digit or an empty name.
std::string variable_name(std::string_view key);

/// The variables the command gets while it holds `resource_info`: each top-level field, named by
/// `variable_name` (strings as they are; other values, and strings holding a NUL byte, as compact
/// JSON), then `LOCKABLE_RESOURCE_ID`, `LOCKABLE_RESOURCE_INFO` (the resource as compact JSON)
/// and `LOCKABLE_ALLOC_ID`. When several fields give one name, the last in key order wins; the
/// `LOCKABLE_*` variables win over fields. Pure and total: never throws for any JSON input
/// (invalid UTF-8 is replaced), so it can be fuzzed.
std::vector<variable> resource_variables(const nlohmann::json& resource_info,
                                         std::string_view resource_id, std::string_view alloc_id);

/// `environment` (`NAME=value` strings, as in `environ`; null-terminated, may be null) with
/// `variables` set: entries of the same names are replaced, the others kept in order.
std::vector<std::string> merge_environment(const char* const* environment,
                                           const std::vector<variable>& variables);

}  // namespace gtest_lockable::internal
