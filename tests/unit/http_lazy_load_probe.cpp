// Run by CTest: proves that a program using a file inventory never loads the HTTP module
// (cpp-httplib, OpenSSL: ~5 ms of start-up), and that an http URI loads it on demand.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest_lockable/lockable.hpp"

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
  namespace fs = std::filesystem;
  std::string pattern = (fs::temp_directory_path() / "http_lazy_load_probe.XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return 2;
  const fs::path dir = pattern;
  std::ofstream(dir / "resources.json") << R"([{"id": "b1", "hostname": "h", "online": true}])";
  gtest_lockable::options opts;
  opts.hostname = "h";
  opts.resources = (dir / "resources.json").string();
  opts.lock_folder = (dir / "locks").string();
  {
    gtest_lockable::lockable lab(opts);
    auto board = lab.lock("");
  }
  fs::remove_all(dir);
  for (const char* library : {"libgtest_lockable_http", "libcpp-httplib", "libssl"}) {
    if (mapped(library)) {
      std::fprintf(stderr, "FAIL: locking from a file inventory loaded %s\n", library);
      return 1;
    }
  }
  ::setenv("LOCKABLE_HTTP_RETRIES", "0", 1);
  try {
    gtest_lockable::open_inventory("http://127.0.0.1:1/resources.json")->load();
    std::fprintf(stderr, "FAIL: loading from port 1 succeeded\n");
    return 1;
  } catch (const gtest_lockable::error& e) {
    std::printf("expected failure: %s\n", e.what());
  }
  if (!mapped("libgtest_lockable_http") || !mapped("libcpp-httplib")) {
    std::fprintf(stderr, "FAIL: an http URI did not load the HTTP module\n");
    return 1;
  }
  std::printf("OK: the HTTP module is loaded only for an http URI\n");
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
