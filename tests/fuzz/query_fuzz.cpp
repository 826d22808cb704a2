// libFuzzer target: a query and a document, separated by the first newline, both JSON.
#include <cstddef>
#include <cstdint>
#include <string>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/query.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto split = input.find('\n');
  if (split == std::string::npos) return 0;
  const auto q = nlohmann::json::parse(input.substr(0, split), nullptr, false);
  const auto doc = nlohmann::json::parse(input.substr(split + 1), nullptr, false);
  if (q.is_discarded() || doc.is_discarded()) return 0;
  try {
    const gtest_lockable::query compiled(q);
    (void)compiled.matches(doc);
  } catch (const gtest_lockable::error&) {
  }
  return 0;
}
