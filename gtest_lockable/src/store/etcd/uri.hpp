// The etcd lock server URI: `etcd[s]://HOST[:PORT][,HOST[:PORT]...][/PREFIX][?PARAMETERS]`, with
// parameters ttl=S, timeout=S, retention=S, and for a secured cluster ca=, cert=, key=, user=,
// password_file=.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gtest_lockable::detail {

/// How to talk to the members of one cluster: TLS and credentials. Files are named, not read,
/// except the password's, which is read when the URI is parsed and never printed.
struct etcd_security {
  bool tls = false;           ///< `etcds://`: HTTPS to every member.
  std::string ca_file;        ///< `ca=`: CA certificates the members' are checked by; empty: the system's.
  std::string cert_file;      ///< `cert=`: a client certificate (for etcd's --client-cert-auth).
  std::string key_file;       ///< `key=`: its private key.
  std::string user;           ///< `user=`: the etcd user; empty: no authentication.
  std::string password_file;  ///< `password_file=`; empty: LOCKABLE_LOCK_SERVER_PASSWORD.
  std::string password;       ///< The password itself: a secret, never in a message.
};

/// One member of an etcd cluster.
struct etcd_endpoint {
  std::string host;  ///< Name or IPv4 address; an IPv6 address without brackets.
  int port = 2379;   ///< Client port.
  /// How to talk to it (shared by the cluster's endpoints); null: plain HTTP, no user.
  std::shared_ptr<const etcd_security> security;
  /// `host:port`, with brackets around an IPv6 address.
  std::string text() const;
};

/// A parsed lock server URI.
struct etcd_uri {
  std::vector<etcd_endpoint> endpoints;          ///< In the order given.
  std::string prefix = "/gtest_lockable/locks";  ///< Without a trailing slash.
  std::optional<double> ttl;                     ///< `ttl=`: lease TTL in seconds.
  std::optional<double> timeout;                 ///< `timeout=`: request budget in seconds.
  std::shared_ptr<const etcd_security> security;  ///< Also in each endpoint; never null.
  std::optional<double> retention;               ///< `retention=`: the ledger's, in seconds.
  /// The URI again, normalized (explicit ports, prefix, parameters as given), for messages.
  std::string text() const;
};

/// Parses `uri`; throws `error` (`errc::invalid_argument`) naming it and what is wrong. Reads
/// the password (from `password_file=`, else LOCKABLE_LOCK_SERVER_PASSWORD) when the URI names a
/// user, and checks that the certificate files it names can be read.
etcd_uri parse_etcd_uri(const std::string& uri);

}  // namespace gtest_lockable::detail
