#pragma once

// The boundary between the core and libgtest_lockable_http.so, the module that holds
// cpp-httplib and OpenSSL. Linking those costs every process about 5 ms of dynamic loading, so
// the core loads the module with dlopen the first time an http(s) inventory is fetched: a
// process that reads a file inventory never pays for HTTP. Both sides are built from this tree
// by one compiler, so standard C++ types cross the boundary; `abi` guards against a stale module.
// The module does one GET per call (no redirects, no retries: the core decides those) and never
// throws.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gtest_lockable::detail {

/// One GET.
struct http_request {
  bool tls = false;
  std::string host;  ///< A name, an IPv4 address or a bracketed IPv6 address.
  int port = 0;
  std::string target;  ///< Path and query.
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::microseconds connect_timeout{};
  std::chrono::microseconds read_timeout{};
  std::chrono::steady_clock::time_point deadline;  ///< Reading the body stops here.
  std::uint64_t max_body_bytes = 0;
  bool verify = true;
  std::string ca_file;  ///< Empty: the system's CA store.
};

/// Why a GET got no response.
enum class http_failure {
  none,       ///< A response arrived (any status).
  connect,    ///< No connection: refused, unreachable, name not resolved, connect timeout.
  io,         ///< The connection broke or stayed silent past the read timeout.
  tls,        ///< TLS handshake or certificate verification failed.
  too_large,  ///< The body exceeds `max_body_bytes`.
  deadline,   ///< The body was still arriving at `deadline`.
  other,      ///< Anything else.
};

/// The outcome of one GET.
struct http_response {
  http_failure failure = http_failure::none;
  std::string failure_text;  ///< What failed, without the URI; set when `failure != none`.
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  ///< Names lower-cased.
  std::string body;

  /// The first value of header `name` (lower-case), or empty.
  std::string header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return {};
  }
};

/// What the module exports, under the C name `gtest_lockable_http_transport`.
struct http_transport {
  const char* abi;  ///< Must equal `http_transport_abi`.
  std::size_t request_size;
  std::size_t response_size;
  http_response (*get)(const http_request&) noexcept;
};

#define GTEST_LOCKABLE_HTTP_TRANSPORT_ABI "gtest_lockable_http " GTEST_LOCKABLE_VERSION " abi 1"

/// The module's entry point name.
inline constexpr const char* http_transport_symbol = "gtest_lockable_http_transport";

/// The HTTP transport, loaded on first use. Throws `error` (`errc::invalid_inventory`) naming the
/// paths it tried when the module cannot be loaded.
const http_transport& load_http_transport();

}  // namespace gtest_lockable::detail
