#include "test_outcome.hpp"

#include <string>

namespace gtest_lockable::detail {

outcome tests_outcome(const std::function<bool(const ::testing::TestSuite&)>& counts) {
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  int passed = 0, failed = 0, skipped = 0;
  outcome out;
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& suite = *unit.GetTestSuite(i);
    if (counts && !counts(suite)) continue;
    for (int j = 0; j < suite.total_test_count(); ++j) {
      const ::testing::TestInfo& test = *suite.GetTestInfo(j);
      if (!test.should_run()) continue;
      const ::testing::TestResult& result = *test.result();
      if (result.Skipped()) {
        ++skipped;
      } else if (result.Failed()) {
        ++failed;
        out.failed_tests.push_back(std::string(suite.name()) + "." + test.name());
      } else {
        ++passed;
      }
    }
  }
  out.passed = passed;
  out.failed = failed;
  out.skipped = skipped;
  return out;
}

}  // namespace gtest_lockable::detail
