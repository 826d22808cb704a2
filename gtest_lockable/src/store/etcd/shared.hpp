// What the etcd store, its lock handles, its queue and its ledger share (see etcd_store.cpp).
#pragma once

#include <memory>
#include <string>

#include "gtest_lockable/etcd_store.hpp"
#include "gtest_lockable/extend/lock_store.hpp"
#include "src/store/etcd/client.hpp"
#include "src/store/etcd/lease_keeper.hpp"
#include "src/store/etcd/uri.hpp"

namespace gtest_lockable::detail {

/// Everything the store and its handles share. Handles may outlive the store; the last owner
/// stops the keeper.
struct etcd_shared {
  etcd_shared(etcd_uri parsed, etcd_options opts)
      : uri(std::move(parsed)),
        options(std::move(opts)),
        client(uri.endpoints),
        keeper(uri.endpoints, options.timeout, options.on_lost) {}

  /// Resource `id`'s lock: `<prefix>/<id>`.
  std::string key_of(const std::string& id) const { return uri.prefix + "/" + id; }
  /// The waiters' tickets: `<prefix>.queue/<place in line>.<alloc id>`.
  std::string queue_prefix() const { return uri.prefix + ".queue/"; }
  /// The ledger's records: `<prefix>.ledger/<time>.<random>`.
  std::string ledger_prefix() const { return uri.prefix + ".ledger/"; }
  /// The ledger's leases, one per retention period: `<prefix>.ledger-lease/<period>`.
  std::string ledger_lease_prefix() const { return uri.prefix + ".ledger-lease/"; }
  /// Forced releases of holds: `<prefix>.forced-releases/<time>.<random>`.
  std::string forced_prefix() const { return uri.prefix + ".forced-releases/"; }

  /// Revokes `lease`; revoking deletes every key attached to it at once. Never throws: a lease
  /// nobody renews expires on its own.
  void revoke(int64_t lease, std::chrono::duration<double> budget) noexcept {
    try {
      client.call("/v3/lease/revoke", {{"ID", std::to_string(lease)}}, budget);
    } catch (...) {
    }
  }

  etcd_uri uri;
  etcd_options options;
  etcd_client client;
  lease_keeper keeper;
};

/// The etcd store's usage ledger: one key per record under `ledger_prefix()`, attached to a lease
/// shared by every record of one period, so that etcd drops records about `retention` after they
/// were written (see docs/ledger.md).
std::shared_ptr<ledger_log> etcd_ledger(std::shared_ptr<etcd_shared> shared,
                                        std::chrono::duration<double> retention);

/// A key name part that sorts by time and is unique: `<20-digit ns>.<16 hex digits>`.
std::string etcd_unique_name();

}  // namespace gtest_lockable::detail
