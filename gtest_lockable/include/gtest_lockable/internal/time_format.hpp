#pragma once

// Internal, not a stable API: the one formatter of seconds for messages, shared by the core,
// its modules and both front ends, so that the front ends need not include the core's private
// `src/` headers.

#include <chrono>
#include <cstdio>
#include <string>

namespace gtest_lockable::detail {

/// `d` in seconds for messages: three significant digits (`0.5 s`, `12.3 s`, `1.2e+03 s`), or
/// `decimals` fixed decimals when it is 0 or more (`seconds_text(2s, 1)` is `2.0 s`).
inline std::string seconds_text(std::chrono::duration<double> d, int decimals = -1) {
  char text[48];
  if (decimals < 0) {
    std::snprintf(text, sizeof text, "%.3g s", d.count());
  } else {
    std::snprintf(text, sizeof text, "%.*f s", decimals, d.count());
  }
  return text;
}

}  // namespace gtest_lockable::detail
