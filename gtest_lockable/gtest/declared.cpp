// The registry of requirements declared in code. The macros run before main, in any order of
// translation units, so the registry is built on first use and recording never throws: a bad
// declaration becomes a problem that fails the tests when they run, and that
// --lockable_list_requirements reports.
#include "declared.hpp"

#include <algorithm>
#include <map>
#include <string_view>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/gtest.hpp"
#include "gtest_lockable/requirements.hpp"

namespace gtest_lockable::detail {
namespace {

using nlohmann::json;

struct declaration {
  std::string suite;
  std::string test;  ///< Empty: the whole suite.
  std::string name;
  json requirements;
  std::string where;
};

struct registry {
  std::vector<declaration> declarations;
  std::vector<std::string> problems;
};

registry& declared() {
  static registry* const instance = new registry;  // outlives every static that declares
  return *instance;
}

// Whether GoogleTest's `full` name (`Inst/phone_test`, `pairs/3`) is the declared `name`: equal,
// or one of its `/`-separated parts.
bool names(std::string_view full, std::string_view name) {
  std::size_t start = 0;
  while (start <= full.size()) {
    const std::size_t end = std::min(full.find('/', start), full.size());
    if (full.substr(start, end - start) == name) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

bool declare_requirement(const char* suite, const char* test, const char* name,
                         const char* requirements, const char* file, int line) noexcept {
  try {
    registry& r = declared();
    declaration d{suite, test, name, json(), std::string(file) + ":" + std::to_string(line)};
    const std::string what =
        std::string(d.test.empty() ? "GTEST_LOCKABLE_REQUIRE" : "GTEST_LOCKABLE_REQUIRE_TEST") +
        "(" + d.suite + (d.test.empty() ? "" : ", " + d.test) +
        (d.name.empty() ? "" : ", \"" + d.name + "\"") + ") at " + d.where;
    try {
      d.requirements = parse_requirements(requirements);
    } catch (const error& e) {
      r.problems.push_back(what + ": " + e.what());
      return false;
    }
    for (const declaration& known : r.declarations) {
      if (known.suite == d.suite && known.test == d.test && known.name == d.name) {
        r.problems.push_back(what + ": " + (d.name.empty() ? "the resource" : "'" + d.name + "'") +
                             " is already declared at " + known.where +
                             "; give each resource of a test its own name");
        return false;
      }
    }
    r.declarations.push_back(std::move(d));
    return true;
  } catch (...) {  // out of memory before main: nothing sensible to report
    return false;
  }
}

bool any_declared() {
  const registry& r = declared();
  return !r.declarations.empty() || !r.problems.empty();
}

const std::vector<std::string>& declaration_problems() { return declared().problems; }

json narrowed(const json& code, const json& flag) {
  if (flag.empty()) return code;
  if (code.empty()) return flag;
  for (const auto& [key, value] : flag.items()) {
    if (code.contains(key)) return json{{"$and", json::array({code, flag})}};
  }
  json both = code;
  both.update(flag);
  return both;
}

std::vector<need> needs_of(const std::string& suite, const std::string& test, const json& flag) {
  std::map<std::string, need> by_name;
  // The suite's first, then the test's own, which replace the suite's of the same name.
  for (const bool own : {false, true}) {
    for (const declaration& d : declared().declarations) {
      if (d.test.empty() == own || !names(suite, d.suite)) continue;
      if (own && !names(test, d.test)) continue;
      by_name[d.name] =
          need{d.name, narrowed(d.requirements, flag), own ? "test" : "suite", d.where};
    }
  }
  std::vector<need> out;
  out.reserve(by_name.size());
  for (auto& [name, n] : by_name) out.push_back(std::move(n));
  return out;
}

}  // namespace gtest_lockable::detail
