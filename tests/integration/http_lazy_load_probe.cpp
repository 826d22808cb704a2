// Run by CTest: proves that a program that reads a file inventory and locks a lock folder never
// loads the HTTP module (cpp-httplib, OpenSSL: ~5 ms of start-up), and that the first use of
// HTTP loads it on demand: `http_lazy_load_probe http` fetches an http URI, `... etcd` makes an
// etcd lock store and asks it for a lock's state.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest_lockable/etcd_store.hpp"
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

// Locks and releases a resource from a file inventory in a lock folder, as `lockable` does.
bool lock_folder_loads_nothing() {
  namespace fs = std::filesystem;
  std::string pattern = (fs::temp_directory_path() / "http_lazy_load_probe.XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return false;
  const fs::path dir = pattern;
  std::ofstream(dir / "resources.json") << R"([{"id": "b1", "hostname": "h", "online": true}])";
  {
    gtest_lockable::options opts;
    opts.hostname = "h";
    opts.resources = (dir / "resources.json").string();
    opts.store = gtest_lockable::open_lock_store((dir / "locks").string(), "");
    gtest_lockable::lockable lab(opts);
    auto board = lab.lock("");
  }
  fs::remove_all(dir);
  for (const char* library : {"libgtest_lockable_http", "libcpp-httplib", "libssl"}) {
    if (mapped(library)) {
      std::fprintf(stderr, "FAIL: locking a lock folder from a file inventory loaded %s\n",
                   library);
      return false;
    }
  }
  return true;
}

// The first use of HTTP (`what`) has happened: the module must be there now.
int expect_loaded(const char* what) {
  if (!mapped("libgtest_lockable_http") || !mapped("libcpp-httplib")) {
    std::fprintf(stderr, "FAIL: %s did not load the HTTP module\n", what);
    return 1;
  }
  std::printf("OK: the HTTP module is loaded only for %s\n", what);
  return 0;
}

int run(const std::string& mode) {
  if (!lock_folder_loads_nothing()) return 1;
  if (mode == "http") {
    ::setenv("LOCKABLE_HTTP_RETRIES", "0", 1);
    try {
      gtest_lockable::open_inventory("http://127.0.0.1:1/resources.json")->load();
      std::fprintf(stderr, "FAIL: loading from port 1 succeeded\n");
      return 1;
    } catch (const gtest_lockable::error& e) {
      std::printf("expected failure: %s\n", e.what());
    }
    return expect_loaded("an http URI");
  }
  if (mode == "etcd") {
    // Nothing listens on port 1: the store's request fails, through the module.
    auto store = gtest_lockable::open_lock_store("", "etcd://127.0.0.1:1?timeout=0.2");
    try {
      store->status("b1");
      std::fprintf(stderr, "FAIL: etcd on port 1 answered\n");
      return 1;
    } catch (const gtest_lockable::error& e) {
      const std::string what = e.what();
      if (what.find("cannot reach etcd at 127.0.0.1:1 (cannot connect)") == std::string::npos) {
        std::fprintf(stderr, "FAIL: unexpected error: %s\n", e.what());
        return 1;
      }
      std::printf("expected failure: %s\n", e.what());
    }
    return expect_loaded("an etcd lock store");
  }
  std::fprintf(stderr, "usage: http_lazy_load_probe http|etcd\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc == 2 ? argv[1] : "");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL: %s\n", e.what());
    return 1;
  }
}
