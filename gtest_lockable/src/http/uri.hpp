#pragma once

#include <string>
#include <string_view>

namespace gtest_lockable::detail {

/// An http(s) URI split into the parts a request needs.
struct http_uri {
  bool tls = false;      ///< `https`.
  std::string userinfo;  ///< `user:password` as written (percent-encoded); empty if none.
  std::string host;      ///< Lower-cased; an IPv6 literal keeps its brackets.
  int port = 0;          ///< Explicit, or 80 / 443.
  std::string target;    ///< Path and query (`/` when the URI has no path); no fragment.

  /// `scheme://host:port`: requests to the same origin may carry the credentials.
  std::string origin() const;
  /// The URI without its userinfo and default port, secrets redacted, for messages.
  std::string redacted() const;
};

/// Parses an absolute `http://` or `https://` URI. Throws `error` (`errc::invalid_inventory`)
/// naming the redacted URI when it is malformed.
http_uri parse_http_uri(std::string_view text);

/// Resolves a `Location` header against the URI that answered with it. Throws `error` when the
/// target is not http(s) or is malformed.
http_uri resolve_location(const http_uri& base, std::string_view location);

/// `user:password` from the userinfo, percent-decoded, base64-encoded: a Basic credential.
std::string basic_credential(std::string_view userinfo);

/// `text` with %XX escapes decoded (invalid escapes are kept as they are).
std::string percent_decode(std::string_view text);

}  // namespace gtest_lockable::detail
