#pragma once

// Internal, not a stable API: the JSON text helper that the core and both front ends share, so
// that the front ends need not include the core's private `src/` headers.

#include <nlohmann/json.hpp>
#include <string>

namespace gtest_lockable::detail {

/// `value` as compact JSON (or indented by `indent` spaces) for messages, lock files and output.
/// Never throws: invalid UTF-8, which JSON built from command-line text may hold and `dump()`
/// refuses, is replaced by U+FFFD.
inline std::string json_text(const nlohmann::json& value, int indent = -1) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace gtest_lockable::detail
