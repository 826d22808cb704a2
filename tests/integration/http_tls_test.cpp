#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/http_inventory.hpp"
#include "http_test_server.hpp"

namespace gtest_lockable {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing_support::http_test_server;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string boards = R"([{"id": "b1"}])";

// An HTTPS server with a self-signed certificate for 127.0.0.1, made fresh by the openssl CLI.
class http_tls_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "http_tls_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    cert_ = (dir_ / "cert.pem").string();
    const std::string key = (dir_ / "key.pem").string();
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '" +
        key + "' -out '" + cert_ + "' 2>'" + (dir_ / "openssl.log").string() + "'";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    server_ = std::make_unique<http_test_server>(
        std::make_unique<httplib::SSLServer>(cert_.c_str(), key.c_str()));
    server_->server().Get("/r.json", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(boards, "application/json");
    });
    server_->server().Get("/downgrade", [this](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("http://127.0.0.1:" + std::to_string(server_->port()) + "/r.json", 302);
    });
    server_->start();
  }

  void TearDown() override {
    if (server_) server_->stop();
    fs::remove_all(dir_);
  }

  http_options fast() {
    http_options opts;
    opts.retries = 1;
    opts.backoff_base = 1ms;
    opts.backoff_max = 5ms;
    opts.log = [this](const std::string& line) { log_.push_back(line); };
    return opts;
  }

  std::string url(const std::string& path) { return server_->url(path, "", "https"); }

  fs::path dir_;
  std::string cert_;
  std::unique_ptr<http_test_server> server_;
  std::vector<std::string> log_;
};

TEST_F(http_tls_test, an_untrusted_certificate_fails_by_default) {
  try {
    http_inventory(url("/r.json"), fast())->load();
    ADD_FAILURE() << "a self-signed certificate was trusted";
  } catch (const error& e) {
    std::printf("message: %s\n", e.what());
    EXPECT_THAT(e.what(), AllOf(HasSubstr(url("/r.json")), HasSubstr("certificate is not trusted"),
                                HasSubstr("self-signed"), HasSubstr("LOCKABLE_CA_FILE"),
                                HasSubstr("(1 attempt)")));
  }
  EXPECT_TRUE(log_.empty()) << "a certificate problem is not retried";
}

TEST_F(http_tls_test, the_ca_file_makes_the_certificate_trusted) {
  auto opts = fast();
  opts.ca_file = cert_;
  const auto inv = http_inventory(url("/r.json"), opts)->load();
  ASSERT_EQ(inv->resources.size(), 1U);
  EXPECT_EQ(inv->resources[0]["id"], "b1");
}

TEST_F(http_tls_test, the_ca_file_can_come_from_the_environment) {
  ::setenv("LOCKABLE_CA_FILE", cert_.c_str(), 1);
  auto opts = http_options_from_env();
  ::unsetenv("LOCKABLE_CA_FILE");
  opts.retries = 0;
  EXPECT_EQ(http_inventory(url("/r.json"), opts)->load()->resources.size(), 1U);
}

TEST_F(http_tls_test, turning_verification_off_works_and_is_warned_about) {
  auto opts = fast();
  opts.verify = false;
  const auto provider = http_inventory(url("/r.json"), opts);
  ASSERT_EQ(log_.size(), 1U);
  EXPECT_THAT(log_[0], AllOf(HasSubstr("warning"), HasSubstr("verification is off"),
                             HasSubstr("LOCKABLE_HTTP_INSECURE")));
  EXPECT_EQ(provider->load()->resources.size(), 1U);
}

TEST_F(http_tls_test, a_redirect_from_https_to_http_is_refused) {
  auto opts = fast();
  opts.ca_file = cert_;
  try {
    http_inventory(url("/downgrade"), opts)->load();
    ADD_FAILURE() << "followed a redirect to plain http";
  } catch (const error& e) {
    EXPECT_THAT(e.what(), HasSubstr("from https to plain http"));
  }
}

TEST_F(http_tls_test, an_unreadable_ca_file_is_reported_at_once) {
  auto opts = fast();
  opts.ca_file = (dir_ / "missing.pem").string();
  try {
    http_inventory(url("/r.json"), opts);
    ADD_FAILURE() << "a missing CA file was accepted";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_argument);
    EXPECT_THAT(e.what(), AllOf(HasSubstr("missing.pem"), HasSubstr("No such file")));
  }
}

}  // namespace
}  // namespace gtest_lockable
