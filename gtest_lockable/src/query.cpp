#include "gtest_lockable/query.hpp"

#include <string>
#include <vector>

#include "gtest_lockable/error.hpp"

namespace gtest_lockable {

using nlohmann::json;

namespace detail {

// A compiled query is a tree of nodes; each operator family adds node kinds here.
struct query_node {
  virtual ~query_node() = default;
  virtual bool matches(const json& document) const = 0;
};

}  // namespace detail

namespace {

using detail::query_node;

[[noreturn]] void fail(const std::string& what) {
  throw error(errc::invalid_requirements, "invalid requirements: " + what);
}

std::vector<std::string> split_path(const std::string& key) {
  std::vector<std::string> parts;
  std::string::size_type start = 0;
  while (true) {
    const auto dot = key.find('.', start);
    parts.push_back(key.substr(start, dot - start));
    if (parts.back().empty()) fail("key '" + key + "' has an empty path segment");
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

// The field at `path`, or nullptr when it is missing. A numeric segment indexes an array.
const json* resolve(const json& document, const std::vector<std::string>& path) {
  const json* node = &document;
  for (const auto& part : path) {
    if (node->is_object()) {
      const auto it = node->find(part);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array() && part.size() <= 9 &&
               part.find_first_not_of("0123456789") == std::string::npos) {
      const auto index = std::stoull(part);
      if (index >= node->size()) return nullptr;
      node = &(*node)[index];
    } else {
      return nullptr;
    }
  }
  return node;
}

// py-lockable's equality: an object value matches an object field partially (each of its keys
// matches), and a value matches an array field when it matches any element.
bool value_matches(const json& field, const json& value) {
  if (value.is_object() && field.is_object()) {
    for (const auto& [key, sub] : value.items()) {
      const auto it = field.find(key);
      if (it == field.end() || !value_matches(*it, sub)) return false;
    }
    return true;
  }
  if (field == value) return true;
  if (field.is_array() && !value.is_array()) {
    for (const auto& element : field) {
      if (value_matches(element, value)) return true;
    }
  }
  return false;
}

class equals_node final : public query_node {
 public:
  equals_node(std::vector<std::string> path, json value)
      : path_(std::move(path)), value_(std::move(value)) {}
  bool matches(const json& document) const override {
    const json* field = resolve(document, path_);
    return field != nullptr && value_matches(*field, value_);
  }

 private:
  std::vector<std::string> path_;
  json value_;
};

class and_node final : public query_node {
 public:
  explicit and_node(std::vector<std::unique_ptr<const query_node>> children)
      : children_(std::move(children)) {}
  bool matches(const json& document) const override {
    for (const auto& child : children_) {
      if (!child->matches(document)) return false;
    }
    return true;
  }

 private:
  std::vector<std::unique_ptr<const query_node>> children_;
};

std::unique_ptr<const query_node> compile(const json& requirements) {
  if (!requirements.is_object()) {
    fail("must be a JSON object, got " + std::string(requirements.type_name()));
  }
  std::vector<std::unique_ptr<const query_node>> children;
  for (const auto& [key, value] : requirements.items()) {
    if (!key.empty() && key[0] == '$') fail("unknown operator '" + key + "'");
    if (value.is_object()) {
      for (const auto& [sub, unused] : value.items()) {
        if (!sub.empty() && sub[0] == '$') fail("unknown operator '" + sub + "' in '" + key + "'");
      }
    }
    children.push_back(std::make_unique<equals_node>(split_path(key), value));
  }
  return std::make_unique<and_node>(std::move(children));
}

}  // namespace

query::query(const json& requirements) : root_(compile(requirements)) {}
query::~query() = default;
query::query(query&&) noexcept = default;
query& query::operator=(query&&) noexcept = default;

bool query::matches(const json& resource) const { return root_->matches(resource); }

}  // namespace gtest_lockable
