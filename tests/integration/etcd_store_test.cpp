// The etcd store against real etcd servers on loopback (see tests/support/etcd_server.hpp), and
// real worker processes (etcd_lock_worker) where a claim is about several processes.
#include "gtest_lockable/etcd_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "etcd_server.hpp"
#include "gtest_lockable/lockable.hpp"

namespace gtest_lockable {
namespace {

using nlohmann::json;
using testing_support::after;
using testing_support::child_process;
using testing_support::etcd_cluster;
using testing_support::read_all_keys;
namespace fs = std::filesystem;

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

long long steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Collects on_lost calls from the store's background thread.
struct lost_log {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> reasons;

  etcd_options::lost_callback callback() {
    return [this](const std::string&, const std::string& reason) {
      std::lock_guard<std::mutex> guard(mutex);
      reasons.push_back(reason);
      changed.notify_all();
    };
  }
  bool wait_for(std::size_t count, testing_support::seconds timeout) {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return reasons.size() >= count; });
  }
  std::size_t size() {
    std::lock_guard<std::mutex> guard(mutex);
    return reasons.size();
  }
};

class etcd_store_test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!etcd_cluster::available()) {
      GTEST_SKIP() << etcd_cluster::executable
                   << " is missing: install Debian's etcd-server to run the etcd store tests";
    }
  }

  etcd_cluster& etcd() {
    if (!etcd_) etcd_ = std::make_unique<etcd_cluster>(1);
    return *etcd_;
  }

  static lockable make_lockable(std::shared_ptr<lock_store> store,
                                std::vector<std::string> ids = {"b1"}) {
    json resources = json::array();
    for (const auto& id : ids)
      resources.push_back({{"id", id}, {"hostname", "lab"}, {"online", true}});
    options opts;
    opts.hostname = "lab";
    opts.inventory = memory_inventory(resources);
    opts.store = std::move(store);
    return lockable(std::move(opts));
  }

  static etcd_options with_ttl(double ttl) {
    etcd_options o;
    o.ttl = seconds(ttl);
    return o;
  }

  std::vector<std::string> worker(const std::string& mode, const std::string& uri, double ttl,
                                  std::vector<std::string> more = {}) {
    std::vector<std::string> argv = {ETCD_LOCK_WORKER, mode, uri, std::to_string(ttl), "b1"};
    argv.insert(argv.end(), more.begin(), more.end());
    return argv;
  }

  std::unique_ptr<etcd_cluster> etcd_;
};

TEST_F(etcd_store_test, lock_records_its_holder_and_release_deletes_the_key) {
  auto store = etcd_lock_store(etcd().uri("/lab/locks"));
  std::vector<lock_status> busy;
  auto held = store->try_lock_all({"b1"}, {"host-a", "alloc-1"}, busy);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_TRUE(held[0]->valid());
  const auto keys = read_all_keys(etcd().endpoint(0)).keys;
  ASSERT_EQ(keys.count("/lab/locks/b1"), 1u) << "the lock is key <prefix>/<id>";
  EXPECT_NE(keys.at("/lab/locks/b1"), 0) << "the key is attached to a lease";

  const auto status = store->status("b1");
  EXPECT_EQ(status.state, lock_state::held);
  EXPECT_EQ(status.holder.pid, ::getpid());
  EXPECT_EQ(status.holder.host, "host-a");
  EXPECT_EQ(status.holder.alloc_id, "alloc-1");
  EXPECT_FALSE(status.holder.since.empty());
  EXPECT_NE(describe(status).find("held by PID " + std::to_string(::getpid()) + " on host-a"),
            std::string::npos)
      << describe(status);

  held[0]->release();
  EXPECT_FALSE(held[0]->valid());
  EXPECT_EQ(read_all_keys(etcd().endpoint(0)).keys.count("/lab/locks/b1"), 0u);
  EXPECT_EQ(store->status("b1").state, lock_state::free);
  held[0]->release();  // twice is harmless
}

TEST_F(etcd_store_test, lock_many_takes_all_keys_in_one_transaction_or_none) {
  auto other = etcd_lock_store(etcd().uri(""));
  auto store = etcd_lock_store(etcd().uri(""));
  std::vector<lock_status> busy;
  auto b = other->try_lock_all({"b"}, {"other-host", "alloc-b"}, busy);
  ASSERT_EQ(b.size(), 1u);

  const auto before = read_all_keys(etcd().endpoint(0));
  EXPECT_TRUE(store->try_lock_all({"a", "b"}, {"me", "alloc-ab"}, busy).empty());
  const auto after_fail = read_all_keys(etcd().endpoint(0));
  ASSERT_EQ(busy.size(), 1u) << "the busy key is named";
  EXPECT_EQ(busy[0].resource_id, "b");
  EXPECT_EQ(busy[0].holder.host, "other-host");
  EXPECT_EQ(after_fail.revision, before.revision) << "a failed lock writes nothing, not even 'a'";
  EXPECT_EQ(store->status("a").state, lock_state::free);

  b[0]->release();
  const auto free = read_all_keys(etcd().endpoint(0));
  busy.clear();
  auto both = store->try_lock_all({"a", "b"}, {"me", "alloc-ab"}, busy);
  ASSERT_EQ(both.size(), 2u);
  const auto taken = read_all_keys(etcd().endpoint(0));
  EXPECT_EQ(taken.revision, free.revision + 1) << "both keys are written by one transaction";
  EXPECT_EQ(taken.keys.count("/gtest_lockable/locks/a"), 1u) << "default prefix";

  both[0]->release();  // one of a request's locks can go before the others
  EXPECT_EQ(store->status("a").state, lock_state::free);
  EXPECT_EQ(store->status("b").state, lock_state::held);
  EXPECT_TRUE(both[1]->valid());
  both[1]->release();
  EXPECT_TRUE(read_all_keys(etcd().endpoint(0)).keys.empty());
}

TEST_F(etcd_store_test, etcd_errors_are_reported_with_its_message) {
  auto store = etcd_lock_store(etcd().uri(""));
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) ids.push_back("r" + std::to_string(i));  // etcd allows 128 ops
  std::vector<lock_status> busy;
  try {
    store->try_lock_all(ids, {"me", "alloc"}, busy);
    FAIL() << "etcd accepted a transaction of 200 keys";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::lock_store);
    EXPECT_NE(std::string(e.what()).find("too many operations"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(etcd().endpoint(0).substr(7)), std::string::npos)
        << e.what();
  }
}

TEST_F(etcd_store_test, unreachable_etcd_is_reported_with_endpoint_and_time_tried) {
  const int port = testing_support::free_port();  // nothing listens there
  etcd_options opts;
  opts.timeout = seconds(0.3);
  auto store = etcd_lock_store("etcd://127.0.0.1:" + std::to_string(port), opts);
  const auto start = std::chrono::steady_clock::now();
  try {
    store->status("b1");
    FAIL() << "no error without etcd";
  } catch (const error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.code(), errc::lock_store);
    EXPECT_NE(what.find("cannot reach etcd at 127.0.0.1:" + std::to_string(port)),
              std::string::npos)
        << what;
    EXPECT_NE(what.find(" for 0."), std::string::npos) << "says how long it tried: " << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
    std::printf("unreachable etcd reported after %.2f s: %s\n", since(start), what.c_str());
  }
}

TEST_F(etcd_store_test, processes_exclude_each_other) {
  const std::string uri = etcd().uri("");
  const std::string log = etcd().folder() + "/holds.log";
  constexpr int workers = 4, rounds = 5;
  std::vector<std::unique_ptr<child_process>> children;
  for (int i = 0; i < workers; ++i) {
    children.push_back(std::make_unique<child_process>(
        worker("loop", uri, 5, {std::to_string(rounds), "15", log})));
  }
  for (auto& child : children) {
    const auto status = child->wait(after(seconds(60)));
    ASSERT_TRUE(status.has_value()) << "a worker did not finish in 60 s";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "worker failed: " << *status;
  }
  std::ifstream in(log);
  std::vector<std::array<long long, 3>> holds;
  for (long long start, end, pid; in >> start >> end >> pid;) holds.push_back({start, end, pid});
  ASSERT_EQ(holds.size(), static_cast<std::size_t>(workers * rounds));
  std::sort(holds.begin(), holds.end());
  std::set<long long> pids;
  for (std::size_t i = 0; i < holds.size(); ++i) {
    pids.insert(holds[i][2]);
    if (i > 0) {
      EXPECT_GE(holds[i][0], holds[i - 1][1])
          << "PID " << holds[i][2] << " held the resource while PID " << holds[i - 1][2] << " did";
    }
  }
  EXPECT_EQ(pids.size(), static_cast<std::size_t>(workers));
}

TEST_F(etcd_store_test, killed_holders_lock_is_taken_within_ttl_plus_one_second) {
  constexpr double ttl = 2;
  child_process holder(worker("hold", etcd().uri(""), ttl));
  ASSERT_EQ(holder.read_line(after(seconds(30))).value_or("(nothing)"), "locked");
  auto l = make_lockable(etcd_lock_store(etcd().uri("")));
  const auto seen = l.status(json::object());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].holder.pid, holder.pid()) << describe(seen[0]);

  holder.stop(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  auto a = l.lock(json::object(), seconds(ttl + 1));  // throws `timeout` if the lock outlives it
  EXPECT_TRUE(a.held());
  std::printf("lock of a SIGKILLed holder taken %.2f s after the kill (TTL %.0f s)\n",
              since(killed), ttl);
}

TEST_F(etcd_store_test, waiter_wakes_on_release_without_polling) {
  // Looking again only every 60 s while waiting at most 20 s: only the watch can wake it.
  etcd_options opts;
  opts.recheck_interval = seconds(60);
  // A release at once lands between the waiter's last look and its watch (replayed from the
  // look's revision); one 200 ms later finds the watch in place (live).
  std::map<std::string, std::vector<double>> latencies_ms;
  for (const std::string delay : {"0", "200", "0", "200", "0", "200"}) {
    child_process holder(worker("hold", etcd().uri(""), 5));
    ASSERT_EQ(holder.read_line(after(seconds(30))).value_or("(nothing)"), "locked");
    bool asked = false;
    options o;
    o.hostname = "lab";
    o.inventory =
        memory_inventory(json::array({{{"id", "b1"}, {"hostname", "lab"}, {"online", true}}}));
    o.store = etcd_lock_store(etcd().uri(""), opts);
    // on_wait runs once the lock call found the resource busy and is about to wait for it.
    o.wait_notice_after = seconds(0);
    o.on_wait = [&](const std::string&) {
      asked = true;
      holder.write("release " + delay + "\n");
    };
    lockable l(std::move(o));
    auto a = l.lock(json::object(), seconds(20));
    const long long acquired = steady_ns();
    EXPECT_TRUE(asked) << "the lock call did not wait";
    const auto line = holder.read_line(after(seconds(10))).value_or("");
    ASSERT_EQ(line.rfind("released ", 0), 0u) << line;
    latencies_ms[delay == "0" ? "replayed" : "live"].push_back(
        static_cast<double>(acquired - std::stoll(line.substr(9))) / 1e6);
  }
  for (auto& [kind, ms] : latencies_ms) {
    std::sort(ms.begin(), ms.end());
    std::printf("release -> waiter holds (%s): %.1f / %.1f / %.1f ms (min / median / max)\n",
                kind.c_str(), ms.front(), ms[ms.size() / 2], ms.back());
  }
}

TEST_F(etcd_store_test, stopped_etcd_loses_the_lease_marks_the_lock_lost_and_calls_on_lost) {
  lost_log lost;
  etcd_options opts = with_ttl(2);
  opts.timeout = seconds(1);
  opts.on_lost = lost.callback();
  auto l = make_lockable(etcd_lock_store(etcd().uri(""), opts));
  auto a = l.lock(json::object());
  ASSERT_TRUE(a.held());
  etcd().stop(0);
  const auto stopped = std::chrono::steady_clock::now();
  ASSERT_TRUE(lost.wait_for(1, seconds(15))) << "on_lost was not called 15 s after etcd stopped";
  const double detected = since(stopped);
  EXPECT_FALSE(a.held()) << "the allocation must report the lost lock";
  EXPECT_NE(lost.reasons[0].find("lost the lock of 'b1'"), std::string::npos) << lost.reasons[0];
  EXPECT_NE(lost.reasons[0].find("TTL"), std::string::npos) << lost.reasons[0];
  EXPECT_EQ(lost.reasons[0].find('\n'), std::string::npos) << lost.reasons[0];
  const auto unlock_start = std::chrono::steady_clock::now();
  a.unlock();  // must not hang on the missing server
  std::printf(
      "lost lease noticed %.2f s after etcd stopped (TTL 2 s); unlock took %.3f s\n"
      "reason: %s\n",
      detected, since(unlock_start), lost.reasons[0].c_str());
  EXPECT_EQ(lost.size(), 1u) << "once per resource";
}

TEST_F(etcd_store_test, etcd_restarted_within_the_ttl_keeps_the_lock) {
  constexpr double ttl = 6;
  lost_log lost;
  etcd_options opts = with_ttl(ttl);
  opts.on_lost = lost.callback();
  auto l = make_lockable(etcd_lock_store(etcd().uri(""), opts));
  auto a = l.lock(json::object());
  const auto stopped = std::chrono::steady_clock::now();
  etcd().stop(0);
  etcd().start(0);  // same ports, same data
  const auto back = std::chrono::steady_clock::now();
  std::printf("etcd was down for %.2f s\n", since(stopped) - since(back));
  // etcd renews every lease once when it comes back; the lock outliving one more TTL proves
  // that the holder's renewals resumed. Waiting out that time is what this test is about.
  std::this_thread::sleep_until(back +
                                std::chrono::milliseconds(static_cast<int>(ttl * 1000) + 1000));
  EXPECT_EQ(lost.size(), 0u) << (lost.size() ? lost.reasons[0] : "");
  EXPECT_TRUE(a.held());
  auto other = etcd_lock_store(etcd().uri(""));
  std::vector<lock_status> busy;
  EXPECT_TRUE(other->try_lock_all({"b1"}, {"other", "x"}, busy).empty());
  ASSERT_EQ(busy.size(), 1u);
  EXPECT_EQ(busy[0].holder.alloc_id, a.alloc_id());
  a.unlock();
  EXPECT_EQ(other->try_lock_all({"b1"}, {"other", "x"}, busy).size(), 1u);
}

TEST_F(etcd_store_test, three_member_cluster_survives_stopping_the_member_in_use) {
  etcd_ = std::make_unique<etcd_cluster>(3);
  constexpr double ttl = 3;
  lost_log lost;
  etcd_options opts = with_ttl(ttl);
  opts.on_lost = lost.callback();
  // The leader first: the store talks to it, and killing it (no graceful hand-over of the
  // leadership) forces an election.
  const int leader = etcd().leader();
  std::vector<int> order = {leader};
  for (int i = 0; i < 3; ++i) {
    if (i != leader) order.push_back(i);
  }
  auto l = make_lockable(etcd_lock_store(etcd().uri("", order), opts), {"a", "b"});
  auto a = l.lock(R"({"id":"a"})");
  etcd().stop(leader, SIGKILL);
  const auto stopped = std::chrono::steady_clock::now();
  auto b = l.lock(R"({"id":"b"})", seconds(10));
  std::printf("lock through the next member took %.2f s after the leader was killed\n",
              since(stopped));
  std::this_thread::sleep_until(stopped +
                                std::chrono::milliseconds(static_cast<int>(ttl * 1000) + 1000));
  EXPECT_EQ(lost.size(), 0u) << (lost.size() ? lost.reasons[0] : "");
  EXPECT_TRUE(a.held());
  EXPECT_TRUE(b.held());
  auto member2 = etcd_lock_store(etcd().uri("", {order[2]}));
  EXPECT_EQ(member2->status("a").state, lock_state::held);
  EXPECT_EQ(member2->status("b").state, lock_state::held);
  a.unlock();
  b.unlock();
  EXPECT_EQ(member2->status("a").state, lock_state::free);
  EXPECT_EQ(member2->status("b").state, lock_state::free);
}

}  // namespace
}  // namespace gtest_lockable
