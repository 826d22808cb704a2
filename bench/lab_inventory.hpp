// The synthetic lab inventory the benchmarks share: 10 hosts; phones, boards and tablets with a
// few attributes each, so that queries see realistic JSON objects (about 200 bytes per entry).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace gtest_lockable::bench {

/// Entry `i` of the lab inventory (id `dut-<i>`, host `lab-<i % 10>`).
inline nlohmann::json lab_resource(int i) {
  static const char* const types[] = {"phone", "board", "tablet"};
  static const char* const oses[] = {"android", "ios", "linux", "zephyr", "windows"};
  static const char* const models[] = {"Pixel", "Galaxy", "iPhone", "RPi", "Nucleo"};
  static const char* const tags[] = {"usb3", "wifi", "eth", "bt", "nfc", "camera"};
  return {{"id", "dut-" + std::to_string(i)},
          {"hostname", "lab-" + std::to_string(i % 10)},
          {"online", i % 7 != 0},
          {"type", types[i % 3]},
          {"os", oses[i % 5]},
          {"name", std::string(models[i % 5]) + "-" + std::to_string(i)},
          {"ram_gb", 2 << (i % 4)},
          {"tags", {tags[i % 6], tags[(i / 6) % 6]}},
          {"board", {{"rev", i % 4}, {"vendor", "acme"}}}};
}

/// Inventory text of the first `count` entries, one per line as people write them.
inline std::string lab_inventory_text(int count) {
  std::string text = "[\n";
  for (int i = 0; i < count; ++i) {
    text += "  " + lab_resource(i).dump() + (i + 1 < count ? ",\n" : "\n");
  }
  return text + "]\n";
}

}  // namespace gtest_lockable::bench
