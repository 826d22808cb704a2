#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gtest_lockable {

class query;

namespace detail {
struct query_node;
struct query_access;  // the library's own look at a compiled query
}  // namespace detail

/// A requirements object compiled once into a matcher that is then run against many resources.
///
/// The language is MongoDB's query language as py-lockable's matcher (the Python
/// `mongo-query-match` package) reads it; docs/inventory-and-requirements.md lists the operators and every
/// difference from MongoDB. In short: each top-level key is a dotted path into the resource
/// (`a.b.c`; a numeric part indexes an array, `tags.0`; other parts step into each element of an
/// array) and its value must equal the field, or be an object of conditions on it. A field that
/// is an array matches when the array or any element equals the value; an object value matches
/// an object field partially (each of its keys must match), as py-lockable does. A missing field
/// never equals a value, not even null. Operators: `$eq $ne $gt $gte $lt $lte $in $nin`,
/// `$and $or $nor $not`, `$exists $type`, `$regex $options $mod`, `$all $elemMatch $size`,
/// `$comment`. Regexes use RE2 syntax (no backreferences or lookaround).
///
/// Matching is thread-safe: a `query` can be shared by threads once built.
class query {
 public:
  /// The deepest nesting of objects and arrays a query may have (the top-level object is
  /// level 1). Deeper requirements are refused, so hostile input cannot exhaust the stack.
  static constexpr int max_depth = 100;

  /// Compiles `requirements` (a JSON object), regexes included. Throws `error`
  /// (`errc::invalid_requirements`) naming the operator or key and the reason when the query is
  /// malformed: an unknown operator, a wrong argument, an invalid regex, too deep nesting.
  explicit query(const nlohmann::json& requirements);
  ~query();
  query(query&&) noexcept;
  query& operator=(query&&) noexcept;

  /// Whether `resource` satisfies the requirements. Never throws.
  bool matches(const nlohmann::json& resource) const;

  /// Throws `error` (`errc::invalid_requirements`) when `requirements` nest deeper than
  /// `max_depth`. Does not recurse: call it before copying or printing untrusted requirements,
  /// since copying and `dump()` of nlohmann JSON recurse once per level.
  static void check_depth(const nlohmann::json& requirements);

 private:
  friend struct detail::query_access;
  std::unique_ptr<const detail::query_node> root_;
};

}  // namespace gtest_lockable
