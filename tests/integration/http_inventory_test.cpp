#include "gtest_lockable/http_inventory.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gtest_lockable/error.hpp"
#include "http_test_server.hpp"

namespace gtest_lockable {
namespace {

using nlohmann::json;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::http_test_server;
using namespace std::chrono_literals;

const std::string boards =
    R"([{"id": "b1", "hostname": "h", "online": true}, {"id": "b2", "hostname": "h"}])";

void serve_json(httplib::Response& res, const std::string& body) {
  res.set_content(body, "application/json");
}

class http_inventory_test : public ::testing::Test {
 protected:
  // Short timeouts and backoffs keep the suite fast; the logic is the same as with defaults.
  http_options fast() {
    http_options opts;
    opts.retries = 3;
    opts.backoff_base = 1ms;
    opts.backoff_max = 20ms;
    opts.connect_timeout = 2s;
    opts.read_timeout = 2s;
    opts.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> guard(log_mutex_);
      log_.push_back(line);
    };
    return opts;
  }

  std::vector<std::string> log() {
    std::lock_guard<std::mutex> guard(log_mutex_);
    return log_;
  }

  // The message of the error that loading `uri` throws; the test fails if none is thrown.
  std::string load_error(const std::string& uri, http_options opts) {
    try {
      http_inventory(uri, std::move(opts))->load();
    } catch (const error& e) {
      EXPECT_EQ(e.code(), errc::invalid_inventory) << e.what();
      std::printf("message: %s\n", e.what());
      return e.what();
    }
    ADD_FAILURE() << "loading " << uri << " did not fail";
    return {};
  }

  std::size_t requests_to(const std::string& path) {
    std::size_t n = 0;
    for (const auto& r : server_.requests()) n += r.path == path;
    return n;
  }

  void TearDown() override { server_.stop(); }

  http_test_server server_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
};

TEST_F(http_inventory_test, good_inventory_is_loaded_and_validated) {
  server_.server().Get("/resources.json", [](const httplib::Request&, httplib::Response& res) {
    serve_json(res, boards);
  });
  server_.start();
  const auto provider = http_inventory(server_.url("/resources.json"), fast());
  const auto inv = provider->load();
  ASSERT_EQ(inv->resources.size(), 2U);
  EXPECT_EQ(inv->resources[1]["id"], "b2");
  EXPECT_EQ(inv->origin, server_.url("/resources.json"));
  EXPECT_THAT(provider->describe(), HasSubstr(server_.url("/resources.json")));
  const auto sent = server_.requests().at(0);
  EXPECT_THAT(sent.header("User-Agent"), HasSubstr("gtest-lockable/"));
  EXPECT_TRUE(log().empty());
}

TEST_F(http_inventory_test, service_unavailable_twice_is_retried_and_logged) {
  std::atomic<int> calls{0};
  server_.server().Get("/resources.json", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls <= 2) {
      res.status = 503;
      return;
    }
    serve_json(res, boards);
  });
  server_.start();
  const auto inv = http_inventory(server_.url("/resources.json"), fast())->load();
  EXPECT_EQ(inv->resources.size(), 2U);
  EXPECT_EQ(calls.load(), 3);
  const auto lines = log();
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_THAT(lines[0], AllOf(HasSubstr("retry 1 of 3"), HasSubstr("HTTP 503 Service Unavailable"),
                              HasSubstr(server_.url("/resources.json"))));
  EXPECT_THAT(lines[1], HasSubstr("retry 2 of 3"));
}

TEST_F(http_inventory_test, retries_run_out_with_the_status_and_attempts_in_the_error) {
  server_.server().Get("/resources.json",
                       [](const httplib::Request&, httplib::Response& res) { res.status = 502; });
  server_.start();
  auto opts = fast();
  opts.retries = 2;
  const auto message = load_error(server_.url("/resources.json"), opts);
  EXPECT_THAT(message, AllOf(HasSubstr(server_.url("/resources.json")), HasSubstr("HTTP 502"),
                             HasSubstr("3 attempts"), HasSubstr("LOCKABLE_HTTP_RETRIES")));
  EXPECT_EQ(requests_to("/resources.json"), 3U);
}

TEST_F(http_inventory_test, not_found_fails_at_once) {
  server_.start();  // no route: httplib answers 404
  const auto message = load_error(server_.url("/missing.json"), fast());
  EXPECT_THAT(message, AllOf(HasSubstr(server_.url("/missing.json")),
                             HasSubstr("HTTP 404 Not Found"), HasSubstr("(1 attempt)")));
  EXPECT_EQ(requests_to("/missing.json"), 1U);
  EXPECT_TRUE(log().empty());
}

TEST_F(http_inventory_test, unauthorized_fails_at_once_and_points_at_the_credentials) {
  server_.server().Get("/resources.json",
                       [](const httplib::Request&, httplib::Response& res) { res.status = 401; });
  server_.start();
  const auto message = load_error(server_.url("/resources.json"), fast());
  EXPECT_THAT(message, AllOf(HasSubstr("HTTP 401"), HasSubstr("(1 attempt)"),
                             HasSubstr("LOCKABLE_HTTP_TOKEN")));
}

TEST_F(http_inventory_test, retry_after_seconds_is_honoured) {
  std::atomic<int> calls{0};
  server_.server().Get("/resources.json", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1) {
      res.status = 429;
      res.set_header("Retry-After", "1");
      return;
    }
    serve_json(res, boards);
  });
  server_.start();
  auto opts = fast();
  opts.backoff_max = 5s;
  http_inventory(server_.url("/resources.json"), opts)->load();
  const auto lines = log();
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_THAT(lines[0], AllOf(HasSubstr("in 1 s"), HasSubstr("HTTP 429 Too Many Requests"),
                              HasSubstr("Retry-After 1 s")));
  const auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 2U);
  const std::chrono::duration<double> gap = seen[1].at - seen[0].at;
  std::printf("second request %.3f s after the first\n", gap.count());
  EXPECT_GE(gap.count(), 1.0) << "the client retried before the server's Retry-After";
}

TEST_F(http_inventory_test, retry_after_is_capped_by_backoff_max) {
  std::atomic<int> calls{0};
  server_.server().Get("/resources.json", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1) {
      res.status = 503;
      res.set_header("Retry-After", "3600");
      return;
    }
    serve_json(res, boards);
  });
  server_.start();
  auto opts = fast();
  opts.backoff_max = 50ms;
  http_inventory(server_.url("/resources.json"), opts)->load();
  const auto lines = log();
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_THAT(lines[0], AllOf(HasSubstr("in 0.05 s"), HasSubstr("Retry-After 3.6e+03 s")));
}

TEST_F(http_inventory_test, a_retry_that_would_pass_the_total_timeout_is_not_attempted) {
  server_.server().Get("/resources.json", [](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_header("Retry-After", "30");
  });
  server_.start();
  auto opts = fast();
  opts.backoff_max = 60s;
  opts.total_timeout = 1s;
  const auto message = load_error(server_.url("/resources.json"), opts);
  EXPECT_THAT(message, AllOf(HasSubstr("HTTP 503"), HasSubstr("total timeout of 1 s"),
                             HasSubstr("(1 attempt)")));
}

TEST_F(http_inventory_test, connection_refused_is_retried_then_reported) {
  server_.start();
  const std::string uri = server_.url("/resources.json");
  server_.stop();  // nothing listens on the port any more
  auto opts = fast();
  opts.retries = 2;
  const auto message = load_error(uri, opts);
  EXPECT_THAT(message, AllOf(HasSubstr(uri), HasSubstr("cannot connect"), HasSubstr("3 attempts"),
                             HasSubstr("is the server up")));
  EXPECT_EQ(log().size(), 2U);
}

TEST_F(http_inventory_test, invalid_json_is_refused_with_the_position) {
  server_.server().Get("/resources.json", [](const httplib::Request&, httplib::Response& res) {
    serve_json(res, "[{\"id\": \"b1\",]");
  });
  server_.start();
  const auto message = load_error(server_.url("/resources.json"), fast());
  EXPECT_THAT(message, AllOf(HasSubstr("invalid inventory '" + server_.url("/resources.json")),
                             HasSubstr("line 1")));
}

TEST_F(http_inventory_test, a_body_that_is_not_an_inventory_is_refused) {
  server_.server().Get("/resources.json", [](const httplib::Request&, httplib::Response& res) {
    serve_json(res, R"({"id": "b1"})");
  });
  server_.server().Get("/dupes.json", [](const httplib::Request&, httplib::Response& res) {
    serve_json(res, R"([{"id": "b1"}, {"id": "b1"}])");
  });
  server_.start();
  EXPECT_THAT(load_error(server_.url("/resources.json"), fast()),
              HasSubstr("must be a JSON array of resources, got object"));
  EXPECT_THAT(load_error(server_.url("/dupes.json"), fast()), HasSubstr("duplicate ids: 'b1'"));
}

TEST_F(http_inventory_test, a_stalled_server_times_out) {
  server_.server().Get("/resources.json",
                       [&](const httplib::Request&, httplib::Response&) { server_.stall(); });
  server_.start();
  auto opts = fast();
  opts.read_timeout = 300ms;
  opts.retries = 1;
  const auto started = std::chrono::steady_clock::now();
  const auto message = load_error(server_.url("/resources.json"), opts);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  std::printf("gave up after %.3f s\n", took.count());
  EXPECT_THAT(message,
              AllOf(HasSubstr("read timeout"), HasSubstr("0.3 s"), HasSubstr("2 attempts")));
}

TEST_F(http_inventory_test, a_redirect_chain_is_followed) {
  auto& svr = server_.server();
  svr.Get("/start", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/dir/middle", 302);
  });
  svr.Get("/dir/middle", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("end", 301);  // relative to /dir/
  });
  svr.Get("/dir/end", [&](const httplib::Request&, httplib::Response& res) {
    res.set_redirect(server_.url("/resources.json"), 307);  // absolute
  });
  svr.Get("/resources.json",
          [](const httplib::Request&, httplib::Response& res) { serve_json(res, boards); });
  server_.start();
  const auto inv = http_inventory(server_.url("/start"), fast())->load();
  EXPECT_EQ(inv->resources.size(), 2U);
  EXPECT_EQ(inv->origin, server_.url("/start"));
  EXPECT_EQ(requests_to("/dir/end"), 1U);
  EXPECT_EQ(requests_to("/resources.json"), 1U);
}

TEST_F(http_inventory_test, a_redirect_loop_is_reported) {
  server_.server().Get(
      "/a", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/b", 302); });
  server_.server().Get(
      "/b", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/a", 302); });
  server_.start();
  const auto message = load_error(server_.url("/a"), fast());
  EXPECT_THAT(message, AllOf(HasSubstr("redirect loop"), HasSubstr(server_.url("/b")),
                             HasSubstr("(2 attempts)")));
}

TEST_F(http_inventory_test, too_many_redirects_are_refused) {
  server_.server().Get(R"(/hop/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
    res.set_redirect("/hop/" + std::to_string(std::stoi(req.matches[1]) + 1), 302);
  });
  server_.start();
  auto opts = fast();
  opts.max_redirects = 3;
  const auto message = load_error(server_.url("/hop/0"), opts);
  EXPECT_THAT(message, AllOf(HasSubstr("more than 3 redirects"), HasSubstr("(4 attempts)"),
                             HasSubstr("redirected to '" + server_.url("/hop/3"))));
  EXPECT_EQ(server_.requests().size(), 4U);
}

TEST_F(http_inventory_test, an_oversized_body_is_refused) {
  const std::string big = "[" + std::string(1000, ' ') + "]";
  // The handlers copy `big`: the server thread may still be writing after the client hung up and
  // this test body returned (capturing it by reference made that a use after free).
  server_.server().Get("/sized.json", [big](const httplib::Request&, httplib::Response& res) {
    serve_json(res, big);
  });
  server_.server().Get("/chunked.json", [big](const httplib::Request&, httplib::Response& res) {
    // No Content-Length: the limit must hold while the body streams in.
    res.set_chunked_content_provider("application/json", [big](size_t, httplib::DataSink& sink) {
      for (int i = 0; i < 10; ++i) {
        if (!sink.write(big.data(), big.size())) return false;
      }
      sink.done();
      return true;
    });
  });
  server_.start();
  auto opts = fast();
  opts.max_body_bytes = 64;
  for (const auto* path : {"/sized.json", "/chunked.json"}) {
    EXPECT_THAT(load_error(server_.url(path), opts),
                AllOf(HasSubstr("larger than 64 bytes"), HasSubstr("(1 attempt)")));
  }
  EXPECT_TRUE(log().empty()) << "an oversized body is not retried";
  // The chunked provider may still be writing `big` to the connection the client dropped: stop
  // (and join) the server before `big` goes out of scope.
  server_.stop();
}

TEST_F(http_inventory_test, an_unchanged_inventory_costs_a_304) {
  std::string etag = "\"v1\"";
  std::string body = boards;
  std::mutex m;
  server_.server().Get("/resources.json", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> guard(m);
    if (req.get_header_value("If-None-Match") == etag) {
      res.status = 304;
      return;
    }
    res.set_header("ETag", etag);
    serve_json(res, body);
  });
  server_.start();
  const auto provider = http_inventory(server_.url("/resources.json"), fast());
  const auto first = provider->load();
  const auto second = provider->load();
  EXPECT_EQ(first, second) << "a 304 must hand back the cached inventory";
  {
    std::lock_guard<std::mutex> guard(m);
    etag = "\"v2\"";
    body = R"([{"id": "b9"}])";
  }
  const auto third = provider->load();
  ASSERT_EQ(third->resources.size(), 1U);
  EXPECT_EQ(third->resources[0]["id"], "b9");
  const auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 3U);
  EXPECT_EQ(seen[0].header("If-None-Match"), "");
  EXPECT_EQ(seen[1].header("If-None-Match"), "\"v1\"");
  EXPECT_EQ(seen[2].header("If-None-Match"), "\"v1\"");
  server_.stop();  // joins the handlers' threads before the locals they use go out of scope
}

TEST_F(http_inventory_test, last_modified_is_sent_back_as_if_modified_since) {
  const std::string stamp = "Wed, 21 Oct 2015 07:28:00 GMT";
  server_.server().Get("/resources.json", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("If-Modified-Since") == stamp) {
      res.status = 304;
      return;
    }
    res.set_header("Last-Modified", stamp);
    serve_json(res, boards);
  });
  server_.start();
  const auto provider = http_inventory(server_.url("/resources.json"), fast());
  EXPECT_EQ(provider->load(), provider->load());
  EXPECT_EQ(server_.requests().at(1).header("If-Modified-Since"), stamp);
  server_.stop();  // joins the handler's threads before `stamp` goes out of scope
}

}  // namespace
}  // namespace gtest_lockable
