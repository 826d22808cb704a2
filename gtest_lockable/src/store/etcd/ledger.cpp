// The etcd store's usage ledger. Each record is one key under `<prefix>.ledger/`, named by the
// time it was written, so a range read returns the records in order. Records are not attached to
// the lock leases (they must outlive their holders) but to one lease per period of a tenth of the
// retention, found under `<prefix>.ledger-lease/<period>` by every writer and granted by the
// first: etcd then drops a period's records all at once, without a lease per record (each lease
// costs etcd memory and a timer) and without anyone deleting anything.
#include <algorithm>
#include <cmath>
#include <mutex>
#include <optional>
#include <random>

#include "gtest_lockable/error.hpp"
#include "src/store/etcd/shared.hpp"
#include "src/store/lock_folder/queue.hpp"
#include "src/util/base64.hpp"

namespace gtest_lockable::detail {
namespace {

using nlohmann::json;
using seconds = std::chrono::duration<double>;

// Records per range request: a reader of 100,000 records makes 200 requests of about 250 KB.
constexpr int page_size = 500;

double epoch_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class etcd_ledger_log final : public ledger_log {
 public:
  etcd_ledger_log(std::shared_ptr<etcd_shared> shared, seconds retention)
      : shared_(std::move(shared)),
        retention_(retention),
        period_(std::max(retention / 10, seconds(1))) {}

  void append(const std::string& line) override {
    std::lock_guard<std::mutex> guard(mutex_);
    for (int attempt = 0;; ++attempt) {
      const int64_t lease = period_lease();
      const json put = {{"key", base64_encode(shared_->ledger_prefix() + etcd_unique_name())},
                        {"value", base64_encode(line)},
                        {"lease", std::to_string(lease)}};
      const etcd_reply reply = shared_->client.call("/v3/kv/put", put, timeout());
      if (reply.status == 200) return;
      // The period's lease is gone (the clock was set back past its period, or someone revoked
      // it): take the period's lease again.
      if (attempt == 0 && reply.message().find("lease not found") != std::string::npos) {
        cached_.reset();
        continue;
      }
      throw error(errc::lock_store, describe() + ": etcd at " + reply.endpoint +
                                        " refused to record: " + reply.message());
    }
  }

  void read(const std::function<void(std::string_view)>& part,
            std::vector<std::string>& problems) override {
    (void)problems;  // etcd keeps records whole; an unreachable etcd is an error, not a gap
    std::lock_guard<std::mutex> guard(mutex_);
    const std::string prefix = shared_->ledger_prefix();
    const std::string end = base64_encode(prefix_range_end(prefix));
    std::string from = prefix;
    std::string text;
    while (true) {
      const json reply = shared_->client.call_ok(
          "/v3/kv/range", {{"key", base64_encode(from)}, {"range_end", end}, {"limit", page_size}},
          timeout(), "read the ledger under " + prefix);
      const auto& kvs = json_field(reply, "kvs");
      text.clear();
      std::string last;
      for (const auto& kv : kvs) {
        text += base64_decode(json_string(json_field(kv, "value")));
        if (text.empty() || text.back() != '\n') text += '\n';
        last = json_string(json_field(kv, "key"));
      }
      if (!text.empty()) part(text);
      if (json_field(reply, "more") != true || last.empty()) return;
      from = base64_decode(last) + std::string(1, '\0');
    }
  }

  std::string describe() const override {
    return "ledger of etcd lock server " + shared_->uri.text() + " (keys under " +
           shared_->ledger_prefix() + ")";
  }

 private:
  seconds timeout() const { return shared_->options.timeout; }

  // The lease of the current period: read by every writer, granted by the first.
  int64_t period_lease() {
    const auto period = static_cast<int64_t>(std::floor(epoch_now() / period_.count()));
    if (cached_ && cached_->first == period) return cached_->second;
    const std::string key = base64_encode(shared_->ledger_lease_prefix() + std::to_string(period));
    const auto lease_in = [](const json& kvs) -> int64_t {
      if (!kvs.is_array() || kvs.empty()) return 0;
      const std::string text = base64_decode(json_string(json_field(kvs[0], "value")));
      return std::strtoll(text.c_str(), nullptr, 10);
    };
    const json found = shared_->client.call_ok("/v3/kv/range", {{"key", key}}, timeout(),
                                               "read the ledger's lease");
    int64_t lease = lease_in(json_field(found, "kvs"));
    if (lease == 0) {
      // Records of this period live at least the retention: its lease lasts one period more.
      const auto ttl = static_cast<int64_t>(std::ceil((retention_ + period_).count()));
      const json granted = shared_->client.call_ok("/v3/lease/grant", {{"TTL", ttl}}, timeout(),
                                                   "grant the ledger a lease");
      const int64_t mine = json_int(json_field(granted, "ID"));
      const json txn = {
          {"compare", {{{"target", "CREATE"}, {"key", key}, {"create_revision", "0"}}}},
          {"success",
           {{{"request_put",
              {{"key", key},
               {"value", base64_encode(std::to_string(mine))},
               {"lease", std::to_string(mine)}}}}}},
          {"failure", {{{"request_range", {{"key", key}}}}}}};
      const json reply =
          shared_->client.call_ok("/v3/kv/txn", txn, timeout(), "record the ledger's lease");
      if (json_field(reply, "succeeded") == true) {
        lease = mine;
      } else {  // another writer was first
        shared_->revoke(mine, timeout());
        const auto& responses = json_field(reply, "responses");
        if (responses.is_array() && !responses.empty()) {
          lease = lease_in(json_field(json_field(responses[0], "response_range"), "kvs"));
        }
      }
      if (lease == 0) throw error(errc::lock_store, describe() + ": got no lease for records");
    }
    cached_.emplace(period, lease);
    return lease;
  }

  std::shared_ptr<etcd_shared> shared_;
  seconds retention_;
  seconds period_;
  std::mutex mutex_;
  std::optional<std::pair<int64_t, int64_t>> cached_;  // period -> its lease
};

}  // namespace

std::string etcd_unique_name() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  char suffix[24];
  std::snprintf(suffix, sizeof suffix, ".%016llx", static_cast<unsigned long long>(random()));
  return line_key(std::chrono::system_clock::now()) + suffix;
}

std::shared_ptr<ledger_log> etcd_ledger(std::shared_ptr<etcd_shared> shared, seconds retention) {
  return std::make_shared<etcd_ledger_log>(std::move(shared), retention);
}

}  // namespace gtest_lockable::detail
