#pragma once

// JSON helpers for untrusted input: text for messages that never throws (json_text, shared with
// the front ends through the internal header), and a depth check that does not recurse.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "gtest_lockable/internal/json.hpp"  // json_text

namespace gtest_lockable::detail {

/// What nlohmann says went wrong, without its "[json.exception.parse_error.101] " prefix:
/// "parse error at line 3, column 5: ...".
inline std::string json_error_reason(const nlohmann::json::exception& e) {
  const std::string what = e.what();
  const auto pos = what.find("] ");
  return pos == std::string::npos ? what : what.substr(pos + 2);
}

/// `value` as json_text, cut after about `limit` bytes for a message: requirements can be
/// 100 KB long, and a message repeats them. The cut falls between UTF-8 characters.
inline std::string json_excerpt(const nlohmann::json& value, std::size_t limit = 300) {
  std::string text = json_text(value);
  if (text.size() <= limit) return text;
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "... (" + std::to_string(text.size()) + " bytes)";
}

/// Whether objects and arrays nest more than `levels` deep in `value` (`value` itself, when it
/// is an object or array, is level 1). Iterative on purpose: copying, comparing and dumping
/// nlohmann JSON recurse once per level, so input deeper than the stack allows must be refused
/// before any of those.
inline bool nests_deeper_than(const nlohmann::json& value, int levels) {
  if (!value.is_structured()) return false;
  std::vector<std::pair<const nlohmann::json*, int>> pending{{&value, 1}};
  while (!pending.empty()) {
    const auto [node, depth] = pending.back();
    pending.pop_back();
    if (depth > levels) return true;
    for (const auto& child : *node) {
      if (child.is_structured()) pending.emplace_back(&child, depth + 1);
    }
  }
  return false;
}

}  // namespace gtest_lockable::detail
