#pragma once

// The lock-folder store this library ships (the etcd store is in etcd_store.hpp). A store of
// one's own implements gtest_lockable/extend/lock_store.hpp.

#include <memory>
#include <string>

#include "gtest_lockable/extend/lock_store.hpp"
#include "gtest_lockable/lock_status.hpp"

namespace gtest_lockable {

/// The default lock folder: the system temporary folder (`$TMPDIR`, else `/tmp`), as
/// pytest-lockable uses.
std::string default_lock_folder();

/// The lock-folder store: `<folder>/<id>.pid` files locked with flock(2) exactly as py-lockable
/// does, so Python and C++ processes on one host exclude each other. The folder is created when
/// missing.
std::unique_ptr<lock_store> lock_folder_store(std::string folder);

}  // namespace gtest_lockable
