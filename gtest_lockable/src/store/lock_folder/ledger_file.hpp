#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "gtest_lockable/extend/lock_store.hpp"

namespace gtest_lockable::detail {

/// The lock folder's usage ledger: `<folder>/.lockable-ledger/ledger.jsonl`, appended to by every
/// process that locks in the folder, and the file before it, `ledger.1.jsonl` (see
/// docs/ledger.md). The ledger's folder and file follow the lock folder's mode, so that every
/// user who may lock there may also record.
std::shared_ptr<ledger_log> folder_ledger(const std::string& folder, std::uint64_t max_size);

/// The file that the ledger of lock folder `folder` appends to (for a hold's keeper, which
/// appends as `folder_ledger`'s writers do).
std::string folder_ledger_file(const std::string& folder);

}  // namespace gtest_lockable::detail
