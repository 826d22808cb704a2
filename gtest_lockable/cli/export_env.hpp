#pragma once

// The resource as environment variables: the core's (the lock path gives the same variables to
// probe and reset commands), under the names the command and its tests use.

#include "gtest_lockable/internal/resource_env.hpp"

namespace gtest_lockable::cli {

using internal::merge_environment;
using internal::resource_variables;
using internal::variable;
using internal::variable_name;

}  // namespace gtest_lockable::cli
