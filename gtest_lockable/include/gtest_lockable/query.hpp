#pragma once

#include <memory>
#include <nlohmann/json.hpp>

namespace gtest_lockable {

namespace detail {
struct query_node;
}

/// A requirements object compiled once into a matcher that is then run against many resources.
///
/// Each top-level key is a dotted path into the resource (`a.b.c`); its value must equal the
/// field. A field that is an array matches when any element equals the value; an object value
/// matches an object field when each of its keys matches (partially, recursively), as py-lockable
/// does. A missing field never equals a value.
class query {
 public:
  /// Compiles `requirements` (a JSON object). Throws `error` (`errc::invalid_requirements`)
  /// naming the offending key when the query is malformed.
  explicit query(const nlohmann::json& requirements);
  ~query();
  query(query&&) noexcept;
  query& operator=(query&&) noexcept;

  /// Whether `resource` satisfies the requirements.
  bool matches(const nlohmann::json& resource) const;

 private:
  std::unique_ptr<const detail::query_node> root_;
};

}  // namespace gtest_lockable
