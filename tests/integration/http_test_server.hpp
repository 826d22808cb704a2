#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gtest_lockable::testing_support {

/// An httplib server on 127.0.0.1 and an ephemeral port, serving on its own thread, that records
/// the requests it receives.
class http_test_server {
 public:
  /// One received request: what the client sent.
  struct seen {
    std::string path;
    httplib::Headers headers;
    std::chrono::steady_clock::time_point at;
    std::string header(const std::string& name) const {
      const auto it = headers.find(name);
      return it == headers.end() ? std::string() : it->second;
    }
  };

  explicit http_test_server(
      std::unique_ptr<httplib::Server> server = std::make_unique<httplib::Server>())
      : server_(std::move(server)) {
    // Recorded before routing, so before the client can see a response: no race with checks.
    server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
      std::lock_guard<std::mutex> guard(mutex_);
      requests_.push_back({req.path, req.headers, std::chrono::steady_clock::now()});
      return httplib::Server::HandlerResponse::Unhandled;
    });
  }
  ~http_test_server() { stop(); }

  httplib::Server& server() { return *server_; }

  /// Binds and serves; returns once the server accepts connections.
  void start() {
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0) << "cannot bind 127.0.0.1";
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    // The socket already listens (connections queue); waiting for is_running() makes sure that
    // stop() cannot run before listen_after_bind() and leave it serving forever.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_->is_running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ASSERT_TRUE(server_->is_running());
  }

  /// Lets handlers blocked in `stall()` return, stops serving and joins the thread.
  void stop() {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      released_ = true;
    }
    released_cv_.notify_all();
    if (thread_.joinable()) {
      server_->stop();
      thread_.join();
    }
  }

  /// Blocks a handler until `stop()`: a server that accepted a request and went silent.
  void stall() {
    std::unique_lock<std::mutex> lock(mutex_);
    released_cv_.wait_for(lock, std::chrono::seconds(30), [this] { return released_; });
  }

  int port() const { return port_; }

  /// `http[s]://[userinfo@]127.0.0.1:<port><path>`.
  std::string url(const std::string& path, const std::string& userinfo = "",
                  const std::string& scheme = "http") const {
    return scheme + "://" + (userinfo.empty() ? "" : userinfo + "@") +
           "127.0.0.1:" + std::to_string(port_) + path;
  }

  /// The requests received so far.
  std::vector<seen> requests() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return requests_;
  }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable released_cv_;
  bool released_ = false;
  std::vector<seen> requests_;
};

}  // namespace gtest_lockable::testing_support
