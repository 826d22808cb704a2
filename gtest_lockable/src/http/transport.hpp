#pragma once

// The boundary between the core and libgtest_lockable_http.so, the module that holds
// cpp-httplib and OpenSSL. Linking those costs every process about 5 ms of dynamic loading, so
// the core loads the module with dlopen the first time it speaks HTTP (an http(s) inventory, the
// etcd lock store): a process that reads a file inventory and locks a lock folder never pays for
// HTTP. Both sides are built from this tree by one compiler, so standard C++ types cross the
// boundary; `abi` and the struct sizes guard against a stale module.
// The module is a thin transport: one request per call, no redirects, no retries, no failover
// (the core decides those), and it never throws.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest_lockable/error.hpp"

namespace gtest_lockable::detail {

/// One request.
struct http_request {
  std::string method = "GET";  ///< GET or POST.
  bool tls = false;
  std::string host;  ///< A name, an IPv4 address or an IPv6 address (brackets optional).
  int port = 0;
  std::string target;  ///< Path and query.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;          ///< Sent with a POST.
  std::string content_type;  ///< Of `body`.
  std::chrono::microseconds connect_timeout{};
  std::chrono::microseconds read_timeout{};  ///< Also bounds each write.
  /// Reading the body stops here.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::uint64_t max_body_bytes = std::numeric_limits<std::uint64_t>::max();
  bool verify = true;
  std::string ca_file;       ///< Empty: the system's CA store.
  std::string cert_file;     ///< A client certificate (PEM) to present; empty: none.
  std::string key_file;      ///< Its private key (PEM); with `cert_file`.
  bool tcp_nodelay = false;  ///< Send at once: no Nagle delay between headers and body.
  /// When set, the body goes to it piece by piece as it arrives (a stream, e.g. an etcd watch)
  /// instead of into `http_response::body`, and `max_body_bytes` and `deadline` do not apply.
  /// Returning false ends the transfer (`http_failure::cancelled`). Called on the caller's thread.
  std::function<bool(std::string_view)> receiver;
};

/// Why a request got no (complete) response.
enum class http_failure {
  none,       ///< A response arrived (any status).
  connect,    ///< No connection: refused, unreachable, name not resolved, connect timeout.
  io,         ///< The connection broke or stayed silent past the read timeout.
  tls,        ///< TLS handshake or certificate verification failed.
  too_large,  ///< The body exceeds `max_body_bytes`.
  deadline,   ///< The body was still arriving at `deadline`.
  cancelled,  ///< The request's `receiver` ended the transfer.
  other,      ///< Anything else.
};

/// The outcome of one request.
struct http_response {
  http_failure failure = http_failure::none;
  std::string failure_text;  ///< What failed, without the URI; set when `failure != none`.
  /// The status, once the status line arrived, even if the transfer failed after it.
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  ///< Names lower-cased.
  std::string body;  ///< What arrived of it (empty for `too_large`, `deadline`, a `receiver`).

  /// The first value of header `name` (lower-case), or empty.
  std::string header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return {};
  }
};

/// A connection kept open between requests to the same server (same TLS settings, host and
/// port); opened again when a request goes elsewhere, and dropped after a failure or a streamed
/// (`receiver`) response. Opaque to the core. One thread at a time.
struct http_session;

/// What the module exports, under the C name `gtest_lockable_http_transport`.
struct http_transport {
  const char* abi;  ///< Must equal `GTEST_LOCKABLE_HTTP_TRANSPORT_ABI`.
  std::size_t request_size;
  std::size_t response_size;
  /// Sends `request` over `session`'s connection, or over one of its own when `session` is null.
  http_response (*send)(http_session* session, const http_request& request) noexcept;
  /// A new session (nullptr when out of memory); free it with `close_session`.
  http_session* (*open_session)() noexcept;
  /// Closes the connection and frees `session` (null is fine).
  void (*close_session)(http_session* session) noexcept;
};

#define GTEST_LOCKABLE_HTTP_TRANSPORT_ABI "gtest_lockable_http " GTEST_LOCKABLE_VERSION " abi 3"

/// The module's entry point name.
inline constexpr const char* http_transport_symbol = "gtest_lockable_http_transport";

/// The HTTP transport, loaded on first use. Throws `error` with code `failure` naming the paths
/// it tried when the module cannot be loaded.
const http_transport& load_http_transport(errc failure = errc::invalid_inventory);

}  // namespace gtest_lockable::detail
