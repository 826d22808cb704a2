#include "src/store/etcd/uri.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

#include "gtest_lockable/env.hpp"
#include "gtest_lockable/error.hpp"

namespace gtest_lockable::detail {
namespace {

constexpr std::string_view scheme = "etcd://";
constexpr std::string_view tls_scheme = "etcds://";
constexpr const char* uri_form =
    "etcd[s]://HOST[:PORT][,HOST[:PORT]...][/PREFIX][?ttl=S&timeout=S&ca=FILE&...]";

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

// `ttl=S&timeout=S`, and for a secured cluster `ca=`, `cert=`, `key=`, `user=`,
// `password_file=`: settings that travel with the URI, so that one value (a flag, a variable,
// CMake's LOCK_SERVER) configures the store wherever it is given. Range checks are the store's.
void parse_parameters(const std::string& uri, const std::string& query, etcd_uri& out,
                      etcd_security& security) {
  for (std::size_t start = 0; start <= query.size();) {
    auto end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string part = query.substr(start, end - start);
    start = end + 1;
    const auto eq = part.find('=');
    const std::string name = part.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : part.substr(eq + 1);
    std::string* text = name == "ca"              ? &security.ca_file
                        : name == "cert"          ? &security.cert_file
                        : name == "key"           ? &security.key_file
                        : name == "user"          ? &security.user
                        : name == "password_file" ? &security.password_file
                                                  : nullptr;
    if (text != nullptr) {
      if (value.empty()) bad_uri(uri, "parameter " + name + " needs a value");
      *text = value;
      continue;
    }
    std::optional<double>* slot = name == "ttl"         ? &out.ttl
                                  : name == "timeout"   ? &out.timeout
                                  : name == "retention" ? &out.retention
                                                        : nullptr;
    if (slot == nullptr) {
      bad_uri(uri, "unknown parameter '" + name +
                       "' (known: ttl, timeout, retention, ca, cert, key, user, password_file)");
    }
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

// Reads `path`, named by parameter `name` of `uri`, or throws naming both.
std::string read_named_file(const std::string& uri, const char* name, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in) {
    throw error(errc::invalid_argument, std::string("cannot read '") + path + "', the " + name +
                                            "= of lock server '" + uri +
                                            "': check the path and its permissions");
  }
  return text.str();
}

// Checks what a secured URI names, and reads the password.
void check_security(const std::string& uri, etcd_security& security) {
  const bool tls_file = !security.ca_file.empty() || !security.cert_file.empty() ||
                        !security.key_file.empty();
  if (tls_file && !security.tls) {
    bad_uri(uri, "ca=, cert= and key= need TLS: write etcds://");
  }
  if (security.cert_file.empty() != security.key_file.empty()) {
    bad_uri(uri, "cert= and key= go together");
  }
  for (const auto& [name, path] : {std::pair<const char*, const std::string&>{"ca", security.ca_file},
                                   {"cert", security.cert_file},
                                   {"key", security.key_file}}) {
    if (!path.empty()) read_named_file(uri, name, path);
  }
  if (security.user.empty()) {
    if (!security.password_file.empty()) bad_uri(uri, "password_file= needs a user=");
    return;
  }
  if (!security.password_file.empty()) {
    security.password = read_named_file(uri, "password_file", security.password_file);
    while (!security.password.empty() &&
           (security.password.back() == '\n' || security.password.back() == '\r')) {
      security.password.pop_back();
    }
  } else if (const char* password = std::getenv(env::lock_server_password)) {
    security.password = password;
  }
  if (security.password.empty()) {
    throw error(errc::invalid_argument,
                "lock server '" + uri + "' names user '" + security.user +
                    "' but no password: set " + env::lock_server_password +
                    ", or add password_file=FILE");
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
  std::string out(security && security->tls ? tls_scheme : scheme);
  for (std::size_t i = 0; i < endpoints.size(); ++i) out += (i ? "," : "") + endpoints[i].text();
  out += prefix;
  if (ttl) out += "?ttl=" + number_text(*ttl);
  if (timeout) out += std::string(ttl ? "&" : "?") + "timeout=" + number_text(*timeout);
  if (retention) {
    out += std::string(ttl || timeout ? "&" : "?") + "retention=" + number_text(*retention);
  }
  if (security) {  // files by name; the password never
    for (const auto& [name, value] :
         {std::pair<const char*, const std::string&>{"ca", security->ca_file},
          {"cert", security->cert_file},
          {"key", security->key_file},
          {"user", security->user},
          {"password_file", security->password_file}}) {
      if (value.empty()) continue;
      out += (out.find('?') == std::string::npos ? "?" : "&") + std::string(name) + "=" + value;
    }
  }
  return out;
}

etcd_uri parse_etcd_uri(const std::string& uri) {
  auto security = std::make_shared<etcd_security>();
  security->tls = uri.compare(0, tls_scheme.size(), tls_scheme) == 0;
  const std::size_t begin = security->tls ? tls_scheme.size() : scheme.size();
  if (!security->tls && uri.compare(0, scheme.size(), scheme) != 0) {
    bad_uri(uri, "it must start with etcd:// (or etcds:// for TLS)");
  }
  const auto question = uri.find('?');
  const std::string rest = uri.substr(begin, question - begin);
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
  if (question != std::string::npos) {
    parse_parameters(uri, uri.substr(question + 1), out, *security);
  }
  check_security(uri, *security);
  out.security = security;
  for (auto& endpoint : out.endpoints) endpoint.security = security;
  return out;
}

}  // namespace gtest_lockable::detail
