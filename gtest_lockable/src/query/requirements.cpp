#include "gtest_lockable/requirements.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/query.hpp"
#include "src/util/json.hpp"

namespace gtest_lockable {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& what) {
  throw error(errc::invalid_requirements, "invalid requirements: " + what);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

json parse_value(std::string_view v) {
  if (iequals(v, "true")) return true;
  if (iequals(v, "false")) return false;
  return std::string(v);
}

// `a.b=1&c=2`: dotted keys nest, as py-lockable's parser does.
json parse_key_values(std::string_view text) {
  json out = json::object();
  while (true) {
    const auto amp = text.find('&');
    const std::string_view part = text.substr(0, amp);
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) {
      fail("'" + std::string(part) + "' has no '=' (write key=value&key2=value2 or a JSON object)");
    }
    const std::string_view key = part.substr(0, eq);
    const std::string_view value = part.substr(eq + 1);
    if (key.empty()) fail("'" + std::string(part) + "' has an empty key");
    if (value.empty()) fail("'" + std::string(part) + "' has an empty value");
    json* node = &out;
    std::string_view rest = key;
    while (true) {
      const auto dot = rest.find('.');
      const std::string segment(rest.substr(0, dot));
      if (segment.empty()) fail("key '" + std::string(key) + "' has an empty path segment");
      if (dot == std::string_view::npos) {
        (*node)[segment] = parse_value(value);
        break;
      }
      json& child = (*node)[segment];
      if (!child.is_null() && !child.is_object()) {
        fail("key '" + std::string(key) + "' nests under '" + segment + "', which has a value");
      }
      node = &child;
      rest.remove_prefix(dot + 1);
    }
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace

json parse_requirements(std::string_view text) {
  text = trim(text);
  if (text.empty()) return json::object();
  if (text.front() == '{' || text.front() == '[' || text.front() == '"') {
    json parsed;
    try {
      parsed = json::parse(text);
    } catch (const json::exception& e) {  // parse_error, and out_of_range for 1e999
      fail("bad JSON: " + detail::json_error_reason(e));
    }
    if (!parsed.is_object()) fail("JSON must be an object, got " + std::string(parsed.type_name()));
    // Here, before any caller copies it: a copy of JSON this deep would overflow the stack.
    query::check_depth(parsed);
    return parsed;
  }
  json parsed = parse_key_values(text);  // `a.a.a...=1` nests once per dot
  query::check_depth(parsed);
  return parsed;
}

lock_requirements::lock_requirements(std::string_view text) : owned_(parse_requirements(text)) {}

json with_defaults(json requirements, const std::string& hostname) {
  if (!requirements.is_object()) {
    fail("must be a JSON object, got " + std::string(requirements.type_name()));
  }
  json merged = {{"hostname", hostname}, {"online", true}};
  for (auto& [key, value] : requirements.items()) merged[key] = std::move(value);
  // As py-lockable: a null removes only these defaults. Any other null stays in the query, an
  // equality with null (the field exists and is null), as py-lockable's matcher reads it.
  for (const char* removable : {"hostname", "online"}) {
    if (merged[removable].is_null()) merged.erase(removable);
  }
  return merged;
}

std::string this_hostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

}  // namespace gtest_lockable
