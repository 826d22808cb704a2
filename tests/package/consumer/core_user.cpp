// Locks a board through the core library alone.
#include <cstdio>

#include "gtest_lockable/lockable.hpp"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  gtest_lockable::options opts;
  opts.resources = argv[1];
  opts.lock_folder = argv[2];
  opts.hostname = "localhost";
  try {
    gtest_lockable::lockable lockable(opts);
    auto board = lockable.lock("type=board", gtest_lockable::seconds(30));
    std::printf("core_user holds %s\n", board.resource_id().c_str());
  } catch (const gtest_lockable::error& e) {
    std::fprintf(stderr, "core_user: %s\n", e.what());
    return 1;
  }
  return 0;
}
