#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/http_inventory.hpp"
#include "gtest_lockable/lockable.hpp"
#include "http_test_server.hpp"

namespace gtest_lockable {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::http_test_server;
namespace fs = std::filesystem;

// Sets environment variables for one test and restores them after it.
class scoped_env {
 public:
  void set(const char* name, const char* value) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    ::setenv(name, value, 1);
  }
  ~scoped_env() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(http_options_test, defaults_are_sane) {
  const http_options opts;
  EXPECT_EQ(opts.retries, 4);
  EXPECT_EQ(opts.connect_timeout.count(), 5.0) << "not cpp-httplib's 300 s";
  EXPECT_EQ(opts.max_body_bytes, 64U << 20);
  EXPECT_TRUE(opts.verify);
}

TEST(http_options_test, variables_override_the_defaults) {
  scoped_env env;
  env.set("LOCKABLE_HTTP_TOKEN", "t");
  env.set("LOCKABLE_CA_FILE", "/etc/ca.pem");
  env.set("LOCKABLE_HTTP_INSECURE", "1");
  env.set("LOCKABLE_HTTP_RETRIES", "7");
  env.set("LOCKABLE_HTTP_CONNECT_TIMEOUT", "1.5");
  env.set("LOCKABLE_HTTP_TIMEOUT", "30");
  const auto opts = http_options_from_env();
  EXPECT_EQ(opts.token, "t");
  EXPECT_EQ(opts.ca_file, "/etc/ca.pem");
  EXPECT_FALSE(opts.verify);
  EXPECT_EQ(opts.retries, 7);
  EXPECT_EQ(opts.connect_timeout.count(), 1.5);
  EXPECT_EQ(opts.read_timeout.count(), 30.0);
}

TEST(http_options_test, empty_variables_count_as_unset) {
  scoped_env env;
  env.set("LOCKABLE_HTTP_RETRIES", "");
  env.set("LOCKABLE_HTTP_INSECURE", "");
  const auto opts = http_options_from_env();
  EXPECT_EQ(opts.retries, http_options{}.retries);
  EXPECT_TRUE(opts.verify);
}

TEST(http_options_test, invalid_values_name_the_variable) {
  const std::pair<const char*, const char*> cases[] = {
      {"LOCKABLE_HTTP_RETRIES", "many"},      {"LOCKABLE_HTTP_RETRIES", "101"},
      {"LOCKABLE_HTTP_RETRIES", "-1"},        {"LOCKABLE_HTTP_INSECURE", "maybe"},
      {"LOCKABLE_HTTP_TIMEOUT", "0"},         {"LOCKABLE_HTTP_TIMEOUT", "soon"},
      {"LOCKABLE_HTTP_CONNECT_TIMEOUT", "-2"}};
  for (const auto& [name, value] : cases) {
    scoped_env env;
    env.set(name, value);
    try {
      http_options_from_env();
      ADD_FAILURE() << name << "=" << value << " was accepted";
    } catch (const error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument);
      EXPECT_THAT(e.what(), AllOf(HasSubstr(name), HasSubstr(value)));
    }
  }
}

TEST(http_options_test, invalid_options_are_refused) {
  http_options opts;
  opts.read_timeout = std::chrono::duration<double>(0);
  EXPECT_THROW(http_inventory("http://127.0.0.1:1/r.json", opts), error);
  opts = http_options{};
  opts.retries = -1;
  EXPECT_THROW(http_inventory("http://127.0.0.1:1/r.json", opts), error);
}

TEST(http_options_test, a_token_with_a_line_break_is_refused_without_showing_it) {
  http_options opts;
  opts.token = "s3cret\r\nX-Injected: 1";
  try {
    http_inventory("http://127.0.0.1:1/r.json", opts);
    ADD_FAILURE() << "the token was accepted";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_argument);
    EXPECT_THAT(e.what(), AllOf(HasSubstr("LOCKABLE_HTTP_TOKEN"), Not(HasSubstr("s3cret"))));
  }
}

// The C++ API path: `options.resources` is a URI, as --resources will be for the CLI.
TEST(http_lockable_test, a_lockable_locks_a_resource_from_a_uri_and_revalidates_with_304) {
  const std::string etag = "\"inventory-1\"";  // outlives the server, whose handler reads it
  http_test_server server;
  server.server().Get("/resources.json", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("If-None-Match") == etag) {
      res.status = 304;
      return;
    }
    res.set_header("ETag", etag);
    res.set_content(R"([{"id": "dut1", "hostname": "h", "online": true, "ip": "10.0.0.1"}])",
                    "application/json");
  });
  server.start();
  std::string pattern = (fs::temp_directory_path() / "http_lockable_test.XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const fs::path dir = pattern;
  {
    options opts;
    opts.hostname = "h";
    opts.resources = server.url("/resources.json");
    opts.lock_folder = (dir / "locks").string();
    lockable lab(opts);
    {
      auto dut = lab.lock("ip=10.0.0.1");
      EXPECT_EQ(dut.resource_id(), "dut1");
      EXPECT_EQ(dut.resource_info()["ip"], "10.0.0.1");
      EXPECT_TRUE(fs::exists(dir / "locks" / "dut1.pid"));
    }
    auto again = lab.lock("ip=10.0.0.1");
    EXPECT_EQ(again.resource_id(), "dut1");
  }
  fs::remove_all(dir);
  server.stop();
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 2U) << "one fetch per lock";
  EXPECT_EQ(seen[1].header("If-None-Match"), etag) << "the second lock must revalidate";
}

}  // namespace
}  // namespace gtest_lockable
