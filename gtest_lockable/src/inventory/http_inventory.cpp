#include "gtest_lockable/http_inventory.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/internal/settings.hpp"
#include "src/http/retry.hpp"
#include "src/http/transport.hpp"
#include "src/http/uri.hpp"
#include "src/inventory/validate.hpp"
#include "src/util/time_format.hpp"

namespace gtest_lockable {
namespace {

using detail::http_failure;
using detail::http_uri;
using detail::seconds_text;
using steady = std::chrono::steady_clock;

std::string status_line(int status) {
  const auto text = detail::status_text(status);
  return "HTTP " + std::to_string(status) + (text.empty() ? "" : " " + std::string(text));
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::chrono::microseconds micros(std::chrono::duration<double> d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d);
}

double jitter() {
  thread_local std::mt19937 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

// What a user can do about a failure; empty when the failure says it all.
std::string hint(http_failure failure, int status) {
  switch (failure) {
    case http_failure::connect:
      return "is the server up and the URI right?";
    case http_failure::io:
      return "the server may be overloaded; " + std::string(env::http_timeout) +
             " sets the read timeout";
    case http_failure::tls:
      return "to trust a private CA give its certificate with " + std::string(env::ca_file);
    case http_failure::too_large:
      return "is this URI the inventory?";
    default:
      break;
  }
  if (status == 401 || status == 403) {
    return "check the credentials (" + std::string(env::http_token) +
           " or user:password@ in the URI)";
  }
  if (status == 404 || status == 410) return "check the URI";
  if (detail::retryable_status(status)) {
    return "the service may be down; " + std::string(env::http_retries) + " sets the retries";
  }
  return {};
}

class http_provider final : public inventory_provider {
 public:
  http_provider(const std::string& text, http_uri uri, http_options opts)
      : uri_(std::move(uri)), opts_(std::move(opts)), redacted_(redact_uri(text)) {
    if (!opts_.log) {
      opts_.log = [](const std::string& line) {
        std::fprintf(stderr, "lockable: %s\n", line.c_str());
      };
    }
    if (!opts_.verify && uri_.tls) {
      opts_.log("warning: TLS certificate verification is off for '" + redacted_ + "' (" +
                env::http_insecure + "): anyone on the network path can forge the inventory");
    }
  }

  std::shared_ptr<const inventory> load() override {
    std::lock_guard<std::mutex> guard(mutex_);
    const detail::http_transport* transport = nullptr;
    try {
      transport = &detail::load_http_transport();
    } catch (const error& e) {
      throw error(e.code(), "cannot read inventory '" + redacted_ + "': " + e.what());
    }
    const auto deadline =
        steady::now() + std::chrono::duration_cast<steady::duration>(opts_.total_timeout);
    http_uri at = uri_;
    std::vector<http_uri> visited{at};
    int attempts = 0;
    int retries = 0;
    while (true) {
      const auto response = transport->send(nullptr, request(at, deadline));
      ++attempts;
      std::string reason;
      std::optional<detail::fractional_seconds> retry_after;
      if (response.failure != http_failure::none) {
        reason = response.failure_text;
        if (response.failure != http_failure::connect && response.failure != http_failure::io) {
          fail(at, reason, attempts, hint(response.failure, 0));
        }
      } else if (response.status == 304 && cached_) {
        return cached_;
      } else if (response.status >= 200 && response.status < 300 && response.status != 204) {
        return store(response);
      } else if (is_redirect(response.status)) {
        at = follow(at, response, visited, attempts);
        continue;
      } else {
        reason = status_line(response.status);
        if (!detail::retryable_status(response.status)) {
          fail(at, reason, attempts, hint(http_failure::none, response.status));
        }
        retry_after = detail::parse_retry_after(response.header("retry-after"),
                                                std::chrono::system_clock::now());
      }
      if (retries >= opts_.retries) {
        fail(at, reason, attempts, hint(response.failure, response.status));
      }
      ++retries;
      auto wait = detail::backoff_delay(retries, opts_.backoff_base, opts_.backoff_max, jitter());
      if (retry_after) wait = std::min(std::max(wait, *retry_after), opts_.backoff_max);
      if (steady::now() + std::chrono::duration_cast<steady::duration>(wait) > deadline) {
        fail(at,
             reason + ", and a retry in " + seconds_text(wait) +
                 " would pass the total timeout of " + seconds_text(opts_.total_timeout),
             attempts, "");
      }
      opts_.log("retry " + std::to_string(retries) + " of " + std::to_string(opts_.retries) +
                " for inventory '" + shown(at) + "' in " + seconds_text(wait) + ": " + reason +
                (retry_after ? " (Retry-After " + seconds_text(*retry_after) + ")" : ""));
      std::this_thread::sleep_for(wait);
    }
  }

  std::string describe() const override { return "inventory '" + redacted_ + "'"; }

 private:
  detail::http_request request(const http_uri& at, steady::time_point deadline) const {
    detail::http_request req;
    req.tls = at.tls;
    req.host = at.host;
    req.port = at.port;
    req.target = at.target;
    req.headers = {{"User-Agent", "gtest-lockable/" GTEST_LOCKABLE_VERSION},
                   {"Accept", "application/json"}};
    // Credentials go only to the origin they were given for; a redirect elsewhere gets none,
    // unless its Location names its own.
    const bool home = at.origin() == uri_.origin();
    const std::string& userinfo = home ? uri_.userinfo : at.userinfo;
    if (!userinfo.empty()) {
      req.headers.emplace_back("Authorization", "Basic " + detail::basic_credential(userinfo));
    } else if (home && !opts_.token.empty()) {
      req.headers.emplace_back("Authorization", "Bearer " + opts_.token);
    }
    if (cached_ && !etag_.empty()) req.headers.emplace_back("If-None-Match", etag_);
    if (cached_ && !last_modified_.empty()) {
      req.headers.emplace_back("If-Modified-Since", last_modified_);
    }
    req.connect_timeout = micros(opts_.connect_timeout);
    req.read_timeout = micros(opts_.read_timeout);
    req.deadline = deadline;
    req.max_body_bytes = opts_.max_body_bytes;
    req.verify = opts_.verify;
    req.ca_file = opts_.ca_file;
    return req;
  }

  http_uri follow(const http_uri& at, const detail::http_response& response,
                  std::vector<http_uri>& visited, int attempts) const {
    const std::string location = response.header("location");
    const std::string status = status_line(response.status);
    if (location.empty()) fail(at, status + " without a Location header", attempts, "");
    if (static_cast<int>(visited.size()) > opts_.max_redirects) {
      fail(at, "more than " + std::to_string(opts_.max_redirects) + " redirects", attempts, "");
    }
    http_uri next;
    try {
      next = detail::resolve_location(at, location);
    } catch (const error& e) {
      fail(at, status + " to an unusable location: " + e.what(), attempts, "");
    }
    if (at.tls && !next.tls) {
      fail(at, status + " from https to plain http ('" + next.redacted() + "'), which is refused",
           attempts, "");
    }
    const auto same = [&](const http_uri& u) {
      return u.origin() == next.origin() && u.target == next.target;
    };
    if (std::any_of(visited.begin(), visited.end(), same)) {
      std::string loop;
      for (const auto& uri : visited) loop += "'" + shown(uri) + "' -> ";
      fail(at, "redirect loop: " + loop + "'" + next.redacted() + "'", attempts, "");
    }
    visited.push_back(next);
    return next;
  }

  std::shared_ptr<const inventory> store(const detail::http_response& response) {
    auto parsed = std::make_shared<const inventory>(
        make_inventory(detail::parse_inventory_json(response.body, redacted_), redacted_));
    cached_ = std::move(parsed);
    etag_ = response.header("etag");
    last_modified_ = response.header("last-modified");
    return cached_;
  }

  // The URI as the user wrote it while no redirect happened, redacted either way.
  std::string shown(const http_uri& at) const {
    return at.origin() == uri_.origin() && at.target == uri_.target ? redacted_ : at.redacted();
  }

  [[noreturn]] void fail(const http_uri& at, const std::string& what, int attempts,
                         const std::string& advice) const {
    std::string message = "cannot read inventory '" + redacted_ + "'";
    if (shown(at) != redacted_) message += " (redirected to '" + shown(at) + "')";
    message += ": " + what + " (" + std::to_string(attempts) +
               (attempts == 1 ? " attempt)" : " attempts)");
    if (!advice.empty()) message += "; " + advice;
    throw error(errc::invalid_inventory, message);
  }

  const http_uri uri_;
  http_options opts_;
  const std::string redacted_;  // the URI as the user wrote it, minus secrets
  std::mutex mutex_;
  std::shared_ptr<const inventory> cached_;
  std::string etag_;
  std::string last_modified_;
};

std::optional<std::string> env_setting(const char* name) {
  auto value = internal::env_value(name);
  if (value && value->empty()) return std::nullopt;  // `VAR= command` means unset
  return value;
}

std::chrono::duration<double> positive_seconds(const std::string& text, const char* name) {
  const auto value = internal::parse_timeout(text, name);
  if (value.count() <= 0) {
    throw error(errc::invalid_argument, "invalid " + std::string(name) + " '" + text +
                                            "': give a number of seconds above 0");
  }
  return value;
}

}  // namespace

http_options http_options_from_env() {
  http_options opts;
  if (auto token = env_setting(env::http_token)) opts.token = *token;
  if (auto file = env_setting(env::ca_file)) opts.ca_file = *file;
  if (auto insecure = env_setting(env::http_insecure)) {
    if (*insecure == "1" || *insecure == "true" || *insecure == "yes") {
      opts.verify = false;
    } else if (*insecure != "0" && *insecure != "false" && *insecure != "no") {
      throw error(errc::invalid_argument, "invalid " + std::string(env::http_insecure) + " '" +
                                              *insecure + "': give 1 (do not verify) or 0");
    }
  }
  if (auto retries = env_setting(env::http_retries)) {
    const bool digits =
        retries->size() <= 3 && retries->find_first_not_of("0123456789") == std::string::npos;
    const int n = digits ? std::stoi(*retries) : -1;
    if (n < 0 || n > 100) {
      throw error(errc::invalid_argument, "invalid " + std::string(env::http_retries) + " '" +
                                              *retries + "': give a whole number from 0 to 100");
    }
    opts.retries = n;
  }
  if (auto t = env_setting(env::http_connect_timeout)) {
    opts.connect_timeout = positive_seconds(*t, env::http_connect_timeout);
  }
  if (auto t = env_setting(env::http_timeout)) {
    opts.read_timeout = positive_seconds(*t, env::http_timeout);
  }
  return opts;
}

std::unique_ptr<inventory_provider> http_inventory(const std::string& uri, http_options opts) {
  const auto invalid = [&](const std::string& what) {
    throw error(errc::invalid_argument,
                "invalid http_options for '" + redact_uri(uri) + "': " + what);
  };
  if (opts.retries < 0) invalid("retries is negative");
  if (opts.max_redirects < 0) invalid("max_redirects is negative");
  for (const auto d : {opts.connect_timeout, opts.read_timeout, opts.total_timeout}) {
    if (!(d.count() > 0) || !std::isfinite(d.count())) invalid("a timeout is not above 0");
  }
  if (!(opts.backoff_base.count() >= 0) || !(opts.backoff_max.count() >= 0)) {
    invalid("a backoff is negative");
  }
  // A line break in the token would let it add headers to the request. The token is secret:
  // the message does not show it.
  if (std::any_of(opts.token.begin(), opts.token.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    invalid("the token (" + std::string(env::http_token) + ") contains a control character");
  }
  if (!opts.ca_file.empty() && ::access(opts.ca_file.c_str(), R_OK) != 0) {
    throw error(errc::invalid_argument, "cannot read the CA file '" + opts.ca_file + "' (" +
                                            env::ca_file + "): " + std::strerror(errno));
  }
  return std::make_unique<http_provider>(uri, detail::parse_http_uri(uri), std::move(opts));
}

}  // namespace gtest_lockable
