#include "src/store/etcd/uri.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "gtest_lockable/error.hpp"

namespace gtest_lockable::detail {
namespace {

constexpr std::string_view scheme = "etcd://";
constexpr const char* uri_form =
    "etcd://HOST[:PORT][,HOST[:PORT]...][/PREFIX][?ttl=S&timeout=S&retention=S]";

[[noreturn]] void bad_uri(const std::string& uri, const std::string& why) {
  throw error(errc::invalid_argument,
              "invalid lock server URI '" + uri + "': " + why + " (expected " + uri_form + ")");
}

bool is_plain_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

etcd_endpoint parse_endpoint(const std::string& uri, const std::string& part) {
  if (part.empty()) bad_uri(uri, "an endpoint in the list is empty");
  etcd_endpoint ep;
  std::string port_text;
  if (part.front() == '[') {  // [IPv6]:port
    const auto close = part.find(']');
    if (close == std::string::npos) bad_uri(uri, "'" + part + "' lacks its closing ']'");
    ep.host = part.substr(1, close - 1);
    const std::string after = part.substr(close + 1);
    if (!after.empty() && after.front() != ':') bad_uri(uri, "odd characters after ']'");
    if (!after.empty()) port_text = after.substr(1);
    const bool hex = !ep.host.empty() && std::all_of(ep.host.begin(), ep.host.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
    });
    if (!hex) bad_uri(uri, "'" + ep.host + "' is not an IPv6 address");
  } else {
    if (std::count(part.begin(), part.end(), ':') > 1) {
      bad_uri(uri, "'" + part + "' has odd characters (an IPv6 address goes in [])");
    }
    const auto colon = part.find(':');
    ep.host = part.substr(0, colon);
    if (colon != std::string::npos) port_text = part.substr(colon + 1);
    if (ep.host.empty()) bad_uri(uri, "'" + part + "' has no host");
    if (!std::all_of(ep.host.begin(), ep.host.end(), is_plain_char)) {
      bad_uri(uri, "host '" + ep.host + "' has odd characters (an IPv6 address goes in [])");
    }
  }
  if (!port_text.empty() || part.back() == ':') {
    const bool digits = !port_text.empty() && port_text.size() <= 5 &&
                        std::all_of(port_text.begin(), port_text.end(),
                                    [](char c) { return c >= '0' && c <= '9'; });
    ep.port = digits ? std::stoi(port_text) : 0;
    if (ep.port < 1 || ep.port > 65535) {
      bad_uri(uri, "port '" + port_text + "' of '" + part + "' is not a number from 1 to 65535");
    }
  }
  return ep;
}

// Segments of plain characters: the prefix becomes part of every key and of watch ranges, and
// "..", "//" or spaces in it are almost surely typing mistakes.
void check_prefix(const std::string& uri, const std::string& path) {
  for (std::size_t start = 1; start <= path.size();) {
    auto end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string segment = path.substr(start, end - start);
    const bool plain = !segment.empty() && segment != "." && segment != ".." &&
                       std::all_of(segment.begin(), segment.end(), is_plain_char);
    if (!plain) {
      bad_uri(uri, "prefix '" + path +
                       "' has odd characters: use letters, digits, '.', '_' and '-' between "
                       "single slashes");
    }
    start = end + 1;
  }
}

// `ttl=S&timeout=S`: settings that travel with the URI, so that one value (a flag, a variable,
// CMake's LOCK_SERVER) configures the store wherever it is given. Range checks are the store's.
void parse_parameters(const std::string& uri, const std::string& query, etcd_uri& out) {
  for (std::size_t start = 0; start <= query.size();) {
    auto end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string part = query.substr(start, end - start);
    start = end + 1;
    const auto eq = part.find('=');
    const std::string name = part.substr(0, eq);
    std::optional<double>* slot = name == "ttl"         ? &out.ttl
                                  : name == "timeout"   ? &out.timeout
                                  : name == "retention" ? &out.retention
                                                        : nullptr;
    if (slot == nullptr) {
      bad_uri(uri, "unknown parameter '" + name + "' (known: ttl, timeout, retention)");
    }
    const std::string value = eq == std::string::npos ? "" : part.substr(eq + 1);
    char* rest = nullptr;
    double number = value.empty() ? NAN : std::strtod(value.c_str(), &rest);
    // Seconds, or a number with a unit as durations elsewhere: 90s, 15m, 2h, 7d.
    if (!std::isnan(number) && rest != nullptr && *rest != '\0' && rest[1] == '\0') {
      const char unit = *rest;
      const double scale = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600
                                                 : unit == 'd' ? 86400 : 0;
      if (scale > 0) {
        number *= scale;
        ++rest;
      }
    }
    if (std::isnan(number) || *rest != '\0') {
      bad_uri(uri, "parameter " + name + " needs a number of seconds, not '" + value + "'");
    }
    *slot = number;
  }
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace

std::string etcd_endpoint::text() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string etcd_uri::text() const {
  std::string out(scheme);
  for (std::size_t i = 0; i < endpoints.size(); ++i) out += (i ? "," : "") + endpoints[i].text();
  out += prefix;
  if (ttl) out += "?ttl=" + number_text(*ttl);
  if (timeout) out += std::string(ttl ? "&" : "?") + "timeout=" + number_text(*timeout);
  if (retention) {
    out += std::string(ttl || timeout ? "&" : "?") + "retention=" + number_text(*retention);
  }
  return out;
}

etcd_uri parse_etcd_uri(const std::string& uri) {
  if (uri.compare(0, scheme.size(), scheme) != 0) bad_uri(uri, "it must start with etcd://");
  const auto question = uri.find('?');
  const std::string rest = uri.substr(scheme.size(), question - scheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  if (authority.empty()) bad_uri(uri, "it names no endpoint");
  etcd_uri out;
  for (std::size_t start = 0;;) {
    const auto comma = authority.find(',', start);
    out.endpoints.push_back(parse_endpoint(uri, authority.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (!path.empty()) {
    check_prefix(uri, path);
    out.prefix = path;
  }
  if (question != std::string::npos) parse_parameters(uri, uri.substr(question + 1), out);
  return out;
}

}  // namespace gtest_lockable::detail
