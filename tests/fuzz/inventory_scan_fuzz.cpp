// libFuzzer target: the indexed path for inventory files (src/inventory/scan.hpp) against
// parse_inventory. Any text must give the same error, or the same entries for a lock call.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/inventory.hpp"
#include "src/inventory/scan.hpp"

namespace {

using nlohmann::json;

std::string through_parse(const std::string& text, const gtest_lockable::query& q) {
  try {
    const auto inv = gtest_lockable::parse_inventory(text, "fuzz.json");
    json selected = json::array();
    for (const auto& resource : inv.resources) {
      if (q.matches(resource)) selected.push_back(resource);
    }
    return std::to_string(inv.resources.size()) + selected.dump();
  } catch (const gtest_lockable::error& e) {
    return e.what();
  }
}

std::string through_index(const std::string& text, const gtest_lockable::query& q) {
  try {
    const auto index = gtest_lockable::detail::index_inventory(text, "fuzz.json");
    return std::to_string(index.size()) +
           json(gtest_lockable::detail::select_entries(index, {&q})).dump();
  } catch (const gtest_lockable::error& e) {
    return e.what();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  static const gtest_lockable::query q(json{{"hostname", "h1"}});
  if (through_parse(text, q) != through_index(text, q)) std::abort();
  return 0;
}
