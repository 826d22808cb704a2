// The etcd lock store. A lock is key `<prefix>/<id>`, created only if absent and attached to a
// lease; the key's value records the holder. One transaction takes all keys of a request, so a
// request holds all of them or none. Waiters watch the prefix for deletions (releases and expired
// leases) instead of polling. See docs/stores.md (the etcd lock store).
#include "gtest_lockable/etcd_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <thread>

#include "gtest_lockable/error.hpp"
#include "src/store/etcd/client.hpp"
#include "src/store/etcd/health_keys.hpp"
#include "src/store/etcd/lease_keeper.hpp"
#include "src/store/etcd/uri.hpp"
#include "src/util/json.hpp"
#include "src/util/time_format.hpp"

namespace gtest_lockable {
namespace {

using detail::base64_decode;
using detail::base64_encode;
using detail::json_field;
using detail::json_int;
using nlohmann::json;
using seconds = std::chrono::duration<double>;
using steady = std::chrono::steady_clock;

// The shortest time one wait takes when its watch ends without a release (no endpoint answers,
// etcd restarts): the caller then looks again, and reports etcd as unreachable once the
// request budget is spent.
constexpr seconds min_failed_wait{0.5};

steady::duration to_steady(seconds s) { return std::chrono::duration_cast<steady::duration>(s); }

// Everything the store and its handles share. Handles may outlive the store; the last owner
// stops the keeper.
struct etcd_shared {
  etcd_shared(detail::etcd_uri parsed, etcd_options opts)
      : uri(std::move(parsed)),
        options(std::move(opts)),
        client(uri.endpoints),
        keeper(uri.endpoints, options.timeout, options.on_lost) {}

  std::string key_of(const std::string& id) const { return uri.prefix + "/" + id; }

  // Revoking deletes every key attached to the lease at once.
  void revoke(int64_t lease, seconds budget) noexcept {
    try {
      client.call("/v3/lease/revoke", {{"ID", std::to_string(lease)}}, budget);
    } catch (...) {  // it expires on its own: nobody renews it any more
    }
  }

  detail::etcd_uri uri;
  etcd_options options;
  detail::etcd_client client;
  detail::lease_keeper keeper;
};

class etcd_lock final : public lock_handle {
 public:
  etcd_lock(std::shared_ptr<etcd_shared> shared, std::shared_ptr<detail::held_lease> lease,
            std::string id, int64_t revision)
      : shared_(std::move(shared)),
        lease_(std::move(lease)),
        id_(std::move(id)),
        revision_(revision) {}
  ~etcd_lock() override { release(); }

  void release() noexcept override {
    if (released_.exchange(true)) return;
    bool last = false;
    bool lost = false;
    {
      std::lock_guard<std::mutex> guard(lease_->mutex);
      lost = lease_->lost;
      auto& held = lease_->resources;
      held.erase(std::remove(held.begin(), held.end(), id_), held.end());
      last = held.empty();
    }
    if (last) shared_->keeper.remove(lease_->id);
    if (lost) return;  // the keeper has revoked it already, or etcd has dropped it
    if (last) {
      shared_->revoke(lease_->id, shared_->options.timeout);
      return;
    }
    // Others of this request still hold their keys: delete ours, but only while it is ours.
    const std::string key = base64_encode(shared_->key_of(id_));
    const json txn = {
        {"compare",
         {{{"target", "CREATE"}, {"key", key}, {"create_revision", std::to_string(revision_)}}}},
        {"success", {{{"request_delete_range", {{"key", key}}}}}}};
    try {
      shared_->client.call("/v3/kv/txn", txn, shared_->options.timeout);
    } catch (...) {  // the lease's release or expiry deletes it
    }
  }

  bool valid() const noexcept override { return !released_ && !lease_->lost; }

 private:
  std::shared_ptr<etcd_shared> shared_;
  std::shared_ptr<detail::held_lease> lease_;
  std::string id_;
  int64_t revision_;  // the key's create revision: tells our key from a later holder's
  std::atomic<bool> released_{false};
};

// A lease granted for a request, and when etcd last confirmed it.
struct granted_lease {
  int64_t id = 0;
  seconds ttl{0};
  steady::time_point confirmed;
};

holder_info holder_from(const json& kv) {
  holder_info holder;
  const auto value =
      json::parse(base64_decode(detail::json_string(json_field(kv, "value"))), nullptr, false);
  if (!value.is_object()) {
    holder.note = "held by a key that gtest_lockable did not write";
    return holder;
  }
  const auto& pid = json_field(value, "pid");
  holder.pid = pid.is_number_integer() ? pid.get<long>() : 0;
  holder.host = detail::json_string(json_field(value, "host"));
  holder.alloc_id = detail::json_string(json_field(value, "alloc_id"));
  holder.since = detail::json_string(json_field(value, "since"));
  return holder;
}

int64_t revision_of(const json& reply) {
  return json_int(json_field(json_field(reply, "header"), "revision"));
}

class etcd_store final : public lock_store {
 public:
  etcd_store(detail::etcd_uri uri, etcd_options options)
      : shared_(std::make_shared<etcd_shared>(std::move(uri), std::move(options))),
        watcher_(shared_->uri.endpoints) {}

  ~etcd_store() override {
    if (spare_ && usable(*spare_)) shared_->revoke(spare_->id, std::min(timeout(), seconds(1)));
  }

  std::vector<std::unique_ptr<lock_handle>> try_lock_all(const std::vector<std::string>& ids,
                                                         const lock_owner& owner,
                                                         std::vector<lock_status>& busy) override {
    if (ids.empty()) return {};
    for (auto it = ids.begin(); it != ids.end(); ++it) {
      if (std::find(it + 1, ids.end(), *it) != ids.end()) {
        throw error(errc::invalid_argument, "cannot lock resource '" + *it + "' twice at once");
      }
    }
    std::lock_guard<std::mutex> guard(mutex_);
    const granted_lease lease = take_lease();
    const json value = {{"host", owner.host},
                        {"pid", static_cast<long>(::getpid())},
                        {"alloc_id", owner.alloc_id},
                        {"since", detail::utc_now_iso8601()}};
    // A host name is not bound to be UTF-8; a record with a replaced byte beats no lock.
    const std::string value64 = base64_encode(detail::json_text(value));
    json compare = json::array(), success = json::array(), failure = json::array();
    for (const auto& id : ids) {
      const std::string key = base64_encode(shared_->key_of(id));
      compare.push_back({{"target", "CREATE"}, {"key", key}, {"create_revision", "0"}});
      success.push_back(
          {{"request_put",
            {{"key", key}, {"value", value64}, {"lease", std::to_string(lease.id)}}}});
      failure.push_back({{"request_range", {{"key", key}}}});
    }
    const json txn = {{"compare", compare}, {"success", success}, {"failure", failure}};
    detail::etcd_reply reply;
    try {
      reply = shared_->client.call("/v3/kv/txn", txn, timeout());
    } catch (const error&) {
      // No answer: the keys may have been created. Nobody renews this lease, so they go when it
      // expires; revoke it now in case etcd is back.
      shared_->revoke(lease.id, std::min(timeout(), seconds(1)));
      throw;
    }
    if (reply.status != 200 || !reply.body.is_object()) {
      spare_ = lease;  // etcd refused the request: nothing was created
      throw error(errc::lock_store, "etcd at " + reply.endpoint + " refused to lock " +
                                        detail::json_text(json(ids)) + ": " + reply.message());
    }
    const int64_t revision = revision_of(reply.body);
    std::vector<int64_t> revisions(ids.size(), revision);
    if (json_field(reply.body, "succeeded") != true) {
      // The range answers name the holders. A key under our own lease means that this very
      // request was applied once already and its answer lost (the client retries elsewhere).
      const auto& responses = json_field(reply.body, "responses");
      std::size_t ours = 0;
      for (std::size_t i = 0; responses.is_array() && i < std::min(ids.size(), responses.size());
           ++i) {
        const auto& kvs = json_field(json_field(responses[i], "response_range"), "kvs");
        if (!kvs.is_array() || kvs.empty()) continue;
        if (json_int(json_field(kvs[0], "lease")) == lease.id) {
          revisions[i] = json_int(json_field(kvs[0], "create_revision"));
          ++ours;
          continue;
        }
        lock_status status;
        status.resource_id = ids[i];
        status.state = lock_state::held;
        status.holder = holder_from(kvs[0]);
        busy.push_back(std::move(status));
      }
      if (ours != ids.size()) {
        if (ours == 0) {
          spare_ = lease;  // waiters retry often; spare them a grant each time
        } else {
          shared_->revoke(lease.id, timeout());  // cannot happen with atomic transactions
        }
        if (!since_revision_) since_revision_ = revision;
        return {};
      }
    }
    auto held = std::make_shared<detail::held_lease>(lease.id, lease.ttl, ids);
    shared_->keeper.add(held, lease.confirmed);
    std::vector<std::unique_ptr<lock_handle>> handles;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      handles.push_back(std::make_unique<etcd_lock>(shared_, held, ids[i], revisions[i]));
    }
    return handles;
  }

  void prepare_wait() override {
    // Note the revision as of now: `wait` replays every release after it.
    const json reply = shared_->client.call_ok("/v3/kv/range", range_request(true), timeout(),
                                               "read the locks under " + shared_->uri.prefix);
    std::lock_guard<std::mutex> guard(mutex_);
    since_revision_ = revision_of(reply);
  }

  void wait(steady::time_point deadline) override {
    const auto now = steady::now();
    const auto until = std::min(deadline, now + to_steady(shared_->options.recheck_interval));
    if (now >= until) return;
    json create = range_request(false);
    create["filters"] = {"NOPUT"};
    {
      std::lock_guard<std::mutex> guard(mutex_);
      if (since_revision_) create["start_revision"] = std::to_string(*since_revision_ + 1);
      since_revision_.reset();
    }
    bool woken = false;
    watcher_.watch(create, until, [&](const json& result) {
      // A cancelled watch (its start revision was compacted away) cannot tell: look again.
      woken = json_field(result, "canceled") == true;
      for (const auto& event : json_field(result, "events")) {
        woken = woken || json_field(event, "type") == "DELETE";
      }
      return !woken;
    });
    // A stream that ended early (etcd unreachable, restarting, or answering with an error) must
    // not turn the caller's wait into a busy loop of looks.
    if (!woken) std::this_thread::sleep_until(std::min(until, now + to_steady(min_failed_wait)));
  }

  lock_status status(const std::string& id) override {
    const json reply =
        shared_->client.call_ok("/v3/kv/range", {{"key", base64_encode(shared_->key_of(id))}},
                                timeout(), "read the lock of '" + id + "'");
    lock_status status;
    status.resource_id = id;
    const auto& kvs = json_field(reply, "kvs");
    if (kvs.is_array() && !kvs.empty()) {
      status.state = lock_state::held;
      status.holder = holder_from(kvs[0]);
    }
    return status;
  }

  std::string describe() const override { return "etcd lock server " + shared_->uri.text(); }

  std::shared_ptr<health_records> health() override {
    std::lock_guard<std::mutex> guard(mutex_);
    // The store's client, kept alive by `shared_` (an aliasing pointer).
    if (!health_) {
      health_ = detail::etcd_health_records(
          std::shared_ptr<detail::etcd_client>(shared_, &shared_->client), shared_->uri, timeout());
    }
    return health_;
  }

 private:
  seconds timeout() const { return shared_->options.timeout; }

  json range_request(bool count_only) const {
    const std::string dir = shared_->uri.prefix + "/";
    json request = {{"key", base64_encode(dir)},
                    {"range_end", base64_encode(detail::prefix_range_end(dir))}};
    if (count_only) request["count_only"] = true;
    return request;
  }

  // A spare lease is reused while at least half its TTL remains: the keeper renews it right
  // after a lock succeeds. Older ones expire on their own.
  bool usable(const granted_lease& lease) const {
    return steady::now() - lease.confirmed < to_steady(lease.ttl / 2);
  }

  granted_lease take_lease() {
    if (spare_ && usable(*spare_)) return *std::exchange(spare_, std::nullopt);
    spare_.reset();
    granted_lease lease;
    lease.confirmed = steady::now();
    const auto ttl = static_cast<int64_t>(std::ceil(shared_->options.ttl.count()));
    const json reply =
        shared_->client.call_ok("/v3/lease/grant", {{"TTL", ttl}}, timeout(), "grant a lease");
    lease.id = json_int(json_field(reply, "ID"));
    lease.ttl = seconds(static_cast<double>(json_int(json_field(reply, "TTL"))));
    if (lease.id == 0 || lease.ttl <= seconds(0)) {
      throw error(errc::lock_store, describe() + " granted no usable lease: " + reply.dump());
    }
    return lease;
  }

  std::shared_ptr<etcd_shared> shared_;
  detail::etcd_client watcher_;  // its own connection: a watch blocks it for a while
  std::mutex mutex_;             // guards spare_ and since_revision_
  std::optional<granted_lease> spare_;
  std::optional<int64_t> since_revision_;  // the last look; `wait` replays releases after it
  std::shared_ptr<health_records> health_;  // guarded by mutex_
};

void check_duration(const char* name, seconds value, double min) {
  if (!std::isfinite(value.count()) || value.count() < min || value.count() > 1e6) {
    char text[160];
    std::snprintf(text, sizeof text, "invalid etcd %s of %g s: give a number of seconds from %g up",
                  name, value.count(), min);
    throw error(errc::invalid_argument, text);
  }
}

}  // namespace

std::unique_ptr<lock_store> etcd_lock_store(const std::string& uri, etcd_options options) {
  auto parsed = detail::parse_etcd_uri(uri);
  if (parsed.ttl) options.ttl = seconds(*parsed.ttl);
  if (parsed.timeout) options.timeout = seconds(*parsed.timeout);
  check_duration("lease TTL", options.ttl, 1);
  check_duration("timeout", options.timeout, 0.1);
  check_duration("recheck interval", options.recheck_interval, 0.1);
  return std::make_unique<etcd_store>(std::move(parsed), std::move(options));
}

}  // namespace gtest_lockable
