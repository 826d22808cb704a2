#include "gtest_lockable/lockable.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <random>

#include "src/util/json.hpp"
#include "src/util/time_format.hpp"

namespace gtest_lockable {
namespace {

using nlohmann::json;
using steady = std::chrono::steady_clock;

std::mt19937_64& random_engine() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

// A random (version 4) UUID.
std::string new_alloc_id() {
  auto& engine = random_engine();
  const uint64_t hi = (engine() & ~0xf000ULL) | 0x4000ULL;
  const uint64_t lo = (engine() & ~(3ULL << 62)) | (2ULL << 62);
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return text;
}

// Kuhn's augmenting paths: a distinct resource for each requirement, avoiding `busy`, taking
// candidates in their (shuffled) order. Returns indexes into `candidates[i]`, or empty.
class assignment_finder {
 public:
  assignment_finder(const std::vector<std::vector<std::string>>& candidates,
                    const std::vector<std::string>& busy)
      : candidates_(candidates), busy_(busy) {}

  std::vector<std::string> find() {
    owner_.clear();
    for (std::size_t r = 0; r < candidates_.size(); ++r) {
      visited_.clear();
      if (!augment(r)) return {};
    }
    std::vector<std::string> ids(candidates_.size());
    for (const auto& [id, r] : owner_) ids[r] = id;
    return ids;
  }

 private:
  bool augment(std::size_t r) {
    for (const auto& id : candidates_[r]) {
      if (std::find(busy_.begin(), busy_.end(), id) != busy_.end()) continue;
      if (std::find(visited_.begin(), visited_.end(), id) != visited_.end()) continue;
      visited_.push_back(id);
      const auto it =
          std::find_if(owner_.begin(), owner_.end(), [&](const auto& o) { return o.first == id; });
      if (it == owner_.end()) {
        owner_.emplace_back(id, r);
        return true;
      }
      const auto slot = static_cast<std::size_t>(it - owner_.begin());  // augment() may grow owner_
      if (augment(it->second)) {
        owner_[slot].second = r;
        return true;
      }
    }
    return false;
  }

  const std::vector<std::vector<std::string>>& candidates_;
  const std::vector<std::string>& busy_;
  std::vector<std::pair<std::string, std::size_t>> owner_;
  std::vector<std::string> visited_;
};

// The first few busy resources and their holders; a pool of hundreds would make a line of many
// kilobytes that nobody reads.
std::string busy_report(lock_store& store, std::vector<lock_status>& busy) {
  store.explain(busy);
  constexpr std::size_t shown = 8;
  std::string text;
  for (std::size_t i = 0; i < busy.size() && i < shown; ++i) {
    text += (i ? ", " : "") + describe(busy[i]);
  }
  if (busy.size() > shown) text += " and " + std::to_string(busy.size() - shown) + " more";
  return text;
}

}  // namespace

struct lockable::impl {
  std::string hostname;
  std::shared_ptr<inventory_provider> inventory;
  std::shared_ptr<lock_store> store;
  std::function<void(const std::string&)> on_wait;
  seconds wait_notice_after;
  mutable std::mutex stats_mutex;
  statistics stats;

  void count(bool ok, seconds waited) {
    std::lock_guard<std::mutex> guard(stats_mutex);
    if (!ok) {
      ++stats.failures;
      return;
    }
    ++stats.allocations;
    stats.total_wait += waited;
    stats.longest_wait = std::max(stats.longest_wait, waited);
  }
};

lockable::lockable(options opts) : impl_(std::make_unique<impl>()) {
  impl_->hostname = opts.hostname.empty() ? this_hostname() : opts.hostname;
  impl_->inventory = opts.inventory
                         ? std::move(opts.inventory)
                         : std::shared_ptr<inventory_provider>(open_inventory(opts.resources));
  impl_->store = opts.store
                     ? std::move(opts.store)
                     : std::shared_ptr<lock_store>(lock_folder_store(
                           opts.lock_folder.empty() ? default_lock_folder() : opts.lock_folder));
  impl_->on_wait = std::move(opts.on_wait);
  impl_->wait_notice_after = opts.wait_notice_after;
}

lockable::~lockable() = default;
lockable::lockable(lockable&&) noexcept = default;
lockable& lockable::operator=(lockable&&) noexcept = default;

json lockable::effective_requirements(const json& requirements) const {
  query::check_depth(requirements);  // before the copy: copying JSON recurses once per level
  return with_defaults(requirements, impl_->hostname);
}

allocation lockable::lock(const json& requirements, seconds timeout) {
  return lock(requirements, timeout, std::string());
}

allocation lockable::lock(const json& requirements, seconds timeout, const std::string& prefer) {
  query::check_depth(requirements);  // before the copy: copying JSON recurses once per level
  auto many = lock_all({requirements}, timeout, prefer);
  return std::move(many.front());
}

allocation lockable::lock(std::string_view requirements, seconds timeout) {
  return lock(parse_requirements(requirements), timeout);
}

std::vector<allocation> lockable::lock_many(const std::vector<json>& requirements,
                                            seconds timeout) {
  return lock_all(requirements, timeout, std::string());
}

std::vector<allocation> lockable::lock_all(const std::vector<json>& requirements, seconds timeout,
                                           const std::string& prefer) {
  const auto queued = steady::now();
  if (!(timeout.count() >= 0) || timeout.count() > 1e9) {
    throw error(errc::invalid_argument, "invalid timeout " + std::to_string(timeout.count()) +
                                            ": give a number of seconds from 0 up");
  }
  if (requirements.empty()) return {};
  const auto deadline = queued + std::chrono::duration_cast<steady::duration>(timeout);
  // Compile every query before anything is locked, so bad requirements fail at once.
  std::vector<json> effective;
  std::vector<query> queries;
  for (const auto& r : requirements) {
    effective.push_back(effective_requirements(r));
    queries.emplace_back(effective.back());
  }
  std::vector<const query*> wanted;
  for (const auto& q : queries) wanted.push_back(&q);
  const std::string alloc_base = new_alloc_id();
  const lock_owner owner{impl_->hostname, alloc_base};
  std::unique_ptr<wait_ticket> in_line;  // our place among the waiters, once we wait
  bool watching = false;
  bool noticed = false;
  std::vector<lock_status> busy;
  try {
    while (true) {
      // Only the entries that match some requirement; a large inventory file is not parsed whole.
      const auto found = impl_->inventory->select(wanted);
      // Candidates per requirement, in random order: spreads the wear across devices.
      std::vector<std::vector<std::string>> candidates(queries.size());
      std::map<std::string, const json*> entry_of;  // matching entries, for resource_info
      for (std::size_t q = 0; q < queries.size(); ++q) {
        for (const auto& resource : found.resources) {
          // With one requirement, the selection matched every entry already.
          if (queries.size() > 1 && !queries[q].matches(resource)) continue;
          candidates[q].push_back(resource_id_text(resource));
          entry_of.emplace(candidates[q].back(), &resource);
        }
        if (candidates[q].empty()) {
          throw error(errc::no_match, "no resource in " + impl_->inventory->describe() + " (" +
                                          std::to_string(found.size) + " resources) matches " +
                                          detail::json_excerpt(effective[q]));
        }
        std::shuffle(candidates[q].begin(), candidates[q].end(), random_engine());
        const auto preferred = std::find(candidates[q].begin(), candidates[q].end(), prefer);
        if (preferred != candidates[q].end())
          std::rotate(candidates[q].begin(), preferred, preferred + 1);
      }
      if (assignment_finder(candidates, {}).find().empty()) {
        throw error(errc::no_match, "no " + std::to_string(queries.size()) +
                                        " distinct resources in " + impl_->inventory->describe() +
                                        " satisfy " + detail::json_excerpt(effective));
      }
      busy.clear();
      std::vector<std::string> busy_ids;
      while (true) {
        const auto ids = assignment_finder(candidates, busy_ids).find();
        if (ids.empty()) break;
        const std::size_t known = busy.size();
        auto locks = impl_->store->try_lock_all(ids, owner, busy);
        if (!locks.empty()) {
          const auto now = steady::now();
          const auto wall = std::chrono::system_clock::now();
          std::vector<allocation> out(ids.size());
          for (std::size_t q = 0; q < ids.size(); ++q) {
            allocation& a = out[q];
            a.requirements_ = effective[q];
            a.resource_id_ = ids[q];
            a.resource_info_ = *entry_of.at(ids[q]);
            a.alloc_id_ = ids.size() == 1 ? alloc_base : alloc_base + "-" + std::to_string(q);
            a.queue_time_ = now - queued;
            a.start_time_ = wall;
            a.held_since_ = now;
            a.lock_ = std::move(locks[q]);
          }
          impl_->count(true, now - queued);
          return out;
        }
        if (busy.size() == known) {  // a store must say what was busy; do not spin
          throw error(errc::lock_store, impl_->store->describe() + " refused " +
                                            detail::json_excerpt(json(ids)) +
                                            " without naming a holder");
        }
        for (std::size_t b = known; b < busy.size(); ++b) busy_ids.push_back(busy[b].resource_id);
      }
      const auto now = steady::now();
      if (now >= deadline) {
        throw error(errc::timeout, "timed out after " + detail::seconds_text(timeout) + " waiting for " +
                                       detail::json_excerpt(effective) +
                                       ": busy: " + busy_report(*impl_->store, busy));
      }
      if (!watching) {
        // Get in line, watch, then look again: a release between the last look and the watch is
        // seen. A caller that needs several resources has none kept for it: while it waits for
        // some, the others stay free for everyone.
        std::vector<std::string> ids;
        for (const auto& list : candidates) ids.insert(ids.end(), list.begin(), list.end());
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        in_line = impl_->store->enqueue(ids, candidates.size() == 1, owner);
        impl_->store->prepare_wait();
        watching = true;
        continue;
      }
      const auto notice_at =
          queued + std::chrono::duration_cast<steady::duration>(impl_->wait_notice_after);
      if (!noticed && impl_->on_wait && now >= notice_at) {
        noticed = true;
        impl_->on_wait(printable("waiting for " + detail::json_excerpt(effective) +
                                 ": busy: " + busy_report(*impl_->store, busy)));
      }
      impl_->store->wait(!noticed && impl_->on_wait ? std::min(deadline, notice_at) : deadline);
    }
  } catch (...) {
    impl_->count(false, seconds(0));
    throw;
  }
}

std::vector<json> lockable::select(const json& requirements) {
  const query q(effective_requirements(requirements));
  return impl_->inventory->select({&q}).resources;
}

std::vector<lock_status> lockable::status(const json& requirements) {
  std::vector<lock_status> out;
  for (const auto& resource : select(requirements)) {
    out.push_back(impl_->store->status(resource_id_text(resource)));
  }
  return out;
}

statistics lockable::stats() const {
  std::lock_guard<std::mutex> guard(impl_->stats_mutex);
  return impl_->stats;
}

lock_store& lockable::store() { return *impl_->store; }

const std::string& lockable::hostname() const { return impl_->hostname; }

allocation& allocation::operator=(allocation&& other) noexcept {
  if (this != &other) {
    unlock();
    requirements_ = std::move(other.requirements_);
    resource_info_ = std::move(other.resource_info_);
    resource_id_ = std::move(other.resource_id_);
    alloc_id_ = std::move(other.alloc_id_);
    queue_time_ = other.queue_time_;
    start_time_ = other.start_time_;
    held_since_ = other.held_since_;
    release_time_ = other.release_time_;
    held_for_ = other.held_for_;
    lock_ = std::move(other.lock_);
  }
  return *this;
}

bool allocation::held() const noexcept { return lock_ && lock_->valid(); }

std::chrono::steady_clock::duration allocation::duration() const noexcept {
  if (lock_) return steady::now() - held_since_;
  return held_for_;
}

void allocation::unlock() noexcept {
  if (!lock_) return;
  lock_->release();
  lock_.reset();
  held_for_ = steady::now() - held_since_;
  release_time_ = std::chrono::system_clock::now();
}

json allocation::to_json() const {
  const auto secs = [](auto d) { return std::chrono::duration<double>(d).count(); };
  json out = {{"resource_id", resource_id_},
              {"alloc_id", alloc_id_},
              {"requirements", requirements_},
              {"resource_info", resource_info_},
              {"allocation_queue_time", secs(queue_time_)},
              {"allocation_start_time", detail::iso8601(start_time_)},
              {"allocation_duration", secs(duration())}};
  out["release_time"] = release_time_ ? json(detail::iso8601(*release_time_)) : json(nullptr);
  return out;
}

}  // namespace gtest_lockable
