// The etcd lock server URI: `etcd://HOST[:PORT][,HOST[:PORT]...][/PREFIX][?ttl=S&timeout=S&retention=S]`.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gtest_lockable::detail {

/// One member of an etcd cluster.
struct etcd_endpoint {
  std::string host;  ///< Name or IPv4 address; an IPv6 address without brackets.
  int port = 2379;   ///< Client port.
  /// `host:port`, with brackets around an IPv6 address.
  std::string text() const;
};

/// A parsed lock server URI.
struct etcd_uri {
  std::vector<etcd_endpoint> endpoints;          ///< In the order given.
  std::string prefix = "/gtest_lockable/locks";  ///< Without a trailing slash.
  std::optional<double> ttl;                     ///< `ttl=`: lease TTL in seconds.
  std::optional<double> timeout;                 ///< `timeout=`: request budget in seconds.
  std::optional<double> retention;               ///< `retention=`: the ledger's, in seconds.
  /// The URI again, normalized (explicit ports, prefix, parameters as given), for messages.
  std::string text() const;
};

/// Parses `uri`; throws `error` (`errc::invalid_argument`) naming it and what is wrong.
etcd_uri parse_etcd_uri(const std::string& uri);

}  // namespace gtest_lockable::detail
