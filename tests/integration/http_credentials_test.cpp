#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/http_inventory.hpp"
#include "http_test_server.hpp"

namespace gtest_lockable {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::http_test_server;
using namespace std::chrono_literals;

const std::string boards = R"([{"id": "b1"}])";

TEST(redact_uri_test, hides_userinfo_and_secret_query_values) {
  EXPECT_EQ(redact_uri("http://alice:s3cret@host:8080/r.json"), "http://***@host:8080/r.json");
  EXPECT_EQ(redact_uri("https://tok3n@host/r.json"), "https://***@host/r.json");
  EXPECT_EQ(redact_uri("http://host/r.json?access_token=abc&lab=x"),
            "http://host/r.json?access_token=***&lab=x");
  EXPECT_EQ(redact_uri("http://u:p@host/r?sig=1&API_KEY=2#top"),
            "http://***@host/r?sig=***&API_KEY=***#top");
  EXPECT_EQ(redact_uri("http://host/r.json"), "http://host/r.json");
  EXPECT_EQ(redact_uri("http://host/r.json?lab=x&mail=a@b"), "http://host/r.json?lab=x&mail=a@b");
}

TEST(redact_uri_test, hides_a_password_with_an_unescaped_slash) {
  // RFC 3986 would end the userinfo at the '/'; the password must not leak either way.
  EXPECT_EQ(redact_uri("http://alice:pa/ss@host/r.json"), "http://***@host/r.json");
}

TEST(redact_uri_test, malformed_uris_are_refused_without_their_credentials) {
  for (const std::string uri :
       {"http://alice:s3cret@host:99999/r.json", "http://alice:s3cret@/r.json",
        "http://alice:s3cret@host/with space", "ftp://alice:s3cret@host/r.json",
        "http://alice:s3cret@[::1/r.json"}) {
    try {
      http_inventory(uri, http_options{});
      ADD_FAILURE() << uri << " was accepted";
    } catch (const error& e) {
      EXPECT_EQ(e.code(), errc::invalid_inventory);
      EXPECT_THAT(e.what(), AllOf(HasSubstr("invalid inventory URI"), Not(HasSubstr("s3cret")),
                                  Not(HasSubstr("alice"))));
    }
  }
}

class http_credentials_test : public ::testing::Test {
 protected:
  http_options fast() {
    http_options opts;
    opts.retries = 2;
    opts.backoff_base = 1ms;
    opts.backoff_max = 5ms;
    opts.read_timeout = 2s;
    opts.token = "bearer-s3cret";
    opts.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> guard(mutex_);
      messages_.push_back(line);
    };
    return opts;
  }

  // Loads `uri`; every message it produces (error, describe(), origin) joins `messages_`.
  void load(const std::string& uri) {
    try {
      const auto provider = http_inventory(uri, fast());
      messages_.push_back(provider->describe());
      messages_.push_back(provider->load()->origin);
    } catch (const error& e) {
      messages_.push_back(e.what());
    }
  }

  void TearDown() override {
    other_.stop();
    server_.stop();
  }

  http_test_server server_;
  http_test_server other_;  // another origin
  std::mutex mutex_;
  std::vector<std::string> messages_;
};

TEST_F(http_credentials_test, the_token_is_sent_as_a_bearer_header) {
  server_.server().Get("/r.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(boards, "application/json");
  });
  server_.start();
  http_inventory(server_.url("/r.json"), fast())->load();
  EXPECT_EQ(server_.requests().at(0).header("Authorization"), "Bearer bearer-s3cret");
}

TEST_F(http_credentials_test, uri_credentials_are_sent_as_basic_auth_instead_of_the_token) {
  server_.server().Get("/r.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(boards, "application/json");
  });
  server_.start();
  // %3A is a ':' inside the password.
  http_inventory(server_.url("/r.json", "alice:s3%3Acret"), fast())->load();
  EXPECT_EQ(server_.requests().at(0).header("Authorization"), "Basic YWxpY2U6czM6Y3JldA==");
}

TEST_F(http_credentials_test, a_redirect_to_another_origin_gets_no_credentials) {
  other_.server().Get("/r.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(boards, "application/json");
  });
  other_.start();
  server_.server().Get("/r.json", [&](const httplib::Request&, httplib::Response& res) {
    res.set_redirect(other_.url("/r.json"), 302);
  });
  server_.start();
  http_inventory(server_.url("/r.json", "alice:s3cret"), fast())->load();
  EXPECT_EQ(server_.requests().at(0).header("Authorization"), "Basic YWxpY2U6czNjcmV0");
  EXPECT_EQ(other_.requests().at(0).header("Authorization"), "")
      << "credentials leaked to another origin";
}

TEST_F(http_credentials_test, credentials_are_absent_from_every_message) {
  std::atomic<int> flaky{0};
  auto& svr = server_.server();
  svr.Get("/ok.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(boards, "application/json");
  });
  svr.Get("/flaky.json", [&](const httplib::Request&, httplib::Response& res) {
    if (++flaky < 3) {
      res.status = 503;
    } else {
      res.set_content(boards, "application/json");
    }
  });
  svr.Get("/down.json", [](const httplib::Request&, httplib::Response& res) { res.status = 500; });
  svr.Get("/loop", [&](const httplib::Request&, httplib::Response& res) {
    res.set_redirect(server_.url("/loop", "alice:s3cret") + "?token=t0ken", 302);
  });
  svr.Get("/bad.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{oops", "application/json");
  });
  svr.Get("/dupes.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"([{"id": 1}, {"id": 1}])", "application/json");
  });
  server_.start();
  const std::string userinfo = "alice:s3cret";
  for (const auto* path : {"/ok.json", "/flaky.json", "/down.json", "/loop", "/bad.json",
                           "/dupes.json", "/missing.json", "/ok.json?token=t0ken"}) {
    load(server_.url(path, userinfo));
  }
  server_.stop();
  load(server_.url("/ok.json", userinfo));  // connection refused
  std::lock_guard<std::mutex> guard(mutex_);
  EXPECT_GE(messages_.size(), 20U) << "every scenario must have produced messages";
  for (const auto& message : messages_) {
    EXPECT_THAT(message, AllOf(Not(HasSubstr("alice")), Not(HasSubstr("s3cret")),
                               Not(HasSubstr("t0ken")), Not(HasSubstr("YWxpY2U"))));
  }
  for (const auto& m : messages_) std::printf("%s\n", m.c_str());
}

}  // namespace
}  // namespace gtest_lockable
