// libFuzzer target: a resource's fields exported as the command's environment (the lockable
// command's export_env.hpp). Input that starts with '{' is a JSON resource; any other input is
// raw fields, "key\0value\0key\0value...", whose bytes need not be UTF-8, as a resource built in
// memory may hold. Besides crashes, it checks what a shell and execve rely on: every name is
// [A-Z0-9_]+ and starts with no digit, no name or value holds a NUL, names are unique, and ours
// win over fields of the same names.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "cli/export_env.hpp"
#include "gtest_lockable/error.hpp"
#include "gtest_lockable/query.hpp"

namespace {

using nlohmann::json;

void expect(bool condition) {
  if (!condition) std::abort();
}

json resource_from(std::string_view input) {
  if (!input.empty() && input.front() == '{') return json::parse(input, nullptr, false);
  json out = json::object();
  while (!input.empty()) {
    const auto key_end = input.find('\0');
    const std::string key(input.substr(0, key_end));
    input.remove_prefix(key_end == std::string_view::npos ? input.size() : key_end + 1);
    const auto value_end = input.find('\0');
    out[key] = std::string(input.substr(0, value_end));
    input.remove_prefix(value_end == std::string_view::npos ? input.size() : value_end + 1);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const json resource = resource_from(input);
  if (resource.is_discarded()) return 0;
  try {
    // What an inventory may hold: entries nested deeper are refused when it is loaded.
    gtest_lockable::query::check_depth(resource);
  } catch (const gtest_lockable::error&) {
    return 0;
  }
  const auto vars = gtest_lockable::cli::resource_variables(resource, "id\xff", "alloc");
  std::set<std::string> names;
  int ours = 0;
  for (const auto& [name, value] : vars) {
    expect(!name.empty() && (name[0] < '0' || name[0] > '9'));
    for (const char c : name) {
      expect((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
    }
    expect(value.find('\0') == std::string::npos);
    expect(names.insert(name).second);
    if (name == "LOCKABLE_RESOURCE_ID") ours += value == "id\xff";
    if (name == "LOCKABLE_ALLOC_ID") ours += value == "alloc";
  }
  expect(ours == 2);
  const char* const environment[] = {"PATH=/bin", "ID=old", "NOEQUALS", nullptr};
  const auto merged = gtest_lockable::cli::merge_environment(environment, vars);
  std::set<std::string> merged_names;
  for (const auto& entry : merged) {
    expect(entry == "NOEQUALS" || merged_names.insert(entry.substr(0, entry.find('='))).second);
  }
  expect(merged.size() >= vars.size() && merged_names.count("LOCKABLE_ALLOC_ID") == 1);
  return 0;
}
