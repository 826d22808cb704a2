#pragma once

// What a compiled query tells an inventory scan (src/inventory/scan.cpp) about the resources it
// can match, so that the scan parses only entries that may match.

#include <string>
#include <vector>

#include "gtest_lockable/query.hpp"

namespace gtest_lockable::detail {

/// Strings that every resource `q` matches holds as a string value (from the equalities the
/// query requires), so that an inventory scan can skip entries that hold none of them.
std::vector<std::string> required_strings(const query& q);

}  // namespace gtest_lockable::detail
