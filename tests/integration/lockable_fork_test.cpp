// The lock folder store across fork(): a child's copy of an allocation is not the lock.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "gtest_lockable/lockable.hpp"
#include "temp_folder.hpp"

namespace gtest_lockable {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Named as the unit tests' fixture, so that the CTest name stays lockable_test.<test>.
class lockable_test : public ::testing::Test {
 protected:
  lockable make_one_board() {
    options opts;
    opts.hostname = "h";
    opts.inventory =
        memory_inventory(json::array({{{"id", "b0"}, {"hostname", "h"}, {"online", true}}}));
    opts.lock_folder = folder_.string();
    return lockable(opts);
  }

  test_support::temp_folder dir_{"lockable_test"};
  fs::path folder_ = dir_.path() / "locks";
};

TEST_F(lockable_test, forked_child_releasing_its_copy_leaves_the_parents_lock) {
  auto l = make_one_board();
  auto a = l.lock(json::object());
  const pid_t child = ::fork();
  if (child == 0) {
    a.unlock();  // the child's copy of the allocation, as a death test's exit would destroy it
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(fs::exists(folder_ / "b0.pid")) << "the child removed the parent's lock file";
  EXPECT_THROW(l.lock(json::object()), error) << "the parent no longer holds its lock";
}

}  // namespace
}  // namespace gtest_lockable
