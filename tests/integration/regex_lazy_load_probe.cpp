// Run by CTest: proves that a program whose queries have no $regex never loads RE2 (the regex
// module), and that the first $regex loads it on demand.

#include <cstdio>
#include <fstream>
#include <string>

#include "gtest_lockable/query.hpp"

namespace {

bool mapped(const std::string& library) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find(library) != std::string::npos) return true;
  }
  return false;
}

int run() {
  using nlohmann::json;
  const gtest_lockable::query plain(json{{"hostname", "h"}, {"type", {{"$in", {"a", "b"}}}}});
  if (!plain.matches(json{{"hostname", "h"}, {"type", "a"}})) {
    std::fprintf(stderr, "FAIL: the query without a regex did not match\n");
    return 1;
  }
  for (const char* library : {"libgtest_lockable_regex", "libre2"}) {
    if (mapped(library)) {
      std::fprintf(stderr, "FAIL: a query without $regex loaded %s\n", library);
      return 1;
    }
  }
  const gtest_lockable::query regex(json{{"name", {{"$regex", "^pix"}, {"$options", "i"}}}});
  if (!regex.matches(json{{"name", "Pixel-7"}}) || regex.matches(json{{"name", "iPhone"}})) {
    std::fprintf(stderr, "FAIL: the $regex query matched wrongly\n");
    return 1;
  }
  if (!mapped("libgtest_lockable_regex") || !mapped("libre2")) {
    std::fprintf(stderr, "FAIL: a $regex query did not load the regex module\n");
    return 1;
  }
  std::printf("OK: the regex module is loaded only for a $regex query\n");
  return 0;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL: %s\n", e.what());
    return 1;
  }
}
