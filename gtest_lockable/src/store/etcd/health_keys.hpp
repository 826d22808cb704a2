#pragma once

#include <memory>
#include <string>

#include "gtest_lockable/extend/lock_store.hpp"
#include "src/store/etcd/client.hpp"
#include "src/store/etcd/uri.hpp"

namespace gtest_lockable::detail {

/// The etcd store's health records: key `<prefix>.health/<id>` (see docs/lab-health.md). Beside
/// the locks' `<prefix>/` rather than in it, so that removing a record does not wake the
/// waiters, which watch `<prefix>/` for deletions. Changed by compare-and-swap on the key's
/// modification revision, through the store's `client` (no second connection per process).
std::shared_ptr<health_records> etcd_health_records(std::shared_ptr<etcd_client> client,
                                                    const etcd_uri& uri,
                                                    std::chrono::duration<double> timeout);

}  // namespace gtest_lockable::detail
