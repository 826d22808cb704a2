#include "gtest_lockable/lockable.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <random>

#include "src/health/health.hpp"
#include "src/ledger/record.hpp"
#include "src/util/json.hpp"
#include "src/util/time_format.hpp"
#include "src/util/user.hpp"

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

// One lock call's requirements, compiled before anything is locked, so that bad requirements
// fail at once.
struct compiled_requirements {
  std::vector<json> effective;       // with the defaults merged in
  std::vector<query> queries;        // one per requirement
  std::vector<const query*> wanted;  // into `queries`
};

// What one look at the inventory offers.
struct candidate_set {
  inventory_selection found;  // the matching entries, which `entry_of` points into
  // Per requirement, the ids of its matching entries in random order (which spreads the wear
  // across devices), a preferred one first.
  std::vector<std::vector<std::string>> ids;
  std::map<std::string, const json*> entry_of;
};

void check_timeout(seconds timeout) {
  if (!(timeout.count() >= 0) || timeout.count() > 1e9) {
    throw error(errc::invalid_argument, "invalid timeout " + std::to_string(timeout.count()) +
                                            ": give a number of seconds from 0 up");
  }
}

void check_priority(const lock_request& request) {
  if (request.priority < 0 || request.priority > 1000) {
    throw error(errc::invalid_argument, "invalid priority " + std::to_string(request.priority) +
                                            ": give a whole number from 0 to 1000");
  }
  if (!(request.priority_step.count() >= 0) || request.priority_step.count() > 1e6) {
    throw error(errc::invalid_argument, "invalid priority step " +
                                            std::to_string(request.priority_step.count()) +
                                            ": give seconds from 0 to 10^6");
  }
}

}  // namespace

void check_hold_request(seconds duration, const std::string& note) {
  if (!(duration.count() > 0) || duration > max_hold_duration) {
    throw error(errc::invalid_argument, "invalid hold duration " + detail::seconds_text(duration) +
                                            ": give more than 0 and at most 720h (30 days)");
  }
  if (note.size() > max_hold_note) {
    throw error(errc::invalid_argument, "the note of a hold is " + std::to_string(note.size()) +
                                            " bytes: give at most " +
                                            std::to_string(max_hold_note));
  }
  for (std::size_t i = 0; i < note.size(); ++i) {
    const auto byte = static_cast<unsigned char>(note[i]);
    if (byte < 0x20 || byte == 0x7f) {
      throw error(errc::invalid_argument,
                  "the note of a hold has a control character at byte " + std::to_string(i + 1) +
                      " (" + printable(note.substr(i, 1)) + "): give one line of plain text");
    }
  }
}

namespace {

// An id that `--release` may name: a lock folder file name, as inventories are checked.
void check_release_id(const std::string& id) {
  if (id.empty() || id == "." || id == ".." || id.size() > 200 ||
      id.find_first_of(std::string("/\0", 2)) != std::string::npos) {
    throw error(errc::invalid_argument, "cannot release '" + id +
                                            "': not a resource id (give the id that lockable "
                                            "--status shows)");
  }
  for (const char c : id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      throw error(errc::invalid_argument, "cannot release '" + id +
                                              "': a resource id has no control characters");
    }
  }
}

steady::duration to_steady(seconds s) { return std::chrono::duration_cast<steady::duration>(s); }

double epoch_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
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
  bool ledger_on = true;
  std::uint64_t ledger_size = 0;
  std::function<void(const std::string&)> on_warning;
  std::once_flag ledger_opened;
  std::shared_ptr<detail::ledger_writer> ledger;  // null when off or the store keeps none
  int quarantine_after = 3;
  seconds recheck_every{600.0};

  std::shared_ptr<const std::vector<detail::health_default>> health_defaults;

  detail::health_policy health_policy() const {
    return detail::health_policy{quarantine_after, recheck_every, hostname, health_defaults};
  }

  // The allocations of a request get their resets, run when each is released.
  void attach_resets(std::vector<allocation>& out, const std::shared_ptr<health_records>& records,
                     const candidate_set& found) const {
    for (allocation& a : out) {
      auto spec = detail::health_spec_for(*found.entry_of.at(a.resource_id_), a.resource_id_,
                                          health_policy());
      if (!spec || spec->reset.empty()) continue;
      auto task = std::make_shared<detail::reset_task>();
      task->records = records;
      task->policy = health_policy();
      task->spec = std::move(*spec);
      task->entry = a.resource_info_;
      task->id = a.resource_id_;
      task->alloc_id = a.alloc_id_;
      task->pid = static_cast<long>(::getpid());
      task->on_warning = on_warning;
      a.reset_ = std::move(task);
    }
  }

  // Why the call has no resource yet: the busy ones and their holders, and those health refused.
  std::string why_not(std::vector<lock_status>& busy, const detail::health_gate& gate) const {
    std::string why =
        busy.empty() && !gate.report().empty() ? "" : "busy: " + busy_report(*store, busy);
    const std::string health = gate.report();
    if (!health.empty()) why += (why.empty() ? "" : "; ") + health;
    return why;
  }

  // Writes each allocation's start record: after the lock is taken, so a record never claims a
  // hold that did not happen.
  void record_start(std::vector<allocation>& held) {
    if (!ledger_on) return;
    std::call_once(ledger_opened, [this] {
      try {
        if (auto log = store->ledger(ledger_size)) {
          ledger = std::make_shared<detail::ledger_writer>(std::move(log), on_warning);
        }
      } catch (...) {  // a store that cannot say: no ledger
      }
    });
    if (!ledger) return;
    const long pid = static_cast<long>(::getpid());
    for (allocation& a : held) {
      try {
        detail::start_fields f;
        f.alloc_id = a.alloc_id_;
        f.resource = a.resource_id_;
        f.host = hostname;
        f.requirements = detail::json_text(a.requirements_);
        f.pid = pid;
        f.started = epoch_seconds(a.start_time_);
        f.queued = f.started - std::chrono::duration<double>(a.queue_time_).count();
        ledger->write(detail::start_record(f));
        auto entry = std::make_shared<detail::ledger_entry>();
        entry->writer = ledger;
        entry->alloc_id = f.alloc_id;
        entry->resource = f.resource;
        entry->pid = pid;
        a.ledger_ = std::move(entry);
      } catch (...) {  // out of memory: this allocation goes unrecorded
      }
    }
  }

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

  json effective(const json& requirements) const {
    query::check_depth(requirements);  // before the copy: copying JSON recurses once per level
    return with_defaults(requirements, hostname);
  }

  compiled_requirements compile(const std::vector<json>& requirements) const {
    compiled_requirements out;
    for (const auto& r : requirements) {
      out.effective.push_back(effective(r));
      out.queries.emplace_back(out.effective.back());
    }
    for (const auto& q : out.queries) out.wanted.push_back(&q);
    return out;
  }

  // Throws `no_match` when some requirement matches nothing, or they cannot all have distinct
  // resources.
  candidate_set look(const compiled_requirements& c, const std::string& prefer) const {
    candidate_set out;
    // Only the entries that match some requirement; a large inventory file is not parsed whole.
    out.found = inventory->select(c.wanted);
    out.ids.resize(c.queries.size());
    for (std::size_t q = 0; q < c.queries.size(); ++q) {
      auto& ids = out.ids[q];
      for (const auto& resource : out.found.resources) {
        // With one requirement, the selection matched every entry already.
        if (c.queries.size() > 1 && !c.queries[q].matches(resource)) continue;
        ids.push_back(resource_id_text(resource));
        out.entry_of.emplace(ids.back(), &resource);
      }
      if (ids.empty()) {
        throw error(errc::no_match, "no resource in " + inventory->describe() + " (" +
                                        std::to_string(out.found.size) + " resources) matches " +
                                        detail::json_excerpt(c.effective[q]));
      }
      std::shuffle(ids.begin(), ids.end(), random_engine());
      const auto preferred = std::find(ids.begin(), ids.end(), prefer);
      if (preferred != ids.end()) std::rotate(ids.begin(), preferred, preferred + 1);
    }
    if (assignment_finder(out.ids, {}).find().empty()) {
      throw error(errc::no_match, "no " + std::to_string(c.queries.size()) +
                                      " distinct resources in " + inventory->describe() +
                                      " satisfy " + detail::json_excerpt(c.effective));
    }
    return out;
  }

  // Offers the store assignments of distinct candidates, leaving out those it found busy, until
  // it takes one whole: returns its locks, with `ids` the assignment. Returns none when every
  // assignment meets a busy resource; `busy` then names them with their holders.
  std::vector<std::unique_ptr<lock_handle>> try_lock(const candidate_set& c,
                                                     const lock_owner& owner,
                                                     std::vector<std::string>& ids,
                                                     std::vector<lock_status>& busy,
                                                     std::vector<std::string> busy_ids) const {
    busy.clear();
    while (true) {
      ids = assignment_finder(c.ids, busy_ids).find();
      if (ids.empty()) return {};
      const std::size_t known = busy.size();
      auto locks = store->try_lock_all(ids, owner, busy);
      if (!locks.empty()) return locks;
      if (busy.size() == known) {  // a store must say what was busy; do not spin
        throw error(errc::lock_store, store->describe() + " refused " +
                                          detail::json_excerpt(json(ids)) +
                                          " without naming a holder");
      }
      for (std::size_t b = known; b < busy.size(); ++b) busy_ids.push_back(busy[b].resource_id);
    }
  }

  std::vector<allocation> hand_out(const compiled_requirements& c, const candidate_set& found,
                                   const std::vector<std::string>& ids,
                                   std::vector<std::unique_ptr<lock_handle>> locks,
                                   const std::string& alloc_base, steady::time_point queued) const {
    const auto now = steady::now();
    const auto wall = std::chrono::system_clock::now();
    std::vector<allocation> out(ids.size());
    for (std::size_t q = 0; q < ids.size(); ++q) {
      allocation& a = out[q];
      a.requirements_ = c.effective[q];
      a.resource_id_ = ids[q];
      a.resource_info_ = *found.entry_of.at(ids[q]);
      a.alloc_id_ = ids.size() == 1 ? alloc_base : alloc_base + "-" + std::to_string(q);
      a.queue_time_ = now - queued;
      a.start_time_ = wall;
      a.held_since_ = now;
      a.lock_ = std::move(locks[q]);
    }
    return out;
  }

  // Gets in line and starts watching for releases. A caller that needs several resources has
  // none kept for it: while it waits for some, the others stay free for everyone.
  std::unique_ptr<wait_ticket> get_in_line(const candidate_set& c, const lock_owner& owner) const {
    std::vector<std::string> ids;
    for (const auto& list : c.ids) ids.insert(ids.end(), list.begin(), list.end());
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    auto ticket = store->enqueue(ids, c.ids.size() == 1, owner);
    store->prepare_wait();
    return ticket;
  }

  std::vector<allocation> lock_all(const std::vector<json>& requirements, seconds timeout,
                                   const lock_request& request) {
    const auto queued = steady::now();
    check_timeout(timeout);
    check_priority(request);
    if (requirements.empty()) return {};
    const std::string& prefer = request.prefer;
    const auto deadline = queued + to_steady(timeout);
    const auto notice_at = queued + to_steady(wait_notice_after);
    const compiled_requirements compiled = compile(requirements);
    // A priority is a head start in the line: each point counts as `priority_step` of waiting.
    const lock_owner owner{
        hostname, new_alloc_id(), request.priority,
        std::chrono::system_clock::now() -
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                request.priority_step * request.priority)};
    std::unique_ptr<wait_ticket> in_line;  // our place among the waiters, once we wait
    bool watching = false;
    bool noticed = false;
    std::vector<lock_status> busy;
    const std::shared_ptr<health_records> records = store->health();
    detail::health_gate gate(records, health_policy());
    try {
      while (true) {
        gate.refresh();
        const candidate_set candidates = look(compiled, prefer);
        std::vector<std::string> ids;
        auto locks = try_lock(candidates, owner, ids, busy, gate.excluded());
        if (!locks.empty()) {
          // Locked, not yet handed out: each resource's quarantine and probe are checked now, so
          // that no holder ever gets one that is quarantined or failed its probe.
          std::vector<std::string> notes(ids.size());
          bool healthy = true;
          for (std::size_t q = 0; q < ids.size() && healthy; ++q) {
            const std::string alloc_id =
                ids.size() == 1 ? owner.alloc_id : owner.alloc_id + "-" + std::to_string(q);
            healthy = gate.admit(ids[q], *candidates.entry_of.at(ids[q]), alloc_id, notes[q]);
          }
          if (!healthy) continue;  // `locks` releases them; the next pass leaves that one out
          auto out = hand_out(compiled, candidates, ids, std::move(locks), owner.alloc_id, queued);
          for (std::size_t q = 0; q < out.size(); ++q) out[q].health_note_ = std::move(notes[q]);
          attach_resets(out, records, candidates);
          count(true, out.front().queue_time());
          record_start(out);
          return out;
        }
        // A quarantined resource is checked again only by a caller that would otherwise wait.
        if (gate.allow_rechecks()) continue;
        const auto now = steady::now();
        if (now >= deadline) {
          throw error(errc::timeout,
                      "timed out after " + detail::seconds_text(timeout) + " waiting for " +
                          detail::json_excerpt(compiled.effective) + ": " + why_not(busy, gate));
        }
        if (!watching) {
          // Then look again: a release between the last look and the watch is seen.
          in_line = get_in_line(candidates, owner);
          watching = true;
          continue;
        }
        if (!noticed && on_wait && now >= notice_at) {
          noticed = true;
          on_wait(printable("waiting for " + detail::json_excerpt(compiled.effective) + ": " +
                            why_not(busy, gate)));
        }
        store->wait(!noticed && on_wait ? std::min(deadline, notice_at) : deadline);
      }
    } catch (...) {
      count(false, seconds(0));
      throw;
    }
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
  impl_->ledger_on = opts.ledger;
  impl_->ledger_size = opts.ledger_size;
  impl_->on_warning = std::move(opts.on_warning);
  if (opts.quarantine_after < 1 || opts.quarantine_after > 1000) {
    throw error(errc::invalid_argument, "invalid quarantine_after " +
                                            std::to_string(opts.quarantine_after) +
                                            ": give a whole number from 1 to 1000");
  }
  if (!(opts.recheck_every.count() >= 0) || opts.recheck_every.count() > 1e9) {
    throw error(errc::invalid_argument, "invalid recheck_every " +
                                            detail::seconds_text(opts.recheck_every) +
                                            ": give seconds from 0 up");
  }
  impl_->quarantine_after = opts.quarantine_after;
  if (!opts.health_defaults.is_null()) {
    impl_->health_defaults = std::make_shared<const std::vector<detail::health_default>>(
        detail::parse_health_defaults(opts.health_defaults, opts.health_defaults_source));
  }
  impl_->recheck_every = opts.recheck_every;
}

lockable::~lockable() = default;
lockable::lockable(lockable&&) noexcept = default;
lockable& lockable::operator=(lockable&&) noexcept = default;

json lockable::effective_requirements(const json& requirements) const {
  return impl_->effective(requirements);
}

allocation lockable::lock(const lock_requirements& requirements, seconds timeout,
                          const lock_request& request) {
  // Before the copy: copying JSON recurses once per level.
  query::check_depth(requirements.value());
  auto many = impl_->lock_all({requirements.value()}, timeout, request);
  return std::move(many.front());
}

std::vector<allocation> lockable::lock_many(const std::vector<json>& requirements,
                                            seconds timeout, const lock_request& request) {
  lock_request without_preference = request;
  without_preference.prefer.clear();
  return impl_->lock_all(requirements, timeout, without_preference);
}

void lockable::hold(allocation& held, seconds duration, const std::string& note) {
  check_hold_request(duration, note);
  if (!held.lock_ || !held.lock_->valid()) {
    throw error(errc::invalid_argument, "cannot hold '" + held.resource_id_ + "': not held");
  }
  const auto until = std::chrono::system_clock::now() +
                     std::chrono::duration_cast<std::chrono::system_clock::duration>(duration);
  const lock_owner owner{impl_->hostname, held.alloc_id_, 0, {}};
  hold_request request{until, note, detail::user_name(), {}, {}, held.start_time_};
  // The store writes the end record when the hold ends, not `unlock` now: a hold is no 0 s
  // allocation.
  const bool recorded = held.ledger_ && held.ledger_->pid == static_cast<long>(::getpid());
  if (recorded) detail::hold_end_parts(*held.ledger_, request.ledger_head, request.ledger_tail);
  impl_->store->hold(*held.lock_, held.resource_id_, owner, request);
  held.ledger_.reset();
  held.unlock();  // its handle holds nothing of the hold any more
}

lock_status lockable::release_hold(const std::string& id, bool force) {
  check_release_id(id);
  return impl_->store->release_hold(id, detail::user_name(), force);
}

std::vector<json> lockable::select(const json& requirements) {
  const query q(effective_requirements(requirements));
  return impl_->inventory->select({&q}).resources;
}

std::vector<lock_status> lockable::status(const json& requirements) {
  std::vector<lock_status> out;
  const auto records = impl_->store->health();
  for (const auto& resource : select(requirements)) {
    const std::string id = resource_id_text(resource);
    out.push_back(impl_->store->status(id));
    const std::string text = records ? records->read(id) : std::string();
    std::optional<detail::health_spec> spec;
    try {
      spec = detail::health_spec_for(resource, id, impl_->health_policy());
    } catch (const error& e) {
      out.back().health = e.what();
    }
    if (text.empty() && !spec) continue;
    const detail::health_record record = detail::parse_health_record(text);
    if (out.back().health.empty()) {
      out.back().health = detail::health_text(record, impl_->quarantine_after);
    }
    out.back().quarantined = record.quarantined;
    out.back().health_output = record.output;
  }
  return out;
}

namespace {

// The inventory entry of `id`, or `no_match` naming the inventory.
json entry_of_id(inventory_provider& inventory, const std::string& id) {
  const auto all = inventory.load();
  for (const auto& resource : all->resources) {
    if (resource_id_text(resource) == id) return resource;
  }
  throw error(errc::no_match, "'" + printable(id) + "' is not in " + inventory.describe() + " (" +
                                  std::to_string(all->resources.size()) +
                                  " resources): give an id that lockable --list shows");
}

std::shared_ptr<health_records> records_of(lock_store& store) {
  auto records = store.health();
  if (!records) {
    throw error(errc::lock_store,
                store.describe() + " keeps no health records, so it cannot quarantine");
  }
  return records;
}

}  // namespace

lock_status lockable::quarantine(const std::string& id, const std::string& reason) {
  const json entry = entry_of_id(*impl_->inventory, id);
  detail::quarantine(*records_of(*impl_->store), id, reason,
                     detail::user_name() + "@" + impl_->hostname);
  return status(json{{"id", entry.at("id")}, {"hostname", nullptr}, {"online", nullptr}}).at(0);
}

lock_status lockable::unquarantine(const std::string& id) {
  entry_of_id(*impl_->inventory, id);
  lock_status was = impl_->store->status(id);
  const detail::health_record record = detail::unquarantine(*records_of(*impl_->store), id);
  was.health = detail::health_text(record, impl_->quarantine_after);
  was.quarantined = true;
  return was;
}

statistics lockable::stats() const {
  std::lock_guard<std::mutex> guard(impl_->stats_mutex);
  return impl_->stats;
}

lock_store& lockable::store() { return *impl_->store; }

const std::string& lockable::hostname() const { return impl_->hostname; }

std::shared_ptr<ledger_log> lockable::ledger() { return impl_->store->ledger(impl_->ledger_size); }

std::uint64_t lockable::ledger_size() const { return impl_->ledger_size; }

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
    ledger_ = std::move(other.ledger_);
    reset_ = std::move(other.reset_);
    health_note_ = std::move(other.health_note_);
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
  // The end time is taken before the release, so a record's hold lies inside the real one; the
  // record is written after it, so that writing does not make the hold longer.
  const bool lost = !lock_->valid();
  const auto ended = std::chrono::system_clock::now();
  held_for_ = steady::now() - held_since_;
  // The reset runs while the lock is still held: nobody gets the resource before it is done.
  if (auto reset = std::move(reset_); reset && !lost) reset->run();
  lock_->release();
  lock_.reset();
  release_time_ = ended;
  if (auto entry = std::move(ledger_); entry && entry->pid == static_cast<long>(::getpid())) {
    try {
      entry->writer->write(detail::end_record(*entry, epoch_seconds(ended),
                                              std::chrono::duration<double>(held_for_).count(),
                                              lost));
    } catch (...) {  // out of memory: the record stays open, as if the holder had been killed
    }
  }
}

void allocation::set_outcome(outcome result) {
  if (ledger_) ledger_->result = std::move(result);
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
