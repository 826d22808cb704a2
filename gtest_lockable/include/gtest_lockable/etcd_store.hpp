#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "gtest_lockable/lock_store.hpp"

namespace gtest_lockable {

/// How the etcd store keeps its locks alive and how long it waits for etcd.
struct etcd_options {
  /// What `on_lost` is called with: the resource id and a one-line reason.
  using lost_callback =
      std::function<void(const std::string& resource_id, const std::string& reason)>;

  /// Lease time-to-live: how long a lock outlives a holder that stopped renewing it (crashed,
  /// killed, cut off). The holder renews every third of it. etcd rounds it up to whole seconds
  /// and to its own minimum (about 2 s with default settings).
  std::chrono::duration<double> ttl{10.0};
  /// How long one request may take, over all endpoints and retries, before the store reports
  /// etcd as unreachable.
  std::chrono::duration<double> timeout{5.0};
  /// A waiter wakes on the release events etcd streams to it; this is how often it looks again
  /// anyway, as a safety net under the watch.
  std::chrono::duration<double> recheck_interval{5.0};
  /// How long the usage ledger keeps a record: etcd drops it between this and a tenth more
  /// after it was written (see docs/ledger.md).
  std::chrono::duration<double> ledger_retention{7 * 86400.0};
  /// Called once for each resource whose lock is lost while held: etcd said the lease expired,
  /// or etcd could not be reached for longer than the TTL. The lock's handle is already invalid.
  /// Runs on the store's background thread: signal someone (set a flag, kill a child) and return;
  /// do not destroy the store or the allocation from inside it.
  lost_callback on_lost;
};

/// The etcd store: resource `ID` is locked by creating key `<prefix>/ID` in etcd, only if absent,
/// attached to a lease that a background thread keeps alive. Many hosts that share one etcd
/// (cluster) exclude each other. `uri` is
/// `etcd://HOST[:PORT][,HOST[:PORT]...][/PREFIX][?ttl=S&timeout=S&retention=S]`: the endpoints of
/// one cluster, tried in order when one fails (PORT defaults to 2379), the key prefix (default
/// `/gtest_lockable/locks`; letters, digits, `.`, `_`, `-` separated by `/`), and values for
/// `options.ttl`, `options.timeout` and `options.ledger_retention` (seconds, or with a unit:
/// `90s`, `15m`, `2h`, `7d`) that win over those in `options`. Nothing is contacted
/// until the first lock or status call. Throws `error` (`errc::invalid_argument`) naming `uri`
/// when it is malformed.
std::unique_ptr<lock_store> etcd_lock_store(const std::string& uri, etcd_options options = {});

/// The lease TTL that a store made from `uri` and `options` asks etcd for (the URI's `ttl=` wins;
/// etcd may grant more). Its holder is told that a lock is lost when nothing confirmed the lease
/// for half of it, so that what uses the resource can end in the other half, before etcd may give
/// the resource to another (docs/reliability.md). Throws as `etcd_lock_store`.
std::chrono::duration<double> etcd_lease_ttl(const std::string& uri,
                                             const etcd_options& options = {});

/// The store that a `--lock-folder` / `--lock-server` pair selects: the etcd store when
/// `lock_server` is not empty (the folder is then unused), else the lock folder `lock_folder`
/// (`default_lock_folder()` when empty). Throws `error` (`errc::invalid_argument`) for a
/// `lock_server` that is not a valid `etcd://` URI.
std::unique_ptr<lock_store> open_lock_store(const std::string& lock_folder,
                                            const std::string& lock_server,
                                            etcd_options options = {});

}  // namespace gtest_lockable
