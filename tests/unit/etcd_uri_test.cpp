// The etcd store's URI and options, and the choice between stores; no server needed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "gtest_lockable/env.hpp"
#include "gtest_lockable/error.hpp"
#include "gtest_lockable/etcd_store.hpp"

namespace gtest_lockable {
namespace {

std::string described(const std::string& uri) { return etcd_lock_store(uri)->describe(); }

TEST(etcd_uri_test, endpoints_get_default_port_and_prefix) {
  EXPECT_EQ(described("etcd://lab-etcd"),
            "etcd lock server etcd://lab-etcd:2379/gtest_lockable/locks");
  EXPECT_EQ(described("etcd://10.0.0.1:2379,10.0.0.2:12379,etcd3.lab"),
            "etcd lock server etcd://10.0.0.1:2379,10.0.0.2:12379,etcd3.lab:2379"
            "/gtest_lockable/locks");
  EXPECT_EQ(described("etcd://[::1]:2380"),
            "etcd lock server etcd://[::1]:2380/gtest_lockable/locks");
}

TEST(etcd_uri_test, path_is_the_key_prefix) {
  EXPECT_EQ(described("etcd://h:1/lab/locks"), "etcd lock server etcd://h:1/lab/locks");
  EXPECT_EQ(described("etcd://h:1/lab/locks/"), "etcd lock server etcd://h:1/lab/locks");
  EXPECT_EQ(described("etcd://h:1/"), "etcd lock server etcd://h:1/gtest_lockable/locks");
  EXPECT_EQ(described("etcd://h:1/team_a.v2-x"), "etcd lock server etcd://h:1/team_a.v2-x");
}

TEST(etcd_uri_test, parameters_set_the_ttl_and_timeout) {
  EXPECT_EQ(described("etcd://h:1/x?ttl=3&timeout=0.5"),
            "etcd lock server etcd://h:1/x?ttl=3&timeout=0.5");
  EXPECT_EQ(described("etcd://h?timeout=2"),
            "etcd lock server etcd://h:2379/gtest_lockable/locks?timeout=2");
  // The URI's values go through the same checks as the options'.
  try {
    etcd_lock_store("etcd://h?ttl=0.5");
    ADD_FAILURE() << "accepted a TTL of 0.5 s";
  } catch (const error& e) {
    EXPECT_EQ(std::string(e.what()),
              "invalid etcd lease TTL of 0.5 s: give a number of seconds from 1 up");
  }
  EXPECT_THROW(etcd_lock_store("etcd://h?timeout=0"), error);
}

TEST(etcd_uri_test, the_ledger_retention_takes_seconds_or_a_unit) {
  EXPECT_EQ(described("etcd://h:1/x?retention=7d"),
            "etcd lock server etcd://h:1/x?retention=604800");
  EXPECT_EQ(described("etcd://h:1/x?ttl=3&retention=90m"),
            "etcd lock server etcd://h:1/x?ttl=3&retention=5400");
  try {
    etcd_lock_store("etcd://h?retention=400d");
    ADD_FAILURE() << "accepted a retention of 400 days";
  } catch (const error& e) {
    EXPECT_EQ(std::string(e.what()),
              "invalid etcd ledger retention of 3.456e+07 s: give a number of seconds from 2 to "
              "32000000");
  }
}

TEST(etcd_uri_test, malformed_uris_are_refused_with_the_reason) {
  const std::pair<const char*, const char*> cases[] = {
      {"http://h:2379", "it must start with etcd://"},
      {"etcd://", "it names no endpoint"},
      {"etcd:///prefix", "it names no endpoint"},
      {"etcd://h:2379,", "an endpoint in the list is empty"},
      {"etcd://h:0", "port '0' of 'h:0' is not a number from 1 to 65535"},
      {"etcd://h:65536", "is not a number from 1 to 65535"},
      {"etcd://h:x1", "port 'x1'"},
      {"etcd://h:", "port ''"},
      {"etcd://:2379", "':2379' has no host"},
      {"etcd://user@h:2379", "host 'user@h' has odd characters"},
      {"etcd://::1", "an IPv6 address goes in []"},
      {"etcd://[::1", "lacks its closing ']'"},
      {"etcd://h/a b", "prefix '/a b' has odd characters"},
      {"etcd://h/a//b", "prefix '/a//b' has odd characters"},
      {"etcd://h/a/../b", "prefix '/a/../b' has odd characters"},
      {"etcd://h/a?x=1", "unknown parameter 'x' (known: ttl, timeout, retention, ca, cert, "
                         "key, user, password_file)"},
      {"etcd://h?ca=/etc/hostname", "ca=, cert= and key= need TLS: write etcds://"},
      {"etcds://h?cert=/etc/hostname", "cert= and key= go together"},
      {"etcds://h?ca=", "parameter ca needs a value"},
      {"etcd://h?password_file=/etc/hostname", "password_file= needs a user="},
      {"etcd://h?ttl", "parameter ttl needs a number of seconds, not ''"},
      {"etcd://h?ttl=3x", "parameter ttl needs a number of seconds, not '3x'"},
      {"etcd://h?timeout=nan", "parameter timeout needs a number of seconds, not 'nan'"},
  };
  for (const auto& [uri, reason] : cases) {
    try {
      etcd_lock_store(uri);
      ADD_FAILURE() << "accepted " << uri;
    } catch (const error& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.code(), errc::invalid_argument) << uri;
      EXPECT_EQ(what.rfind(std::string("invalid lock server URI '") + uri + "': ", 0), 0u) << what;
      EXPECT_NE(what.find(reason), std::string::npos) << what;
      EXPECT_NE(
          what.find("(expected etcd[s]://HOST[:PORT][,HOST[:PORT]...][/PREFIX][?ttl=S&timeout=S&"
                    "ca=FILE&...])"),
          std::string::npos)
          << what;
    }
  }
}

TEST(etcd_uri_test, a_secured_cluster_is_named_with_its_files_never_its_password) {
  const std::string file = ::testing::TempDir() + "etcd_uri_test_password";
  {
    std::FILE* out = std::fopen(file.c_str(), "w");
    ASSERT_NE(out, nullptr);
    std::fputs("s3cret\n", out);
    std::fclose(out);
  }
  const std::string described_text =
      described("etcds://h:1/x?ca=" + file + "&user=lab&password_file=" + file);
  EXPECT_EQ(described_text, "etcd lock server etcds://h:1/x?ca=" + file +
                                "&user=lab&password_file=" + file);
  EXPECT_EQ(described_text.find("s3cret"), std::string::npos);
  // A user needs a password, from a file or the variable.
  ::unsetenv(env::lock_server_password);
  try {
    etcd_lock_store("etcd://h?user=lab");
    ADD_FAILURE() << "accepted a user without a password";
  } catch (const error& e) {
    EXPECT_EQ(std::string(e.what()),
              "lock server 'etcd://h?user=lab' names user 'lab' but no password: set "
              "LOCKABLE_LOCK_SERVER_PASSWORD, or add password_file=FILE");
  }
  ::setenv(env::lock_server_password, "from-env", 1);
  EXPECT_NO_THROW(etcd_lock_store("etcd://h?user=lab"));
  ::unsetenv(env::lock_server_password);
  // A file that cannot be read is named.
  try {
    etcd_lock_store("etcds://h?ca=/no/such/ca.pem");
    ADD_FAILURE() << "accepted a missing CA file";
  } catch (const error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot read '/no/such/ca.pem', the ca= of lock server 'etcds://h?ca=/no/such/ca.pem': "
              "check the path and its permissions");
  }
  std::remove(file.c_str());
}

TEST(etcd_uri_test, bad_options_are_refused) {
  etcd_options short_ttl;
  short_ttl.ttl = std::chrono::duration<double>(0.5);
  try {
    etcd_lock_store("etcd://h", short_ttl);
    ADD_FAILURE() << "accepted a TTL of 0.5 s";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_argument);
    EXPECT_EQ(std::string(e.what()),
              "invalid etcd lease TTL of 0.5 s: give a number of seconds from 1 up");
  }
  etcd_options no_timeout;
  no_timeout.timeout = std::chrono::duration<double>(0);
  EXPECT_THROW(etcd_lock_store("etcd://h", no_timeout), error);
}

TEST(etcd_uri_test, open_lock_store_picks_the_server_when_given) {
  EXPECT_EQ(open_lock_store("/some/locks", "")->describe(), "lock folder '/some/locks'");
  EXPECT_EQ(open_lock_store("", "")->describe(), "lock folder '" + default_lock_folder() + "'");
  EXPECT_EQ(open_lock_store("/some/locks", "etcd://h:1/x")->describe(),
            "etcd lock server etcd://h:1/x");
  EXPECT_THROW(open_lock_store("", "h:2379"), error);
  EXPECT_STREQ(env::lock_server, "LOCKABLE_LOCK_SERVER");
}

}  // namespace
}  // namespace gtest_lockable
