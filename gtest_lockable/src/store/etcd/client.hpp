// A minimal client of etcd's v3 JSON gateway (see docs/design.md): the few calls the etcd lock
// store needs, over plain HTTP, failing over between the endpoints of one cluster. The requests go
// through the HTTP module (src/http/transport.hpp), loaded when the first client is made, so a
// process that never uses etcd never loads cpp-httplib or OpenSSL.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "src/http/transport.hpp"
#include "src/store/etcd/uri.hpp"
#include "src/util/base64.hpp"

namespace gtest_lockable::detail {

/// Field `key` of `object`, or null when `object` is not an object or lacks it: etcd's answers
/// are read without trusting their shape (iterating a null visits nothing).
const nlohmann::json& json_field(const nlohmann::json& object, const char* key);
/// The text of a JSON string, else empty.
std::string json_string(const nlohmann::json& value);
/// An int64 from the gateway, which sends them as strings (0 when absent or not a number).
int64_t json_int(const nlohmann::json& value);
/// The smallest key after every key that starts with `prefix` (a range end for etcd).
std::string prefix_range_end(std::string prefix);

/// An HTTP answer from etcd: status 200 with the reply, or an error status with etcd's
/// `{"error":...,"code":...}` object.
struct etcd_reply {
  int status = 0;        ///< HTTP status.
  nlohmann::json body;   ///< Parsed JSON body (null if the body was not JSON).
  std::string endpoint;  ///< The endpoint that answered.
  std::string text;      ///< The body's first line when it was not JSON (a proxy's, say).
  /// etcd's message for an error status.
  std::string message() const;
};

/// Talks to one etcd cluster. Calls are serialized by a mutex, so one client may be shared by
/// threads; a thread that must not wait behind others (a watch) uses its own client.
class etcd_client {
 public:
  using seconds = std::chrono::duration<double>;
  using steady = std::chrono::steady_clock;

  /// A client of `endpoints`. Loads the HTTP module; throws `error` (`errc::lock_store`) when
  /// it cannot be loaded.
  explicit etcd_client(std::vector<etcd_endpoint> endpoints);
  etcd_client(const etcd_client&) = delete;
  etcd_client& operator=(const etcd_client&) = delete;

  /// POSTs `body` to `path` (e.g. `/v3/kv/txn`). An endpoint that cannot be reached or answers
  /// "unavailable" (HTTP 502/503/504: no leader, timeout) is left for the next one, round after
  /// round, until `budget` is spent; then throws `error` (`errc::lock_store`) naming every
  /// endpoint, its last failure and the time tried. Any other answer is returned.
  etcd_reply call(const std::string& path, const nlohmann::json& body, seconds budget);

  /// `call`, then throws `error` (`errc::lock_store`) unless etcd answered 200. `what` says what
  /// was being done, for the message.
  nlohmann::json call_ok(const std::string& path, const nlohmann::json& body, seconds budget,
                         const std::string& what);

  /// Opens a watch stream (`create_request` as in `/v3/watch`) on the current endpoint, failing
  /// over to the next on a connection error, and passes each streamed `result` object to
  /// `on_result` until it returns false, the stream ends, or `until` passes. When no endpoint can
  /// be reached it returns as well: the caller looks again.
  void watch(const nlohmann::json& create_request, steady::time_point until,
             const std::function<bool(const nlohmann::json&)>& on_result);

  /// The endpoints as `host:port,host:port`.
  std::string endpoints_text() const;

 private:
  struct session_closer {
    const http_transport* transport;
    void operator()(http_session* session) const noexcept { transport->close_session(session); }
  };

  // One POST of `payload` to endpoint `index`; a set `receiver` streams the answer to it.
  http_response post(std::size_t index, const std::string& path, std::string payload,
                     seconds connect_timeout, seconds read_timeout,
                     std::function<bool(std::string_view)> receiver = {});

  // `call` without the mutex; `retried` once a refused token was renewed.
  etcd_reply call_locked(const std::string& path, const std::string& payload, seconds budget,
                         bool retried);
  // Gets a token for the cluster's user (`/v3/auth/authenticate`); throws `error`.
  void authenticate(seconds budget);

  const http_transport& transport_;
  std::vector<etcd_endpoint> endpoints_;
  std::string token_;  // the user's token, sent as Authorization; empty: none yet
  std::mutex mutex_;
  std::size_t current_ = 0;                                // the endpoint that answered last
  std::unique_ptr<http_session, session_closer> session_;  // kept-alive connection to it
};

}  // namespace gtest_lockable::detail
