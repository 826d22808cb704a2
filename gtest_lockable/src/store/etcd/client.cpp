#include "src/store/etcd/client.hpp"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "gtest_lockable/env.hpp"
#include "gtest_lockable/error.hpp"
#include "src/util/time_format.hpp"

namespace gtest_lockable::detail {
namespace {

using nlohmann::json;
using seconds = etcd_client::seconds;
using steady = etcd_client::steady;

// The longest one connection attempt may take before the next endpoint gets its turn.
constexpr seconds max_connect_time{1.0};
// The shortest timeout worth giving an attempt, even when the budget is nearly spent.
constexpr seconds min_attempt_time{0.05};
// Pause between rounds over endpoints that all failed, so that a down cluster is not hammered.
constexpr std::chrono::milliseconds round_pause{100};

std::chrono::microseconds micros(seconds t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::max(t, min_attempt_time));
}

// The transport's words are written for inventories; these are shorter, as a message lists one
// per endpoint.
std::string failure_text(const http_response& response) {
  switch (response.failure) {
    case http_failure::connect:
      return response.failure_text == "cannot connect" ? "cannot connect" : "connect timed out";
    case http_failure::io:
      return "no answer in time";
    default:
      return response.failure_text;
  }
}

}  // namespace

const json& json_field(const json& object, const char* key) {
  static const json null;
  if (!object.is_object()) return null;
  const auto it = object.find(key);
  return it == object.end() ? null : *it;
}

std::string json_string(const json& value) {
  return value.is_string() ? value.get<std::string>() : std::string();
}

int64_t json_int(const json& value) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (!value.is_string()) return 0;
  const auto& text = value.get_ref<const std::string&>();
  char* end = nullptr;
  const long long n = std::strtoll(text.c_str(), &end, 10);
  return (end != text.c_str() && *end == '\0') ? n : 0;
}

std::string prefix_range_end(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last < 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');  // etcd's "every key"
}

std::string etcd_reply::message() const {
  for (const char* key : {"message", "error"}) {
    auto message = json_string(json_field(body, key));
    if (!message.empty()) return message;
  }
  return "HTTP " + std::to_string(status) + (text.empty() ? "" : ": " + text);
}

etcd_client::etcd_client(std::vector<etcd_endpoint> endpoints)
    : transport_(load_http_transport(errc::lock_store)),
      endpoints_(std::move(endpoints)),
      session_(transport_.open_session(), session_closer{&transport_}) {}

std::string etcd_client::endpoints_text() const {
  std::string out;
  for (std::size_t i = 0; i < endpoints_.size(); ++i) out += (i ? "," : "") + endpoints_[i].text();
  return out;
}

http_response etcd_client::post(std::size_t index, const std::string& path, std::string payload,
                                seconds connect_timeout, seconds read_timeout,
                                std::function<bool(std::string_view)> receiver) {
  http_request request;
  request.method = "POST";
  request.host = endpoints_[index].host;
  request.port = endpoints_[index].port;
  request.target = path;
  request.body = std::move(payload);
  request.content_type = "application/json";
  if (const auto& security = endpoints_[index].security) {
    request.tls = security->tls;
    request.ca_file = security->ca_file;
    request.cert_file = security->cert_file;
    request.key_file = security->key_file;
  }
  if (!token_.empty() && path != "/v3/auth/authenticate") {
    request.headers.emplace_back("Authorization", token_);
  }
  request.connect_timeout = micros(connect_timeout);
  request.read_timeout = micros(read_timeout);
  // The transport writes headers and body separately; with Nagle's algorithm the body then waits
  // for the server's delayed ACK (about 40 ms per request).
  request.tcp_nodelay = true;
  request.receiver = std::move(receiver);
  return transport_.send(session_.get(), request);
}

etcd_reply etcd_client::call(const std::string& path, const json& body, seconds budget) {
  std::lock_guard<std::mutex> guard(mutex_);
  const auto& security = endpoints_.front().security;
  if (security && !security->user.empty() && token_.empty()) authenticate(budget);
  return call_locked(path, body.dump(), budget, false);
}

void etcd_client::authenticate(seconds budget) {
  const auto& security = *endpoints_.front().security;
  const json credentials = {{"name", security.user}, {"password", security.password}};
  const etcd_reply reply = call_locked("/v3/auth/authenticate", credentials.dump(), budget, true);
  token_ = json_string(json_field(reply.body, "token"));
  if (reply.status != 200 || token_.empty()) {
    token_.clear();
    throw error(errc::lock_store, "etcd at " + reply.endpoint + " refused user '" + security.user +
                                      "': " + reply.message() +
                                      "; check the user and its password (password_file= or " +
                                      env::lock_server_password + ")");
  }
}

etcd_reply etcd_client::call_locked(const std::string& path, const std::string& payload,
                                    seconds budget, bool retried) {
  const auto start = steady::now();
  const auto deadline = start + std::chrono::duration_cast<steady::duration>(budget);
  std::vector<std::string> failures(endpoints_.size());
  for (std::size_t failed = 0;;) {
    const seconds remaining = deadline - steady::now();
    // A member that accepts but does not answer (cut off from its cluster) must leave time for
    // the others.
    const seconds attempt = std::min(
        remaining, std::max(max_connect_time, budget / static_cast<double>(endpoints_.size())));
    const http_response response =
        post(current_, path, payload, std::min(remaining, max_connect_time), attempt);
    etcd_reply reply{0, json::parse(response.body, nullptr, false), endpoints_[current_].text(), {}};
    if (reply.body.is_discarded()) {
      reply.body = nullptr;
      reply.text = printable(response.body.substr(0, std::min<std::size_t>(
                                                         response.body.find('\n'), 200)));
    }
    // A complete JSON body is an answer, whatever the transport thought of what followed it.
    const bool answered =
        response.failure == http_failure::none || (response.status != 0 && !reply.body.is_null());
    if (answered) reply.status = response.status;
    // Tokens expire (etcd's --auth-token-ttl): get a new one, once, and ask again.
    if (!retried && !token_.empty() && reply.status == 401) {
      authenticate(std::max<seconds>(deadline - steady::now(), min_attempt_time));
      return call_locked(path, payload, std::max<seconds>(deadline - steady::now(),
                                                          min_attempt_time), true);
    }
    if (reply.status != 0 && reply.status != 502 && reply.status != 503 && reply.status != 504) {
      return reply;
    }
    // Certificates do not fix themselves: say so at once instead of retrying until the budget.
    if (response.failure == http_failure::tls) {
      throw error(errc::lock_store, "cannot talk TLS to etcd at " + endpoints_[current_].text() +
                                        ": " + response.failure_text +
                                        "; check ca=, cert= and key= of the lock server");
    }
    failures[current_] = reply.status != 0 ? reply.message() : failure_text(response);
    current_ = (current_ + 1) % endpoints_.size();
    ++failed;
    const auto now = steady::now();
    if (now >= deadline) {
      std::string tried;
      for (std::size_t i = 0; i < endpoints_.size(); ++i) {
        if (failures[i].empty()) continue;
        tried += (tried.empty() ? "" : ", ") + endpoints_[i].text() + " (" + failures[i] + ")";
      }
      throw error(errc::lock_store, "cannot reach etcd at " + tried + " for " +
                                        seconds_text(now - start, 1) + " (" + path +
                                        "); check that etcd runs there, or fix the lock server");
    }
    // A stale keep-alive connection fails once; a second failure in a row of every endpoint
    // means the cluster is down or electing a leader: pause before the next round.
    if (failed > endpoints_.size()) {
      std::this_thread::sleep_for(std::min<steady::duration>(round_pause, deadline - now));
    }
  }
}

json etcd_client::call_ok(const std::string& path, const json& body, seconds budget,
                          const std::string& what) {
  const etcd_reply reply = call(path, body, budget);
  if (reply.status != 200 || !reply.body.is_object()) {
    throw error(errc::lock_store,
                "etcd at " + reply.endpoint + " refused to " + what + ": " + reply.message());
  }
  return reply.body;
}

void etcd_client::watch(const json& create_request, steady::time_point until,
                        const std::function<bool(const json&)>& on_result) {
  std::lock_guard<std::mutex> guard(mutex_);
  const auto& security = endpoints_.front().security;
  if (security && !security->user.empty() && token_.empty()) {
    try {
      authenticate(until - steady::now());
    } catch (const error&) {
      return;  // the caller looks again, through `call`, which reports it
    }
  }
  const std::string payload = json{{"create_request", create_request}}.dump();
  for (std::size_t tried = 0; tried < endpoints_.size(); ++tried) {
    const seconds remaining = until - steady::now();
    if (remaining <= seconds(0)) return;
    std::string buffer;
    bool answered = false;
    const auto receive = [&](std::string_view data) {
      answered = true;
      buffer.append(data);
      // The gateway streams one JSON object per line.
      for (auto eol = buffer.find('\n'); eol != std::string::npos; eol = buffer.find('\n')) {
        const auto message = json::parse(buffer.substr(0, eol), nullptr, false);
        buffer.erase(0, eol + 1);
        if (!message.is_object()) continue;
        const auto& result = json_field(message, "result");
        if (!result.is_object()) return false;  // an error object ends the stream
        if (!on_result(result)) return false;
      }
      return steady::now() < until;
    };
    // The read timeout bounds the silence between events, so the whole wait ends near `until`.
    const http_response response = post(current_, "/v3/watch", payload,
                                        std::min(remaining, max_connect_time), remaining, receive);
    if (answered || response.failure == http_failure::none) return;
    current_ = (current_ + 1) % endpoints_.size();
  }
}

}  // namespace gtest_lockable::detail
