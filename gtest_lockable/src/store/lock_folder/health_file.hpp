#pragma once

#include <memory>
#include <string>

#include "gtest_lockable/extend/lock_store.hpp"

namespace gtest_lockable::detail {

/// The lock folder's health records: `<folder>/.lockable-health/<id>`, one small JSON file per
/// resource with a record (see docs/lab-health.md). A subfolder, so that writing a record does not
/// wake the lock folder's waiters, and so that a record's name is the id itself (an id may be 251
/// bytes, the longest that leaves room for `.pid`).
std::shared_ptr<health_records> folder_health_records(const std::string& folder);

}  // namespace gtest_lockable::detail
