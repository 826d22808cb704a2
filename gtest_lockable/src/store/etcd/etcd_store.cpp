// The etcd lock store. A lock is key `<prefix>/<id>`, created only if absent and attached to a
// lease; the key's value records the holder. One transaction takes all keys of a request, so a
// request holds all of them or none. Waiters put a ticket in `<prefix>.queue/`, named by their
// place in line; a lock transaction succeeds only while the queue is empty, or unchanged since
// the caller saw that nobody ahead of it waits for what it takes. Waiters watch the prefix for
// deletions (releases, expired leases, tickets that leave) instead of polling. A hold moves its
// key to a lease of the hold's length. See docs/stores.md (the etcd lock store), docs/holds.md.
#include "gtest_lockable/etcd_store.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <optional>
#include <thread>
#include <unordered_map>

#include "gtest_lockable/error.hpp"
#include "src/ledger/record.hpp"
#include "src/store/etcd/client.hpp"
#include "src/store/etcd/health_keys.hpp"
#include "src/store/etcd/lease_keeper.hpp"
#include "src/store/etcd/shared.hpp"
#include "src/store/etcd/uri.hpp"
#include "src/store/hold_release.hpp"
#include "src/store/lock_folder/queue.hpp"
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

// How often a lock call looks at the queue again when it changed between its look and its
// transaction, before it counts as busy for this round (it then waits and looks again).
constexpr int queue_attempts = 4;

steady::duration to_steady(seconds s) { return std::chrono::duration_cast<steady::duration>(s); }

// This boot of this machine: a ticket that names it and a dead PID belongs to a waiter that
// ended without leaving the line (a signal ends a waiting `lockable` at once, from its handler).
const std::string& boot_id() {
  static const std::string id = [] {
    std::string text;
    if (FILE* f = std::fopen("/proc/sys/kernel/random/boot_id", "re")) {
      char line[64] = {};
      if (std::fgets(line, sizeof line, f) != nullptr) text = line;
      std::fclose(f);
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
  }();
  return id;
}

bool pid_alive(long pid) {
  return pid > 0 && pid <= INT32_MAX && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

double epoch_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

using detail::etcd_shared;

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
    const auto [last, lost] = forget();
    // A lost lease is revoked only now, once its holder is done (its command has ended), never
    // by the keeper when it notices the loss: etcd would otherwise hand the resource to another
    // while the command still ends. When etcd cannot be reached, the lease expires.
    if (lost) {
      if (last) shared_->revoke(lease_->id, std::min(shared_->options.timeout, seconds(1.0)));
      return;
    }
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

  /// Lets go of the key without deleting it: a hold has moved it to a lease of its own.
  void detach() noexcept {
    if (released_.exchange(true)) return;
    const auto [last, lost] = forget();
    if (last && !lost) shared_->revoke(lease_->id, shared_->options.timeout);
  }

  bool valid() const noexcept override { return !released_ && !lease_->lost; }
  std::int64_t fencing_token() const noexcept override { return revision_; }
  const std::string& id() const { return id_; }
  int64_t revision() const { return revision_; }

 private:
  // Removes the key from its lease's resources: whether it was the last, and whether the lease
  // was lost.
  std::pair<bool, bool> forget() noexcept {
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
    return {last, lost};
  }

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

json value_of(const json& kv) {
  return json::parse(base64_decode(detail::json_string(json_field(kv, "value"))), nullptr, false);
}

holder_info holder_from(const json& kv) {
  holder_info holder;
  const auto value = value_of(kv);
  if (!value.is_object()) {
    holder.note = "held by a key that gtest_lockable did not write";
    return holder;
  }
  const auto& pid = json_field(value, "pid");
  holder.pid = pid.is_number_integer() ? pid.get<long>() : 0;
  holder.host = detail::json_string(json_field(value, "host"));
  holder.alloc_id = detail::json_string(json_field(value, "alloc_id"));
  holder.since = detail::json_string(json_field(value, "since"));
  holder.user = detail::json_string(json_field(value, "user"));
  holder.hold_until = detail::json_string(json_field(value, "hold_until"));
  holder.hold_note = detail::json_string(json_field(value, "note"));
  return holder;
}

// When the hold that `kv` is ends, in seconds since the epoch; 0 when it is no hold.
double hold_end_of(const json& kv) {
  const json value = value_of(kv);  // kept: json_field returns a reference into it
  const auto& until = json_field(value, "until");
  return until.is_number() ? until.get<double>() : 0;
}

int64_t revision_of(const json& reply) {
  return json_int(json_field(json_field(reply, "header"), "revision"));
}

// A waiter's ticket as the queue lists it.
struct ticket {
  std::string name;  // the key after the queue's prefix: its place in line
  bool keep = false;
  std::vector<std::string> ids;
  int priority = 0;
  long pid = 0;
  std::string host;
  std::string since;
  std::string boot;  // the boot id of its machine
};

std::vector<ticket> tickets_in(const json& kvs, std::size_t prefix_size) {
  std::vector<ticket> out;
  for (const auto& kv : kvs) {
    ticket t;
    t.name = base64_decode(detail::json_string(json_field(kv, "key")));
    if (t.name.size() < prefix_size) continue;
    t.name.erase(0, prefix_size);
    const json value = value_of(kv);
    t.keep = json_field(value, "keep") == true;
    for (const auto& id : json_field(value, "ids")) {
      if (id.is_string()) t.ids.push_back(id.get<std::string>());
    }
    const auto& priority = json_field(value, "priority");
    t.priority = priority.is_number_integer() ? priority.get<int>() : 0;
    const auto& pid = json_field(value, "pid");
    t.pid = pid.is_number_integer() ? pid.get<long>() : 0;
    t.host = detail::json_string(json_field(value, "host"));
    t.since = detail::json_string(json_field(value, "since"));
    t.boot = detail::json_string(json_field(value, "boot"));
    // A waiter of this machine that is gone holds nobody back; its lease expires by itself.
    if (!t.boot.empty() && t.boot == boot_id() && !pid_alive(t.pid)) continue;
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(),
            [](const ticket& a, const ticket& b) { return a.name < b.name; });
  return out;
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
    // A caller in line leaves a resource to those ahead of it; one that has not waited yet, to
    // those ahead of where it would stand.
    const auto place = places_.find(owner.alloc_id);
    const std::string mine =
        place != places_.end() ? place->second : detail::line_key(owner.queued_at);
    const granted_lease lease = take_lease();
    const json value = {{"host", owner.host},
                        {"pid", static_cast<long>(::getpid())},
                        {"alloc_id", owner.alloc_id},
                        {"since", detail::utc_now_iso8601()}};
    // A host name is not bound to be UTF-8; a record with a replaced byte beats no lock.
    const std::string value64 = base64_encode(detail::json_text(value));
    const std::string queue = shared_->queue_prefix();
    const std::string queue64 = base64_encode(queue);
    const std::string queue_end64 = base64_encode(detail::prefix_range_end(queue));
    std::optional<int64_t> queue_seen;  // the queue as of this revision lets us go
    for (int attempt = 0;; ++attempt) {
      json compare = json::array(), success = json::array(), failure = json::array();
      for (const auto& id : ids) {
        const std::string key = base64_encode(shared_->key_of(id));
        compare.push_back({{"target", "CREATE"}, {"key", key}, {"create_revision", "0"}});
        success.push_back(
            {{"request_put",
              {{"key", key}, {"value", value64}, {"lease", std::to_string(lease.id)}}}});
        failure.push_back({{"request_range", {{"key", key}}}});
      }
      // Nobody waits (the usual case: one request), or nobody joined or changed since we saw
      // that none of those waiting is ahead of us for these resources.
      if (queue_seen) {
        compare.push_back({{"target", "MOD"},
                           {"key", queue64},
                           {"range_end", queue_end64},
                           {"result", "LESS"},
                           {"mod_revision", std::to_string(*queue_seen + 1)}});
      } else {
        compare.push_back({{"target", "CREATE"},
                           {"key", queue64},
                           {"range_end", queue_end64},
                           {"create_revision", "0"}});
      }
      failure.push_back({{"request_range", {{"key", queue64}, {"range_end", queue_end64}}}});
      const json txn = {{"compare", compare}, {"success", success}, {"failure", failure}};
      detail::etcd_reply reply;
      try {
        reply = shared_->client.call("/v3/kv/txn", txn, timeout());
      } catch (const error&) {
        // No answer: the keys may have been created. Nobody renews this lease, so they go when
        // it expires; revoke it now in case etcd is back.
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
      if (json_field(reply.body, "succeeded") == true) return hand_out(ids, lease, revisions);
      // The range answers name the holders. A key under our own lease means that this very
      // request was applied once already and its answer lost (the client retries elsewhere).
      const auto& responses = json_field(reply.body, "responses");
      std::size_t ours = 0;
      std::vector<lock_status> found;
      bool took_over = false;
      for (std::size_t i = 0; responses.is_array() && i < std::min(ids.size(), responses.size());
           ++i) {
        const auto& kvs = json_field(json_field(responses[i], "response_range"), "kvs");
        if (!kvs.is_array() || kvs.empty()) continue;
        if (json_int(json_field(kvs[0], "lease")) == lease.id) {
          revisions[i] = json_int(json_field(kvs[0], "create_revision"));
          ++ours;
          continue;
        }
        const double hold_end = hold_end_of(kvs[0]);
        if (hold_end > 0 && hold_end <= epoch_now() && attempt < queue_attempts) {
          took_over = end_expired_hold(kvs[0]) || took_over;
          continue;
        }
        if (hold_end > 0 && (next_hold_end_ == 0 || hold_end < next_hold_end_)) {
          next_hold_end_ = hold_end;
        }
        lock_status status;
        status.resource_id = ids[i];
        status.state = lock_state::held;
        status.holder = holder_from(kvs[0]);
        found.push_back(std::move(status));
      }
      if (ours == ids.size()) return hand_out(ids, lease, revisions);
      if (ours != 0) {
        shared_->revoke(lease.id, timeout());  // cannot happen with atomic transactions
        return not_now(revision, std::nullopt, busy, std::move(found));
      }
      if (took_over && found.empty()) continue;
      if (!found.empty()) return not_now(revision, lease, busy, std::move(found));
      // Every key is free, but someone waits: is anyone ahead of us for these resources?
      static const json none;
      const auto& queue_kvs =
          responses.is_array() && responses.size() > ids.size()
              ? json_field(json_field(responses[ids.size()], "response_range"), "kvs")
              : none;
      const auto line = tickets_in(queue_kvs, queue.size());
      for (const auto& id : ids) {
        for (const auto& t : line) {
          if (t.name >= mine) break;
          if (!t.keep || std::find(t.ids.begin(), t.ids.end(), id) == t.ids.end()) continue;
          lock_status status;
          status.resource_id = id;
          status.state = lock_state::held;
          status.holder.pid = t.pid;
          status.holder.host = t.host;
          status.holder.since = t.since;
          status.holder.note = "free, kept for PID " + std::to_string(t.pid) + " on " + t.host +
                               (t.priority > 0 ? " (priority " + std::to_string(t.priority) +
                                                     "), which is ahead in line"
                                               : ", which has waited longer");
          found.push_back(std::move(status));
          break;
        }
      }
      if (!found.empty()) return not_now(revision, lease, busy, std::move(found));
      if (attempt >= queue_attempts) {
        lock_status status;
        status.resource_id = ids.front();
        status.state = lock_state::held;
        status.holder.note = "free, but the queue of waiters keeps changing";
        found.push_back(std::move(status));
        return not_now(revision, lease, busy, std::move(found));
      }
      queue_seen = revision;
    }
  }

  std::unique_ptr<wait_ticket> enqueue(const std::vector<std::string>& ids, bool keep,
                                       const lock_owner& owner) override {
    std::lock_guard<std::mutex> guard(mutex_);
    const std::string name = detail::line_key(owner.queued_at) + "." + owner.alloc_id;
    const granted_lease lease = take_lease();
    const json value = {{"ids", ids},
                        {"keep", keep},
                        {"priority", owner.priority},
                        {"pid", static_cast<long>(::getpid())},
                        {"host", owner.host},
                        {"boot", boot_id()},
                        {"since", detail::utc_now_iso8601()}};
    const json put = {{"key", base64_encode(shared_->queue_prefix() + name)},
                      {"value", base64_encode(detail::json_text(value))},
                      {"lease", std::to_string(lease.id)}};
    try {
      shared_->client.call_ok("/v3/kv/put", put, timeout(), "queue for " + shared_->uri.prefix);
    } catch (...) {
      shared_->revoke(lease.id, std::min(timeout(), seconds(1)));
      throw;
    }
    // The ticket lives while this process renews its lease: a killed waiter's goes after the TTL.
    auto held =
        std::make_shared<detail::held_lease>(lease.id, lease.ttl, std::vector<std::string>{});
    shared_->keeper.add(held, lease.confirmed);
    places_[owner.alloc_id] = name;
    return std::make_unique<place_in_line>(*this, owner.alloc_id, lease.id);
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
    auto until = std::min(deadline, now + to_steady(shared_->options.recheck_interval));
    json create = watch_request();
    create["filters"] = {"NOPUT"};
    {
      std::lock_guard<std::mutex> guard(mutex_);
      if (since_revision_) create["start_revision"] = std::to_string(*since_revision_ + 1);
      since_revision_.reset();
      // A hold that ends by its time, not by a deletion (its lease runs a little longer): look
      // again as it ends.
      if (next_hold_end_ > 0) {
        const seconds left = seconds(std::max(0.0, next_hold_end_ - epoch_now()) + 0.005);
        until = std::min(until, now + to_steady(left));
        next_hold_end_ = 0;  // the next look finds it again if it is still there
      }
    }
    if (now >= until) return;
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
      // A hold past its end that its lease still keeps: the next lock takes it over.
      const double hold_end = hold_end_of(kvs[0]);
      if (hold_end > 0 && hold_end <= epoch_now()) status.state = lock_state::stale;
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

  void hold(lock_handle& lock, const std::string& id, const lock_owner& owner,
            const hold_request& hold) override {
    auto* mine = dynamic_cast<etcd_lock*>(&lock);
    if (mine == nullptr || !mine->valid() || mine->id() != id) {
      throw error(errc::lock_store, describe() + " cannot hold '" + id + "': not a lock it holds");
    }
    // The hold's own lease, which nobody renews: etcd ends the hold when it runs out, whatever
    // becomes of this host. etcd counts whole seconds (and has a minimum of about 2 s): the
    // value's end time is exact, and a lock after it takes the hold over.
    const double until = std::chrono::duration<double>(hold.until.time_since_epoch()).count();
    const auto ttl = static_cast<int64_t>(std::max(1.0, std::ceil(until - epoch_now())));
    const json granted = shared_->client.call_ok("/v3/lease/grant", {{"TTL", ttl}}, timeout(),
                                                 "grant a lease for the hold of '" + id + "'");
    const int64_t lease = json_int(json_field(granted, "ID"));
    if (lease == 0) {
      throw error(errc::lock_store, describe() + " granted no usable lease: " + granted.dump());
    }
    const json value = {{"host", owner.host},
                        {"alloc_id", owner.alloc_id},
                        {"since", detail::utc_now_iso8601()},
                        {"user", hold.user},
                        {"hold_until", detail::iso8601(hold.until)},
                        {"note", hold.note},
                        {"until", until},
                        {"ledger", !hold.ledger_head.empty()}};
    const std::string key = base64_encode(shared_->key_of(id));
    // Only while the key is still our lock: a lock lost meanwhile is no hold.
    const json txn = {{"compare",
                       {{{"target", "CREATE"},
                         {"key", key},
                         {"create_revision", std::to_string(mine->revision())}}}},
                      {"success",
                       {{{"request_put",
                          {{"key", key},
                           {"value", base64_encode(detail::json_text(value))},
                           {"lease", std::to_string(lease)}}}}}}};
    json reply;
    try {
      reply = shared_->client.call_ok("/v3/kv/txn", txn, timeout(),
                                      "turn the lock of '" + id + "' into a hold");
    } catch (...) {
      shared_->revoke(lease, std::min(timeout(), seconds(1)));
      throw;
    }
    if (json_field(reply, "succeeded") != true) {
      shared_->revoke(lease, timeout());
      throw error(errc::lock_store,
                  describe() + " lost the lock of '" + id + "' before it became a hold");
    }
    mine->detach();
    if (hold.ledger_head.empty()) return;
    // Nobody is there when the hold ends: its end record is written now, as planned; a
    // --release writes the real end.
    try {
      const double started = std::chrono::duration<double>(hold.started.time_since_epoch()).count();
      ledger(0)->append(detail::hold_end_record(hold.ledger_head, hold.ledger_tail, until,
                                                until - started, ",\"planned\":true"));
    } catch (...) {  // the record stays open, as a killed holder's
    }
  }

  lock_status release_hold(const std::string& id, const std::string& user, bool force) override {
    const std::string key = base64_encode(shared_->key_of(id));
    const json found = shared_->client.call_ok("/v3/kv/range", {{"key", key}}, timeout(),
                                               "read the lock of '" + id + "'");
    const auto& kvs = json_field(found, "kvs");
    if (!kvs.is_array() || kvs.empty()) {
      throw error(errc::not_held,
                  "'" + id + "' is not held (" + describe() + "): there is no hold to release");
    }
    lock_status was;
    was.resource_id = id;
    was.state = lock_state::held;
    was.holder = holder_from(kvs[0]);
    detail::check_hold_release(was, id, user, force);
    const json txn = {
        {"compare",
         {{{"target", "MOD"},
           {"key", key},
           {"mod_revision", detail::json_string(json_field(kvs[0], "mod_revision"))}}}},
        {"success", {{{"request_delete_range", {{"key", key}}}}}}};
    const json reply =
        shared_->client.call_ok("/v3/kv/txn", txn, timeout(), "release the hold of '" + id + "'");
    if (json_field(reply, "succeeded") != true) {
      throw error(errc::not_held, "the hold of '" + id +
                                      "' changed while it was being released: look at "
                                      "lockable --status");
    }
    shared_->revoke(json_int(json_field(kvs[0], "lease")), timeout());
    const bool forced = force && was.holder.user != user;
    if (forced) record_forced_release(was, user);
    const json value = value_of(kvs[0]);
    if (json_field(value, "ledger") == true) {
      try {
        ledger(0)->append(
            detail::released_hold_record(was.holder.alloc_id, id, epoch_now(), user, forced));
      } catch (...) {  // its planned end stays
      }
    }
    return was;
  }

  std::shared_ptr<ledger_log> ledger(std::uint64_t max_size) override {
    (void)max_size;  // etcd keeps records for a time (the retention), not a size
    std::lock_guard<std::mutex> guard(ledger_mutex_);
    if (!ledger_) ledger_ = detail::etcd_ledger(shared_, shared_->options.ledger_retention);
    return ledger_;
  }

 private:
  // A caller's place in line: its ticket, deleted (with its lease) when destroyed, which wakes
  // the other waiters.
  class place_in_line final : public wait_ticket {
   public:
    place_in_line(etcd_store& store, std::string alloc_id, int64_t lease)
        : store_(store), alloc_id_(std::move(alloc_id)), lease_(lease) {}
    ~place_in_line() override {
      {
        std::lock_guard<std::mutex> guard(store_.mutex_);
        store_.places_.erase(alloc_id_);
      }
      store_.shared_->keeper.remove(lease_);
      store_.shared_->revoke(lease_, store_.timeout());
    }

   private:
    etcd_store& store_;
    std::string alloc_id_;
    int64_t lease_;
  };

  seconds timeout() const { return shared_->options.timeout; }

  std::vector<std::unique_ptr<lock_handle>> hand_out(const std::vector<std::string>& ids,
                                                     const granted_lease& lease,
                                                     const std::vector<int64_t>& revisions) {
    auto held = std::make_shared<detail::held_lease>(lease.id, lease.ttl, ids);
    shared_->keeper.add(held, lease.confirmed);
    std::vector<std::unique_ptr<lock_handle>> handles;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      handles.push_back(std::make_unique<etcd_lock>(shared_, held, ids[i], revisions[i]));
    }
    return handles;
  }

  // Not this time: `found` are busy. Keeps the unused lease for the next try.
  std::vector<std::unique_ptr<lock_handle>> not_now(int64_t revision,
                                                    std::optional<granted_lease> lease,
                                                    std::vector<lock_status>& busy,
                                                    std::vector<lock_status> found) {
    if (lease) spare_ = *lease;  // waiters retry often; spare them a grant each time
    if (!since_revision_) since_revision_ = revision;
    for (auto& status : found) busy.push_back(std::move(status));
    return {};
  }

  // Deletes a hold whose time is up but whose lease still keeps it (etcd counts whole seconds,
  // and extends leases when it restarts or elects a leader), while it is unchanged.
  bool end_expired_hold(const json& kv) {
    const std::string key = detail::json_string(json_field(kv, "key"));
    const json txn = {{"compare",
                       {{{"target", "MOD"},
                         {"key", key},
                         {"mod_revision", detail::json_string(json_field(kv, "mod_revision"))}}}},
                      {"success", {{{"request_delete_range", {{"key", key}}}}}}};
    const detail::etcd_reply reply = shared_->client.call("/v3/kv/txn", txn, timeout());
    if (reply.status != 200 || json_field(reply.body, "succeeded") != true) return false;
    shared_->revoke(json_int(json_field(kv, "lease")), std::min(timeout(), seconds(1)));
    return true;
  }

  // One JSON line per forced release, kept until someone deletes it (the lock folder's
  // `.lockable-forced-releases`).
  void record_forced_release(const lock_status& was, const std::string& user) {
    const json entry = detail::forced_release_record(was, user);
    try {
      shared_->client.call_ok(
          "/v3/kv/put",
          {{"key", base64_encode(shared_->forced_prefix() + detail::etcd_unique_name())},
           {"value", base64_encode(detail::json_text(entry) + "\n")}},
          timeout(), "record a forced release");
    } catch (...) {  // the release is done; its record is a courtesy
    }
  }

  json range_request(bool count_only) const {
    const std::string dir = shared_->uri.prefix + "/";
    json request = {{"key", base64_encode(dir)},
                    {"range_end", base64_encode(detail::prefix_range_end(dir))}};
    if (count_only) request["count_only"] = true;
    return request;
  }

  // The locks (`<prefix>/`) and the queue (`<prefix>.queue/`), and whatever else starts with the
  // prefix: a deletion among others only wakes a waiter for nothing.
  json watch_request() const {
    const std::string& prefix = shared_->uri.prefix;
    return {{"key", base64_encode(prefix)},
            {"range_end", base64_encode(detail::prefix_range_end(prefix))}};
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
  std::mutex mutex_;             // guards spare_, since_revision_, places_, next_hold_end_
  std::optional<granted_lease> spare_;
  std::optional<int64_t> since_revision_;  // the last look; `wait` replays releases after it
  std::shared_ptr<health_records> health_;  // guarded by mutex_
  std::unordered_map<std::string, std::string> places_;  // alloc id -> its ticket's name
  double next_hold_end_ = 0;  // the soonest end of a hold the last look found busy (epoch s)
  std::mutex ledger_mutex_;
  std::shared_ptr<ledger_log> ledger_;
};

void check_duration(const char* name, seconds value, double min, double max = 1e6) {
  if (!std::isfinite(value.count()) || value.count() < min || value.count() > max) {
    char text[160];
    std::snprintf(text, sizeof text, "invalid etcd %s of %g s: give a number of seconds from %g %s",
                  name, value.count(), min,
                  max > 1e6 ? ("to " + std::to_string(static_cast<long>(max))).c_str() : "up");
    throw error(errc::invalid_argument, text);
  }
}

}  // namespace

std::chrono::duration<double> etcd_lease_ttl(const std::string& uri, const etcd_options& options) {
  const auto parsed = detail::parse_etcd_uri(uri);
  return parsed.ttl ? seconds(*parsed.ttl) : options.ttl;
}

std::unique_ptr<lock_store> etcd_lock_store(const std::string& uri, etcd_options options) {
  auto parsed = detail::parse_etcd_uri(uri);
  if (parsed.ttl) options.ttl = seconds(*parsed.ttl);
  if (parsed.timeout) options.timeout = seconds(*parsed.timeout);
  if (parsed.retention) options.ledger_retention = seconds(*parsed.retention);
  check_duration("lease TTL", options.ttl, 1);
  check_duration("timeout", options.timeout, 0.1);
  check_duration("recheck interval", options.recheck_interval, 0.1);
  check_duration("ledger retention", options.ledger_retention, 2, 3.2e7);
  return std::make_unique<etcd_store>(std::move(parsed), std::move(options));
}

}  // namespace gtest_lockable
