#pragma once

// The requirements that tests declare in code (GTEST_LOCKABLE_REQUIRE and friends), internal to
// the plugin: recorded at static-initialisation time, read when the tests run.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gtest_lockable::detail {

/// One resource a test needs.
struct need {
  std::string name;  ///< "" for the test's resource, else the name `resource_info(name)` takes.
  nlohmann::json requirements;  ///< As declared, narrowed by `--lockable_requirements`.
  /// Where it is held: "suite" (from the suite's first selected test to its last), "test" (for
  /// that test only) or "program" (no declarations: one resource for the whole program).
  const char* scope;
  std::string where;  ///< The declaring macro's file:line; empty for "program".
};

/// Whether any test declares requirements; if not, the program holds one resource as before.
bool any_declared();

/// Every problem with the declarations (bad requirements text, a name declared twice), each
/// naming the macro's file and line; empty when there is none.
const std::vector<std::string>& declaration_problems();

/// What the test `test` of suite `suite` (GoogleTest's names, `Inst/suite` and `test/0` for
/// parameterized tests) needs, by name: its suite's declarations, where the test's own replace
/// those of the same name. Each is narrowed by `flag` (the `--lockable_requirements`).
std::vector<need> needs_of(const std::string& suite, const std::string& test,
                           const nlohmann::json& flag);

/// `code` narrowed by `flag`: a resource must match both. The union of the keys when they are
/// disjoint (as py-lockable's requirements read), else `{"$and": [code, flag]}`.
nlohmann::json narrowed(const nlohmann::json& code, const nlohmann::json& flag);

}  // namespace gtest_lockable::detail
