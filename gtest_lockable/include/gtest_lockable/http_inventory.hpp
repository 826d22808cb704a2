#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "gtest_lockable/env.hpp"
#include "gtest_lockable/inventory.hpp"

namespace gtest_lockable {

/// How an http(s) inventory is fetched. The defaults suit an inventory service on a LAN.
struct http_options {
  /// Retries after the first attempt, on connection errors, timeouts and 429/500/502/503/504.
  int retries = 4;
  /// The wait before the first retry; it doubles on each further retry (with jitter).
  std::chrono::duration<double> backoff_base{0.5};
  /// The longest wait before a retry; also caps a server's `Retry-After`.
  std::chrono::duration<double> backoff_max{8.0};
  /// How long establishing a connection (TCP and TLS) may take.
  std::chrono::duration<double> connect_timeout{5.0};
  /// How long the server may stay silent while a response is read.
  std::chrono::duration<double> read_timeout{10.0};
  /// How long one load may take in all: no retry starts, and no body is read, past it.
  std::chrono::duration<double> total_timeout{60.0};
  /// Redirects followed per load.
  int max_redirects = 5;
  /// The largest accepted response body (after decompression).
  std::uint64_t max_body_bytes = 64ULL << 20;
  /// A PEM file of CA certificates to trust instead of the system's store.
  std::string ca_file;
  /// Verify the server's certificate and host name. Turning it off is logged as a warning.
  bool verify = true;
  /// Sent as `Authorization: Bearer <token>` unless the URI has `user:password@`.
  std::string token;
  /// Receives retry notices and warnings, one line each; empty: `lockable: <line>` on stderr.
  std::function<void(const std::string&)> log;
};

/// The defaults overridden by the `LOCKABLE_HTTP_*` and `LOCKABLE_CA_FILE` variables (env.hpp).
/// Throws `error`
/// (`errc::invalid_argument`) naming the variable when a value is invalid.
http_options http_options_from_env();

/// An inventory served over http(s), fetched on every `load()` with `If-None-Match` /
/// `If-Modified-Since`, so an unchanged inventory costs a 304. Credentials come from
/// `user:password@` in `uri` (Basic) or `opts.token` (Bearer); no message ever shows them.
/// Throws `error` (`errc::invalid_inventory`) when `uri` is malformed.
std::unique_ptr<inventory_provider> http_inventory(const std::string& uri, http_options opts);

/// `uri` with its `user:password@` and the values of secret-looking query parameters
/// (`token`, `key`, `sig`, ...) replaced by `***`: safe to print.
std::string redact_uri(std::string_view uri);

}  // namespace gtest_lockable
