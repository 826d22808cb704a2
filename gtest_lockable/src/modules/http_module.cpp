// libgtest_lockable_http.so: one HTTP request at a time with cpp-httplib. Loaded by the core
// with dlopen (see src/http/transport.hpp); the only file of the library that includes httplib.h.

#include <httplib.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <exception>
#include <memory>
#include <string>

#include "src/http/transport.hpp"
#include "src/util/time_format.hpp"

namespace gtest_lockable::detail {
namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

constexpr const char* read_failure =
    "the connection was closed, or stayed silent past the read timeout of ";

// httplib 0.11 as Debian builds it sends without MSG_NOSIGNAL. It checks that a connection is
// alive before each write, but the server can close it just after that check (killed,
// restarted), and the write then raises SIGPIPE, which would end the whole process. A write's
// SIGPIPE goes to the writing thread, so blocking it around a request and discarding one that we
// caused leaves the rest of the process's signal handling untouched.
class sigpipe_guard {
 public:
  sigpipe_guard() {
    was_pending_ = pending();
    sigset_t pipe = pipe_set();
    pthread_sigmask(SIG_BLOCK, &pipe, &old_mask_);
  }
  ~sigpipe_guard() {
    if (!was_pending_ && pending()) {
      const sigset_t pipe = pipe_set();
      const timespec now{0, 0};
      while (sigtimedwait(&pipe, nullptr, &now) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;

 private:
  static sigset_t pipe_set() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    return set;
  }
  static bool pending() {
    sigset_t set;
    sigemptyset(&set);
    sigpending(&set);
    return sigismember(&set, SIGPIPE) == 1;
  }

  bool was_pending_ = false;
  sigset_t old_mask_{};
};

// What went wrong, in words a user can act on; `ssl` (when TLS) is asked for the verify result.
void describe_error(httplib::Error error, const httplib::SSLClient* ssl, const http_request& req,
                    http_response& out) {
  using httplib::Error;
  struct known_error {
    Error error;
    http_failure failure;
    const char* text;
  };
  static const known_error known[] = {
      {Error::Connection, http_failure::connect, "cannot connect"},
      {Error::ConnectionTimeout, http_failure::connect, "no connection within "},
      {Error::Read, http_failure::io, read_failure},
      {Error::Write, http_failure::io, read_failure},
      {Error::Canceled, http_failure::cancelled, "the transfer was ended by its receiver"},
      {Error::SSLConnection, http_failure::tls, "the TLS handshake failed"},
      {Error::SSLLoadingCerts, http_failure::tls, "cannot load "},
      {Error::SSLServerVerification, http_failure::tls,
       "the server's certificate is not trusted: "},
      {Error::Compression, http_failure::other, "cannot decompress the response"},
  };
  out.failure = http_failure::other;
  out.failure_text = "HTTP client error " + httplib::to_string(error);
  for (const auto& k : known) {
    if (k.error != error) continue;
    out.failure = k.failure;
    out.failure_text = k.text;
  }
  // The ones whose text needs the request or the TLS session.
  if (error == Error::ConnectionTimeout) {
    out.failure_text += seconds_text(req.connect_timeout);
  } else if (error == Error::Read || error == Error::Write) {
    out.failure_text += seconds_text(req.read_timeout);
  } else if (error == Error::SSLLoadingCerts) {
    out.failure_text += req.ca_file.empty() ? "the system's CA certificates"
                                            : "CA certificates from '" + req.ca_file + "'";
  } else if (error == Error::SSLServerVerification) {
    const long result = ssl != nullptr ? ssl->get_openssl_verify_result() : X509_V_OK;
    out.failure_text += result == X509_V_OK ? "it does not name host " + req.host
                                            : std::string(X509_verify_cert_error_string(result));
  }
}

}  // namespace

// A client for one server. httplib::Client would parse a URL, and its pattern rejects IPv6
// addresses with letters; ClientImpl and SSLClient take the host and port as they are.
struct http_session {
  std::string server;  // what `client` was made for: TLS settings, host and port
  std::unique_ptr<httplib::ClientImpl> client;
  httplib::SSLClient* ssl = nullptr;  // `client` when it speaks TLS
};

namespace {

httplib::ClientImpl& client_for(http_session& session, const http_request& req) {
  std::string host = req.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string server =
      (req.tls ? "https " + std::to_string(req.verify) + " " + req.ca_file + " " + req.cert_file +
                     " " + req.key_file
               : std::string("http")) +
      " " + host + " " + std::to_string(req.port);
  if (session.client && session.server == server) return *session.client;
  session.client.reset();
  session.ssl = nullptr;
  if (req.tls) {
    auto ssl = req.cert_file.empty()
                   ? std::make_unique<httplib::SSLClient>(host, req.port)
                   : std::make_unique<httplib::SSLClient>(host, req.port, req.cert_file,
                                                          req.key_file);
    ssl->enable_server_certificate_verification(req.verify);
    if (!req.ca_file.empty()) ssl->set_ca_cert_path(req.ca_file.c_str());
    session.ssl = ssl.get();
    session.client = std::move(ssl);
  } else {
    session.client = std::make_unique<httplib::ClientImpl>(host, req.port);
  }
  session.server = server;
  return *session.client;
}

http_response send_on(http_session& session, bool keep_alive, const http_request& req) {
  http_response out;
  httplib::ClientImpl& client = client_for(session, req);
  if (!client.is_valid()) {
    out.failure = http_failure::tls;
    out.failure_text = "cannot set up TLS";
    session.client.reset();
    return out;
  }
  client.set_connection_timeout(req.connect_timeout);
  client.set_read_timeout(req.read_timeout);
  client.set_write_timeout(req.read_timeout);
  client.set_keep_alive(keep_alive);
  client.set_tcp_nodelay(req.tcp_nodelay);
  client.set_follow_location(false);  // the core follows redirects, with its own limit

  httplib::Request request;
  request.method = req.method;
  request.path = req.target;
  request.headers = httplib::Headers(req.headers.begin(), req.headers.end());
  request.body = req.body;
  if (!req.content_type.empty()) request.set_header("Content-Type", req.content_type);
  bool too_large = false;
  bool too_late = false;
  request.response_handler = [&](const httplib::Response& response) {
    out.status = response.status;
    for (const auto& [name, value] : response.headers) out.headers.emplace_back(lower(name), value);
    if (req.receiver) return true;
    // Refuse a declared oversize body before reading any of it.
    const std::string length = response.get_header_value("Content-Length");
    too_large = !length.empty() && length.size() < 20 &&
                std::all_of(length.begin(), length.end(), ::isdigit) &&
                std::stoull(length) > req.max_body_bytes;
    return !too_large;
  };
  // The body is taken piece by piece, so that what arrived is kept even when httplib fails the
  // transfer afterwards (etcd's gateway ends an error answer with a chunked trailer that httplib
  // 0.11 cannot parse, and reports a read error after an intact body).
  request.content_receiver = [&](const char* data, std::size_t size, uint64_t, uint64_t) {
    if (req.receiver) return req.receiver(std::string_view(data, size));
    if (out.body.size() + size > req.max_body_bytes) {
      too_large = true;
    } else if (std::chrono::steady_clock::now() > req.deadline) {
      too_late = true;
    } else {
      out.body.append(data, size);
    }
    return !too_large && !too_late;
  };
  httplib::Error error = httplib::Error::Success;
  {
    const sigpipe_guard no_sigpipe;
    error = client.send(request).error();
  }
  if (too_large) {
    out.failure = http_failure::too_large;
    out.failure_text =
        "the response is larger than " + std::to_string(req.max_body_bytes) + " bytes";
    out.body.clear();
  } else if (too_late) {
    out.failure = http_failure::deadline;
    out.failure_text = "the response was still arriving when the total timeout ran out";
    out.body.clear();
  } else if (error != httplib::Error::Success) {
    describe_error(error, session.ssl, req, out);
  }
  // A connection in an unknown state (a failure, a stream cut short) is not used again.
  if (out.failure != http_failure::none || req.receiver) session.client.reset();
  return out;
}

http_response send(http_session* session, const http_request& req) noexcept {
  try {
    if (session != nullptr) return send_on(*session, true, req);
    http_session once;
    return send_on(once, false, req);
  } catch (const std::exception& e) {
    if (session != nullptr) session->client.reset();
    http_response out;
    out.failure = http_failure::other;
    out.failure_text = std::string("HTTP client error: ") + e.what();
    return out;
  } catch (...) {
    if (session != nullptr) session->client.reset();
    http_response out;
    out.failure = http_failure::other;
    out.failure_text = "HTTP client error";
    return out;
  }
}

http_session* open_session() noexcept { return new (std::nothrow) http_session; }

void close_session(http_session* session) noexcept { delete session; }

const http_transport transport{GTEST_LOCKABLE_HTTP_TRANSPORT_ABI,
                               sizeof(http_request),
                               sizeof(http_response),
                               &send,
                               &open_session,
                               &close_session};

}  // namespace
}  // namespace gtest_lockable::detail

extern "C" __attribute__((visibility("default"))) const gtest_lockable::detail::http_transport*
gtest_lockable_http_transport() {
  return &gtest_lockable::detail::transport;
}
