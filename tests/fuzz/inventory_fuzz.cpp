// libFuzzer target: inventory text through parsing and validation.
#include <cstddef>
#include <cstdint>
#include <string>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/inventory.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto inv = gtest_lockable::parse_inventory(text, "fuzz.json");
    for (const auto& resource : inv.resources) (void)gtest_lockable::resource_id_text(resource);
  } catch (const gtest_lockable::error&) {
  }
  return 0;
}
