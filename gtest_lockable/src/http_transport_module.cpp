// libgtest_lockable_http.so: one GET with cpp-httplib. Loaded by the core with dlopen (see
// http_transport.hpp); this is the only file that includes httplib.h.

#include <httplib.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <exception>
#include <string>

#include "src/http_transport.hpp"

namespace gtest_lockable::detail {
namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string seconds_text(std::chrono::microseconds d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g s", static_cast<double>(d.count()) / 1e6);
  return text;
}

// What went wrong, in words a user can act on; `client` is asked for the TLS verify result.
void describe_error(httplib::Error error, const httplib::Client& client, const http_request& req,
                    http_response& out) {
  using httplib::Error;
  switch (error) {
    case Error::Connection:
      out.failure = http_failure::connect;
      out.failure_text = "cannot connect";
      return;
    case Error::ConnectionTimeout:
      out.failure = http_failure::connect;
      out.failure_text = "no connection within " + seconds_text(req.connect_timeout);
      return;
    case Error::Read:
    case Error::Write:
      out.failure = http_failure::io;
      out.failure_text = "the connection was closed, or stayed silent past the read timeout of " +
                         seconds_text(req.read_timeout);
      return;
    case Error::SSLConnection:
      out.failure = http_failure::tls;
      out.failure_text = "the TLS handshake failed";
      return;
    case Error::SSLLoadingCerts:
      out.failure = http_failure::tls;
      out.failure_text = req.ca_file.empty()
                             ? "cannot load the system's CA certificates"
                             : "cannot load CA certificates from '" + req.ca_file + "'";
      return;
    case Error::SSLServerVerification: {
      out.failure = http_failure::tls;
      const long result = client.get_openssl_verify_result();
      out.failure_text = "the server's certificate is not trusted: " +
                         std::string(result == X509_V_OK ? "it does not name host " + req.host
                                                         : X509_verify_cert_error_string(result));
      return;
    }
    case Error::Compression:
      out.failure = http_failure::other;
      out.failure_text = "cannot decompress the response";
      return;
    default:
      out.failure = http_failure::other;
      out.failure_text = "HTTP client error " + httplib::to_string(error);
      return;
  }
}

http_response get(const http_request& req) noexcept {
  http_response out;
  try {
    httplib::Client client(std::string(req.tls ? "https://" : "http://") + req.host + ":" +
                           std::to_string(req.port));
    if (!client.is_valid()) {
      out.failure = http_failure::tls;
      out.failure_text = "cannot set up TLS";
      return out;
    }
    client.set_connection_timeout(req.connect_timeout);
    client.set_read_timeout(req.read_timeout);
    client.set_write_timeout(req.read_timeout);
    client.set_keep_alive(false);
    client.set_follow_location(false);  // the core follows redirects, with its own limit
    if (req.tls) {
      client.enable_server_certificate_verification(req.verify);
      if (!req.ca_file.empty()) client.set_ca_cert_path(req.ca_file);
    }
    httplib::Headers headers(req.headers.begin(), req.headers.end());
    bool too_large = false;
    bool too_late = false;
    auto result = client.Get(
        req.target, headers,
        [&](const httplib::Response& response) {
          // Refuse a declared oversize body before reading any of it.
          const std::string length = response.get_header_value("Content-Length");
          if (!length.empty() && length.size() < 20 &&
              std::all_of(length.begin(), length.end(), ::isdigit) &&
              std::stoull(length) > req.max_body_bytes) {
            too_large = true;
          }
          return !too_large;
        },
        [&](const char* data, std::size_t size) {
          if (out.body.size() + size > req.max_body_bytes) {
            too_large = true;
          } else if (std::chrono::steady_clock::now() > req.deadline) {
            too_late = true;
          } else {
            out.body.append(data, size);
          }
          return !too_large && !too_late;
        });
    if (too_large) {
      out.failure = http_failure::too_large;
      out.failure_text =
          "the response is larger than " + std::to_string(req.max_body_bytes) + " bytes";
      out.body.clear();
    } else if (too_late) {
      out.failure = http_failure::deadline;
      out.failure_text = "the response was still arriving when the total timeout ran out";
      out.body.clear();
    } else if (!result) {
      describe_error(result.error(), client, req, out);
    } else {
      out.status = result->status;
      for (const auto& [name, value] : result->headers)
        out.headers.emplace_back(lower(name), value);
    }
  } catch (const std::exception& e) {
    out = http_response{};
    out.failure = http_failure::other;
    out.failure_text = std::string("HTTP client error: ") + e.what();
  } catch (...) {
    out = http_response{};
    out.failure = http_failure::other;
    out.failure_text = "HTTP client error";
  }
  return out;
}

const http_transport transport{GTEST_LOCKABLE_HTTP_TRANSPORT_ABI, sizeof(http_request),
                               sizeof(http_response), &get};

}  // namespace
}  // namespace gtest_lockable::detail

extern "C" __attribute__((visibility("default"))) const gtest_lockable::detail::http_transport*
gtest_lockable_http_transport() {
  return &gtest_lockable::detail::transport;
}
