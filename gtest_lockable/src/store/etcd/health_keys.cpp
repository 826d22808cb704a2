// Health records in etcd: one key per resource with a record, read by every lock (one range
// request on the store's own connection) and changed by a transaction that succeeds only if nobody
// changed the key since it was read.
#include "src/store/etcd/health_keys.hpp"

#include "gtest_lockable/error.hpp"

namespace gtest_lockable::detail {
namespace {

using nlohmann::json;

class etcd_health final : public health_records {
 public:
  etcd_health(std::shared_ptr<etcd_client> client, etcd_uri uri,
              std::chrono::duration<double> timeout)
      : client_(std::move(client)), uri_(std::move(uri)), timeout_(timeout) {}

  std::string read(const std::string& id) override { return current(id).value; }

  std::string update(const std::string& id,
                     const std::function<std::string(const std::string&)>& change) override {
    const std::string key = key_of(id);
    for (int attempt = 0; attempt < 16; ++attempt) {
      const entry was = current(id);
      const std::string now = change(was.value);
      if (now == was.value) return now;
      json compare = {{"key", base64_encode(key)},
                      {"target", "MOD"},
                      {"result", "EQUAL"},
                      {"mod_revision", std::to_string(was.mod_revision)}};
      json op =
          now.empty()
              ? json{{"request_delete_range", {{"key", base64_encode(key)}}}}
              : json{{"request_put", {{"key", base64_encode(key)}, {"value", base64_encode(now)}}}};
      const json reply = client().call_ok("/v3/kv/txn", {{"compare", {compare}}, {"success", {op}}},
                                          timeout_, "write the health record of '" + id + "'");
      if (json_field(reply, "succeeded") == true) return now;
    }
    throw error(errc::lock_store, "etcd lock server " + uri_.text() + ": the health record of '" +
                                      id + "' kept changing; try again");
  }

 private:
  struct entry {
    std::string value;
    int64_t mod_revision = 0;  // 0: no key
  };

  std::string key_of(const std::string& id) const { return uri_.prefix + ".health/" + id; }

  entry current(const std::string& id) {
    const json reply = client().call_ok("/v3/kv/range", {{"key", base64_encode(key_of(id))}},
                                        timeout_, "read the health record of '" + id + "'");
    entry out;
    const auto& kvs = json_field(reply, "kvs");
    if (kvs.is_array() && !kvs.empty()) {
      out.value = base64_decode(json_string(json_field(kvs[0], "value")));
      out.mod_revision = json_int(json_field(kvs[0], "mod_revision"));
    }
    return out;
  }

  etcd_client& client() { return *client_; }

  std::shared_ptr<etcd_client> client_;  // serializes its calls itself
  etcd_uri uri_;
  std::chrono::duration<double> timeout_;
};

}  // namespace

std::shared_ptr<health_records> etcd_health_records(std::shared_ptr<etcd_client> client,
                                                    const etcd_uri& uri,
                                                    std::chrono::duration<double> timeout) {
  return std::make_shared<etcd_health>(std::move(client), uri, timeout);
}

}  // namespace gtest_lockable::detail
