// libFuzzer target: requirements text in both forms, then the defaults merge.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/requirements.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto requirements = gtest_lockable::parse_requirements(text);
    (void)gtest_lockable::with_defaults(requirements, "host");
  } catch (const gtest_lockable::error&) {
    // Bad input is expected; anything else escaping is a finding.
  }
  return 0;
}
