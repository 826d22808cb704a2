// The resource as environment variables, py-lockable style (`ID`, `HOSTNAME`, ...), plus ours.
#include "gtest_lockable/internal/resource_env.hpp"

#include <unordered_map>
#include <unordered_set>

#include "gtest_lockable/env.hpp"
#include "gtest_lockable/internal/json.hpp"

namespace gtest_lockable::internal {
namespace {

using nlohmann::json;

bool is_name_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// Variables in order of first appearance; setting a name again replaces its value. Indexed, so
// that a resource with very many fields (a fuzzer's) stays linear.
class variable_list {
 public:
  void set(std::string name, std::string value) {
    const auto [it, added] = index_.try_emplace(name, list_.size());
    if (added) {
      list_.emplace_back(std::move(name), std::move(value));
    } else {
      list_[it->second].second = std::move(value);
    }
  }
  std::vector<variable> take() { return std::move(list_); }

 private:
  std::vector<variable> list_;
  std::unordered_map<std::string, std::size_t> index_;
};

}  // namespace

std::string variable_name(std::string_view key) {
  std::string name;
  name.reserve(key.size() + 1);
  for (const char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c & 0xC0) == 0x80) continue;  // a UTF-8 continuation byte: its character is already `_`
    if (!is_name_char(c)) {
      name += '_';
    } else {
      name += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : static_cast<char>(c);
    }
  }
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) name.insert(0, 1, '_');
  return name;
}

std::vector<variable> resource_variables(const json& resource_info, std::string_view resource_id,
                                         std::string_view alloc_id) {
  variable_list out;
  if (resource_info.is_object()) {
    for (const auto& [key, value] : resource_info.items()) {
      // A NUL cannot travel in an environment string; JSON escapes it instead of cutting it off.
      const bool plain =
          value.is_string() && value.get_ref<const std::string&>().find('\0') == std::string::npos;
      out.set(variable_name(key), plain ? value.get<std::string>() : detail::json_text(value));
    }
  }
  out.set(env::resource_id, std::string(resource_id));
  out.set(env::resource_info, detail::json_text(resource_info));
  out.set(env::alloc_id, std::string(alloc_id));
  return out.take();
}

std::vector<std::string> merge_environment(const char* const* environment,
                                           const std::vector<variable>& variables) {
  std::unordered_set<std::string_view> names;
  for (const auto& v : variables) names.insert(v.first);
  std::vector<std::string> out;
  for (const char* const* entry = environment; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::string_view name = text.substr(0, text.find('='));
    if (names.count(name) == 0) out.emplace_back(text);
  }
  for (const auto& [name, value] : variables) out.push_back(name + "=" + value);
  return out;
}

}  // namespace gtest_lockable::internal
