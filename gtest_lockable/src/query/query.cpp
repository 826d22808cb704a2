#include "gtest_lockable/query.hpp"

#include <string>
#include <utility>
#include <vector>

#include "gtest_lockable/error.hpp"
#include "src/query/detail.hpp"
#include "src/query/hints.hpp"
#include "src/util/json.hpp"

namespace gtest_lockable {

namespace detail {

void fail(const std::string& what) {
  throw error(errc::invalid_requirements, "invalid requirements: " + what);
}

void fail_at(std::string_view op, const scope& s, const std::string& reason) {
  fail(std::string(op) + (s.where.empty() ? "" : " at " + in_quotes(s.where)) + ": " + reason);
}

std::string in_quotes(std::string_view text) {
  constexpr std::size_t longest = 80;
  if (text.size() <= longest) return "'" + std::string(text) + "'";
  return "'" + std::string(text.substr(0, longest)) + "...'";
}

std::string type_of(const json& value) {
  if (value.is_array() && value.empty()) return "an empty array";
  if (value.is_number() || value.is_boolean()) return value.dump();
  if (value.is_null()) return "null";
  return std::string(value.is_array() || value.is_object() ? "an " : "a ") + value.type_name();
}

namespace {

// $and (`all`: every child matches) and $or (some child does).
template <bool all>
class list_node final : public query_node {
 public:
  explicit list_node(node_list children) : children_(std::move(children)) {}
  void required_strings(std::vector<std::string>& out) const override {
    // A match of every child holds what each requires; a match of one child, nothing certain.
    if constexpr (all) {
      for (const auto& child : children_) child->required_strings(out);
    }
  }
  bool matches(const json& root) const override {
    for (const auto& child : children_) {
      if (child->matches(root) != all) return !all;
    }
    return all;
  }

 private:
  node_list children_;
};

class not_node final : public query_node {
 public:
  explicit not_node(node_ptr child) : child_(std::move(child)) {}
  bool matches(const json& root) const override { return !child_->matches(root); }

 private:
  node_ptr child_;
};

// "a.b.0" relative to `s`: each part must be non-empty; all-digit parts may index arrays.
scope below(const scope& s, const std::string& key) {
  scope out{s.at, s.where.empty() ? key : s.where + "." + key};
  std::string::size_type start = 0;
  while (true) {
    const auto dot = key.find('.', start);
    path_part part{key.substr(start, dot - start)};
    if (part.key.empty()) fail("key " + in_quotes(key) + " has an empty path segment");
    // At most 18 digits fit a size_t; longer ones can only be object keys.
    if (part.key.size() <= 18 && part.key.find_first_not_of("0123456789") == std::string::npos) {
      part.index = std::stoull(part.key);
    }
    out.at.push_back(std::move(part));
    if (out.at.size() > max_path_parts) {
      fail("path " + in_quotes(out.where) + " has more than " + std::to_string(max_path_parts) +
           " parts");
    }
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}

// $and, $or, $nor: a non-empty array of condition objects, each applied at `s`.
node_list compile_list(const std::string& op, const json& arg, const scope& s) {
  if (!arg.is_array() || arg.empty()) {
    fail_at(op, s, "needs a non-empty array of objects, got " + type_of(arg));
  }
  node_list out;
  for (std::size_t i = 0; i < arg.size(); ++i) {
    if (!arg[i].is_object()) {
      fail_at(op, s, "element " + std::to_string(i) + " is " + type_of(arg[i]) + ", not an object");
    }
    out.push_back(compile_object(arg[i], s));
  }
  return out;
}

// $not takes a condition object ({"$gt": 5}, or fields) or a regex written "/pattern/flags".
node_ptr compile_not(const json& arg, const scope& s) {
  if (arg.is_object()) {
    if (arg.empty()) fail_at("$not", s, "needs a non-empty object");
    return negate(compile_object(arg, s));
  }
  std::string pattern;
  std::string flags;
  if (arg.is_string() && split_slash_form(arg.get_ref<const std::string&>(), pattern, flags)) {
    return negate(make_field(s, regex_test{regex(pattern, flags, "$not", s)}));
  }
  fail_at("$not", s, "needs an object or a regex written \"/pattern/flags\", got " + type_of(arg));
}

}  // namespace

node_ptr all_of(node_list children) {
  if (children.size() == 1) return std::move(children.front());
  return std::make_unique<list_node<true>>(std::move(children));
}

node_ptr any_of(node_list children) {
  return std::make_unique<list_node<false>>(std::move(children));
}

node_ptr none_of(node_list children) { return negate(any_of(std::move(children))); }

node_ptr negate(node_ptr child) { return std::make_unique<not_node>(std::move(child)); }

node_ptr compile_object(const json& object, const scope& s) {
  node_list children;
  for (const auto& [key, value] : object.items()) {
    if (key.empty() || key.front() != '$') {
      const scope field = below(s, key);
      // An object value is a condition on the field, matched partially and recursively as
      // py-lockable does ({"board": {"rev": 2}} ignores the board's other keys).
      children.push_back(value.is_object() ? compile_object(value, field)
                                           : make_field(field, equals_test{value}));
    } else if (key == "$and") {
      children.push_back(all_of(compile_list(key, value, s)));
    } else if (key == "$or") {
      children.push_back(any_of(compile_list(key, value, s)));
    } else if (key == "$nor") {
      children.push_back(none_of(compile_list(key, value, s)));
    } else if (key == "$not") {
      children.push_back(compile_not(value, s));
    } else if (key != "$comment") {
      if (auto node = compile_operator(key, value, object, s)) children.push_back(std::move(node));
    }
  }
  return all_of(std::move(children));
}

}  // namespace detail

void query::check_depth(const nlohmann::json& requirements) {
  if (detail::nests_deeper_than(requirements, max_depth)) {
    detail::fail("nested more than " + std::to_string(max_depth) +
                 " levels deep (objects and arrays inside each other)");
  }
}

query::query(const nlohmann::json& requirements) {
  if (!requirements.is_object()) {
    detail::fail("must be a JSON object, got " + std::string(requirements.type_name()));
  }
  check_depth(requirements);
  root_ = detail::compile_object(requirements, detail::scope{});
}

query::~query() = default;
query::query(query&&) noexcept = default;
query& query::operator=(query&&) noexcept = default;

bool query::matches(const nlohmann::json& resource) const { return root_->matches(resource); }

struct detail::query_access {
  static const query_node& root(const query& q) { return *q.root_; }
};

std::vector<std::string> detail::required_strings(const query& q) {
  std::vector<std::string> out;
  query_access::root(q).required_strings(out);
  return out;
}

}  // namespace gtest_lockable
