#include "src/http/uri.hpp"

#include <algorithm>
#include <cctype>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/http_inventory.hpp"
#include "src/util/base64.hpp"

namespace gtest_lockable {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Query parameter names that usually carry a secret (`?access_token=...`, `?sig=...`).
bool secret_name(std::string_view name) {
  static constexpr std::string_view words[] = {"token", "key",  "secret", "pass",   "pwd",
                                               "sig",   "auth", "cred",   "session"};
  const std::string l = lower(name);
  return std::any_of(std::begin(words), std::end(words),
                     [&](std::string_view w) { return l.find(w) != std::string::npos; });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string redact_uri(std::string_view uri) {
  std::string out(uri);
  // The userinfo ends at the last '@' before the query. RFC 3986 ends it at the first '/', but
  // a password with an unescaped '/' must not leak either, so this may hide a little too much.
  const auto scheme_end = out.find("://");
  const std::size_t start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const std::size_t query = out.find_first_of("?#", start);
  const std::size_t at = out.rfind('@', query == std::string::npos ? std::string::npos : query);
  if (at != std::string::npos && at >= start) out.replace(start, at - start, "***");

  const std::size_t q = out.find('?', start);
  if (q == std::string::npos) return out;
  std::size_t end = std::min(out.find('#', q), out.size());
  for (std::size_t pos = q + 1; pos < end;) {
    const std::size_t stop = std::min(out.find('&', pos), end);
    const std::size_t eq = out.find('=', pos);
    if (eq < stop && secret_name(std::string_view(out).substr(pos, eq - pos))) {
      out.replace(eq + 1, stop - eq - 1, "***");
      end = std::min(out.find('#', q), out.size());
      pos = eq + 5;  // past "=***&"
    } else {
      pos = stop + 1;
    }
  }
  return out;
}

namespace detail {

std::string http_uri::origin() const {
  return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(port);
}

std::string http_uri::redacted() const {
  const bool default_port = port == (tls ? 443 : 80);
  return redact_uri(std::string(tls ? "https://" : "http://") + host +
                    (default_port ? "" : ":" + std::to_string(port)) + target);
}

http_uri parse_http_uri(std::string_view text) {
  const auto fail = [&](const std::string& why) -> http_uri {
    throw error(errc::invalid_inventory,
                "invalid inventory URI '" + redact_uri(text) + "': " + why +
                    " (expected http[s]://[user:password@]host" + "[:port]/path)");
  };
  for (const char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return fail("it contains a space or a control character; percent-encode it");
    }
  }
  const auto scheme_end = text.find("://");
  const std::string scheme = lower(text.substr(0, scheme_end));
  if (scheme_end == std::string_view::npos || (scheme != "http" && scheme != "https")) {
    return fail("only http:// and https:// are supported");
  }
  http_uri uri;
  uri.tls = scheme == "https";
  const std::string_view rest = text.substr(scheme_end + 3);
  const std::size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view host_port = rest.substr(0, authority_end);
  if (const auto at = host_port.rfind('@'); at != std::string_view::npos) {
    uri.userinfo = std::string(host_port.substr(0, at));
    host_port.remove_prefix(at + 1);
  }
  std::string_view port_text;
  if (!host_port.empty() && host_port.front() == '[') {
    const auto close = host_port.find(']');
    if (close == std::string_view::npos) return fail("an IPv6 address lacks its ']'");
    uri.host = lower(host_port.substr(0, close + 1));
    const std::string_view after = host_port.substr(close + 1);
    if (!after.empty() && after.front() != ':') return fail("junk after the IPv6 address");
    if (!after.empty()) port_text = after.substr(1);
  } else {
    const auto colon = host_port.find(':');
    uri.host = lower(host_port.substr(0, colon));
    if (colon != std::string_view::npos) port_text = host_port.substr(colon + 1);
  }
  if (uri.host.empty() || uri.host == "[]") return fail("it has no host");
  uri.port = uri.tls ? 443 : 80;
  if (!port_text.empty()) {
    const bool digits =
        port_text.size() <= 5 && std::all_of(port_text.begin(), port_text.end(),
                                             [](char c) { return c >= '0' && c <= '9'; });
    const int port = digits ? std::stoi(std::string(port_text)) : 0;
    if (port < 1 || port > 65535) return fail("invalid port '" + std::string(port_text) + "'");
    uri.port = port;
  }
  std::string_view target = rest.substr(authority_end);
  target = target.substr(0, target.find('#'));
  uri.target = (target.empty() || target.front() != '/' ? "/" : "") + std::string(target);
  return uri;
}

http_uri resolve_location(const http_uri& base, std::string_view location) {
  const auto colon = location.find(':');
  const auto first_special = location.find_first_of("/?#");
  if (colon != std::string_view::npos && colon < first_special && colon > 0) {
    return parse_http_uri(location);  // absolute; refuses other schemes
  }
  if (location.substr(0, 2) == "//") {
    return parse_http_uri(std::string(base.tls ? "https:" : "http:") + std::string(location));
  }
  // Same origin: only the target changes. Checked with a parse so that junk is refused.
  const std::string base_path = base.target.substr(0, base.target.find('?'));
  std::string target;
  if (location.empty()) {
    target = base.target;
  } else if (location.front() == '/') {
    target = std::string(location);
  } else if (location.front() == '?') {
    target = base_path + std::string(location);
  } else {
    target = base_path.substr(0, base_path.rfind('/') + 1) + std::string(location);
  }
  http_uri next = parse_http_uri(base.origin() + target);
  next.userinfo = base.userinfo;
  return next;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string basic_credential(std::string_view userinfo) {
  const auto colon = userinfo.find(':');
  const std::string user = percent_decode(userinfo.substr(0, colon));
  const std::string password =
      colon == std::string_view::npos ? "" : percent_decode(userinfo.substr(colon + 1));
  return base64_encode(user + ":" + password);
}

}  // namespace detail
}  // namespace gtest_lockable
