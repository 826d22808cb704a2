#pragma once

// Internals of the query compiler, shared by query.cpp, operators.cpp and regex.cpp.
//
// A query compiles into a tree of nodes. Every leaf holds a pre-split path (from the root: the
// resource, or the element an $elemMatch is looking at) and a test on the values found there, so
// matching walks the resource without allocating. Nested condition objects are flattened at
// compile time: {"a": {"b": {"$gt": 1}}} becomes the leaf "a.b > 1".

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace gtest_lockable::detail {

using nlohmann::json;

/// One node of a compiled query: a predicate over the root it is given.
struct query_node {
  virtual ~query_node() = default;
  virtual bool matches(const json& root) const = 0;
  /// Appends strings that every root this node matches holds as a string value somewhere (an
  /// equality that must hold). Conservative: a node that cannot promise one adds nothing.
  virtual void required_strings(std::vector<std::string>&) const {}
};
using node_ptr = std::unique_ptr<const query_node>;
using node_list = std::vector<node_ptr>;

/// A path segment: an object key, and its value as an array index when it is all digits.
struct path_part {
  static constexpr std::size_t no_index = static_cast<std::size_t>(-1);
  std::string key;
  std::size_t index = no_index;
};
using path = std::vector<path_part>;

/// Path parts allowed in one (nested, flattened) path: bounds the traversal's recursion.
constexpr std::size_t max_path_parts = 100;

/// Where the compiler is: the path from the current root, and how to name it in messages.
struct scope {
  path at;
  std::string where;  // "ports.$elemMatch.speed"; empty at the root
};

/// Throws `error(errc::invalid_requirements, "invalid requirements: " + what)`.
[[noreturn]] void fail(const std::string& what);
/// Throws the error for operator `op` at `s`: "invalid requirements: $in at 'os': <reason>".
[[noreturn]] void fail_at(std::string_view op, const scope& s, const std::string& reason);
/// `text` in single quotes, shortened when long, for messages.
std::string in_quotes(std::string_view text);
/// A JSON value's type for messages ("string", "number", ...).
std::string type_of(const json& value);

/// Calls `f` on each value at `p[0..n)` under `node` until it returns true; returns whether it
/// did. A key steps into an object; on an array a numeric part indexes it and any other part
/// steps into every element (so "ports.speed" reaches each port's speed). Missing: no call.
template <class F>
bool any_at(const json& node, const path_part* p, const path_part* end, const F& f) {
  const json* at = &node;
  for (; p != end; ++p) {
    if (at->is_object()) {
      const auto it = at->find(p->key);
      if (it == at->end()) return false;
      at = &*it;
    } else if (at->is_array()) {
      if (p->index != path_part::no_index) {
        if (p->index >= at->size()) return false;
        at = &(*at)[p->index];
      } else {
        for (const auto& element : *at) {
          if (any_at(element, p, end, f)) return true;
        }
        return false;
      }
    } else {
      return false;
    }
  }
  return f(*at);
}

struct equals_test;

/// A leaf: `test` on the values at a path. With `Test::expand_arrays`, an array value also
/// matches when one of its elements passes (MongoDB's rule: {"tags": "usb"} finds "usb" in a
/// list); $size and $elemMatch look at the array itself instead.
template <class Test>
class field_node final : public query_node {
 public:
  field_node(path at, Test test) : at_(std::move(at)), test_(std::move(test)) {}
  void required_strings(std::vector<std::string>& out) const override {
    if constexpr (std::is_same_v<Test, equals_test>) {
      if (test_.value.is_string()) out.push_back(test_.value.template get<std::string>());
    }
  }
  bool matches(const json& root) const override {
    return any_at(root, at_.data(), at_.data() + at_.size(), [this](const json& value) {
      if (test_(value)) return true;
      if constexpr (Test::expand_arrays) {
        if (value.is_array()) {
          for (const auto& element : value) {
            if (test_(element)) return true;
          }
        }
      }
      return false;
    });
  }

 private:
  path at_;
  Test test_;
};

template <class Test>
node_ptr make_field(const scope& s, Test test) {
  return std::make_unique<field_node<Test>>(s.at, std::move(test));
}

/// How two numbers order: -1, 0, 1, or 2 when unordered (NaN). Integers compare exactly, also
/// beyond 2^63 (nlohmann's operators cast such unsigned values to signed); an integer and a
/// float compare as doubles.
int compare_numbers(const json& a, const json& b);

/// Deep equality of JSON values: numbers by value (8 == 8.0), true is not 1, object keys in any
/// order. Recursion is bounded by the shallower value, and query values are at most
/// `query::max_depth` deep.
bool same_value(const json& a, const json& b);

struct equals_test {
  static constexpr bool expand_arrays = true;
  json value;
  bool operator()(const json& v) const { return same_value(v, value); }
};

struct compiled_regex;

/// A compiled regular expression, searched (not anchored) in strings.
class regex {
 public:
  /// Compiles `pattern` with `options` (letters of "imsx"); fails naming `op` at `s`.
  regex(const std::string& pattern, const std::string& options, std::string_view op,
        const scope& s);
  bool search(const std::string& text) const;

 private:
  std::shared_ptr<const compiled_regex> re_;
  bool (*search_)(const compiled_regex*, const std::string&) noexcept = nullptr;
};

/// `text` written as "/pattern/flags" (as py-lockable's matcher reads it): sets `pattern` and
/// `flags` and returns true; otherwise returns false and `text` is the pattern itself.
bool split_slash_form(const std::string& text, std::string& pattern, std::string& flags);

struct regex_test {
  static constexpr bool expand_arrays = true;
  regex re;
  bool operator()(const json& v) const {
    return v.is_string() && re.search(v.get_ref<const std::string&>());
  }
};

/// Logical nodes.
node_ptr all_of(node_list children);
node_ptr any_of(node_list children);
node_ptr none_of(node_list children);
node_ptr negate(node_ptr child);

/// Compiles a condition object: `$` keys are operators on the value at `s`, other keys are
/// (dotted) paths below it. The top-level requirements are a condition object on the resource.
node_ptr compile_object(const json& object, const scope& s);
/// Compiles the value of a (non-logical) operator such as $gt or $regex found in `object`.
/// Returns nullptr for keys that another operator consumes ($options beside $regex).
node_ptr compile_operator(const std::string& op, const json& arg, const json& object,
                          const scope& s);

}  // namespace gtest_lockable::detail
