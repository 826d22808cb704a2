#include "src/store/etcd/lease_keeper.hpp"

#include <algorithm>

#include "gtest_lockable/error.hpp"
#include "src/util/time_format.hpp"

namespace gtest_lockable::detail {
namespace {

using seconds = lease_keeper::seconds;
using steady = lease_keeper::steady;

steady::duration to_steady(seconds s) { return std::chrono::duration_cast<steady::duration>(s); }

// After a failed renewal, try again soon (the lease's remaining life is at stake), but not in
// a tight loop.
seconds retry_interval(seconds ttl) { return std::clamp(ttl / 10, seconds(0.05), seconds(0.5)); }

}  // namespace

seconds lease_keeper::lost_after(seconds ttl) { return ttl / 2; }

lease_keeper::lease_keeper(std::vector<etcd_endpoint> endpoints, seconds timeout,
                           lost_callback on_lost)
    : client_(std::move(endpoints)), timeout_(timeout), on_lost_(std::move(on_lost)) {}

lease_keeper::~lease_keeper() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void lease_keeper::add(std::shared_ptr<held_lease> lease, steady::time_point confirmed) {
  std::lock_guard<std::mutex> guard(mutex_);
  const auto due = confirmed + to_steady(lease->ttl / 3);
  entries_.push_back({std::move(lease), confirmed, due});
  if (!thread_.joinable()) thread_ = std::thread(&lease_keeper::run, this);
  wake_.notify_all();
}

void lease_keeper::remove(int64_t id) {
  std::lock_guard<std::mutex> guard(mutex_);
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const entry& e) { return e.lease->id == id; }),
                 entries_.end());
}

void lease_keeper::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (entries_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto next =
        std::min_element(entries_.begin(), entries_.end(),
                         [](const entry& a, const entry& b) { return a.due < b.due; });
    if (steady::now() < next->due) {
      const auto due = next->due;  // a copy: `add` may move the entries while we wait
      wake_.wait_until(lock, due);
      continue;
    }
    // Renew without the lock, so that handles can come and go meanwhile.
    entry work = *next;
    lock.unlock();
    const std::string lost = renew(work);
    if (!lost.empty()) declare_lost(*work.lease, lost);
    lock.lock();
    const auto it = std::find_if(entries_.begin(), entries_.end(),
                                 [&](const entry& e) { return e.lease == work.lease; });
    if (it == entries_.end()) continue;  // released meanwhile
    if (lost.empty()) {
      *it = work;
    } else {
      entries_.erase(it);
    }
  }
}

std::string lease_keeper::renew(entry& e) {
  const auto sent = steady::now();
  // Lost well before etcd can expire the lease (at `confirmed` + TTL at the earliest): the
  // holder has the other half of the TTL to end its command (see docs/reliability.md).
  const auto expires = e.confirmed + to_steady(lost_after(e.lease->ttl));
  // Give up on this request in time to try again before the lease runs out.
  const seconds budget = std::clamp<seconds>(expires - sent, seconds(0.05), timeout_);
  std::string failure;
  try {
    const auto reply =
        client_.call("/v3/lease/keepalive", {{"ID", std::to_string(e.lease->id)}}, budget);
    if (reply.status == 200) {
      // The gateway leaves out default values: an expired lease's answer has no TTL.
      if (json_int(json_field(json_field(reply.body, "result"), "TTL")) <= 0) {
        return "etcd at " + reply.endpoint + " says its lease expired";
      }
      e.confirmed = sent;
      e.due = sent + to_steady(e.lease->ttl / 3);
      return {};
    }
    if (reply.status == 404) return "etcd at " + reply.endpoint + " says " + reply.message();
    failure = "etcd at " + reply.endpoint + " answered " + reply.message();
  } catch (const std::exception& err) {  // nothing may escape this thread
    failure = err.what();
  }
  const auto now = steady::now();
  if (now >= expires) {
    return "etcd did not renew its lease for " + seconds_text(now - e.confirmed, 1) +
           ", half its TTL of " + seconds_text(e.lease->ttl, 1) + ": " + failure;
  }
  e.due = std::min(expires, now + to_steady(retry_interval(e.lease->ttl)));
  return {};
}

void lease_keeper::declare_lost(held_lease& lease, const std::string& reason) {
  std::vector<std::string> resources;
  {
    std::lock_guard<std::mutex> guard(lease.mutex);
    lease.lost = true;
    resources = lease.resources;  // those released meanwhile are not reported
  }
  if (on_lost_) {
    for (const auto& id : resources) {
      try {
        on_lost_(id, "lost the lock of '" + id + "': " + reason);
      } catch (...) {  // a throwing callback must not end the process from this thread
      }
    }
  }
  // The lease is not revoked here: its holder revokes it when it has ended what used the
  // resources (etcd_lock::release), or it expires.
}

}  // namespace gtest_lockable::detail
