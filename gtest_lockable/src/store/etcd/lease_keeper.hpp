// Keeps the leases of held etcd locks alive from a background thread, and notices when one is
// lost: etcd says it expired, or etcd could not be reached for half its TTL.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "src/store/etcd/client.hpp"

namespace gtest_lockable::detail {

/// A lease that holds the locks taken by one `try_lock_all`, shared by their handles and the
/// keeper. It holds no reference to the store, so the keeper thread never ends up owning (and
/// destroying) the store it runs in.
struct held_lease {
  held_lease(int64_t lease_id, std::chrono::duration<double> lease_ttl,
             std::vector<std::string> ids)
      : id(lease_id), ttl(lease_ttl), resources(std::move(ids)) {}

  const int64_t id;                         ///< etcd's lease id.
  const std::chrono::duration<double> ttl;  ///< The TTL etcd granted.
  std::mutex mutex;                         ///< Guards `lost` changes and `resources`.
  std::atomic<bool> lost{false};            ///< Set once; the locks are then gone or going.
  std::vector<std::string> resources;       ///< Resources still held under this lease.
};

/// The background renewal of `held_lease`s: each is renewed every third of its TTL, retried
/// soon after a failure, and declared lost (callback, then a best-effort revoke) when etcd says
/// it expired or nothing confirmed it for half its TTL, so that its holder has the other half to
/// end what uses the resource before etcd can give it to another.
class lease_keeper {
 public:
  using seconds = std::chrono::duration<double>;
  using steady = std::chrono::steady_clock;
  using lost_callback = std::function<void(const std::string&, const std::string&)>;

  /// A keeper with its own connection to `endpoints`; `timeout` caps one renewal request.
  lease_keeper(std::vector<etcd_endpoint> endpoints, seconds timeout, lost_callback on_lost);
  /// Stops the thread (waiting at most for one request in flight).
  ~lease_keeper();
  lease_keeper(const lease_keeper&) = delete;
  lease_keeper& operator=(const lease_keeper&) = delete;

  /// Starts renewing `lease`, which etcd confirmed as alive at `confirmed`.
  void add(std::shared_ptr<held_lease> lease, steady::time_point confirmed);
  /// Stops renewing lease `id` (harmless when unknown).
  void remove(int64_t id);

  /// How long after its last confirmed renewal a lease counts as lost: half its TTL.
  static seconds lost_after(seconds ttl);

 private:
  struct entry {
    std::shared_ptr<held_lease> lease;
    steady::time_point confirmed;  // etcd extended the lease to at least this + ttl
    steady::time_point due;        // when to renew next
  };

  void run();
  // Renews `e` once (no lock held); returns why it is lost, or empty when it lives on.
  std::string renew(entry& e);
  void declare_lost(held_lease& lease, const std::string& reason);

  etcd_client client_;
  seconds timeout_;
  lost_callback on_lost_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<entry> entries_;
  bool stopping_ = false;
  std::thread thread_;  // started with the first lease
};

}  // namespace gtest_lockable::detail
