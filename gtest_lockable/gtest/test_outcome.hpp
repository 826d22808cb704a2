#pragma once

// What the program's tests did, for the usage ledger's end record (internal to the plugin).

#include <gtest/gtest.h>

#include <functional>

#include "gtest_lockable/lockable.hpp"

namespace gtest_lockable::detail {

/// The passed, failed and skipped counts and the failed tests' names (`suite.test`) of the tests
/// that ran, of the suites `counts` accepts (all by default). Read after the tests ended, e.g.
/// in an environment's TearDown.
outcome tests_outcome(const std::function<bool(const ::testing::TestSuite&)>& counts = nullptr);

}  // namespace gtest_lockable::detail
