#include "gtest_lockable/requirements.hpp"

#include <gtest/gtest.h>

#include "gtest_lockable/error.hpp"

namespace gtest_lockable {
namespace {

using nlohmann::json;

std::string error_of(std::string_view text) {
  try {
    parse_requirements(text);
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_requirements);
    return e.what();
  }
  return "(no error)";
}

TEST(requirements_test, empty_text_means_no_requirements) {
  EXPECT_EQ(parse_requirements(""), json::object());
  EXPECT_EQ(parse_requirements("  \n"), json::object());
}

TEST(requirements_test, json_object_is_taken_as_is) {
  EXPECT_EQ(parse_requirements(R"({"os": "linux", "ram": {"$gte": 8}})"),
            json::parse(R"({"os": "linux", "ram": {"$gte": 8}})"));
}

TEST(requirements_test, key_values_split_on_ampersand) {
  EXPECT_EQ(parse_requirements("os=linux&type=board"), json({{"os", "linux"}, {"type", "board"}}));
}

// The GoogleTest plugin copied the parsed requirements of its flag before anything checked their
// depth: 60,000 levels crashed the test program. Both forms are checked as they are parsed.
TEST(requirements_test, nesting_deeper_than_a_query_may_be_is_refused) {
  const std::string too_deep =
      "invalid requirements: nested more than 100 levels deep (objects and arrays inside each "
      "other)";
  EXPECT_EQ(error_of(R"({"a": )" + std::string(100000, '[') + std::string(100000, ']') + "}"),
            too_deep);
  std::string dotted;
  for (int i = 0; i < 10000; ++i) dotted += "a.";
  EXPECT_EQ(error_of(dotted + "a=1"), too_deep);
  EXPECT_NO_THROW(
      parse_requirements(R"({"a": )" + std::string(99, '[') + std::string(99, ']') + "}"));
}

TEST(requirements_test, dotted_keys_nest) {
  EXPECT_EQ(parse_requirements("a.b=1&a.c=x&d=2"),
            json::parse(R"({"a": {"b": "1", "c": "x"}, "d": "2"})"));
}

TEST(requirements_test, true_and_false_in_any_case_become_booleans) {
  EXPECT_EQ(parse_requirements("online=TRUE&x=False&y=truely"),
            json({{"online", true}, {"x", false}, {"y", "truely"}}));
}

TEST(requirements_test, numbers_stay_strings_in_short_form) {
  EXPECT_EQ(parse_requirements("ram=8"), json({{"ram", "8"}}));
}

TEST(requirements_test, value_may_contain_equals_sign) {
  EXPECT_EQ(parse_requirements("args=a=b"), json({{"args", "a=b"}}));
}

TEST(requirements_test, errors_name_the_bad_part) {
  EXPECT_EQ(error_of("os=linux&board"),
            "invalid requirements: 'board' has no '=' (write key=value&key2=value2 or a JSON "
            "object)");
  EXPECT_EQ(error_of("os="), "invalid requirements: 'os=' has an empty value");
  EXPECT_EQ(error_of("=linux"), "invalid requirements: '=linux' has an empty key");
  EXPECT_EQ(error_of("a..b=1"), "invalid requirements: key 'a..b' has an empty path segment");
  EXPECT_EQ(error_of("a=1&a.b=2"),
            "invalid requirements: key 'a.b' nests under 'a', which has a value");
  EXPECT_EQ(error_of("[1, 2]"), "invalid requirements: JSON must be an object, got array");
  EXPECT_EQ(error_of("{\"a\": }"),
            "invalid requirements: bad JSON: parse error at line 1, column 7: syntax error while "
            "parsing value - unexpected '}'; expected '[', '{', or a literal");
}

// Found by fuzzing: nlohmann reports a number too large for a double as out_of_range.
TEST(requirements_test, number_overflow_is_an_error_not_a_crash) {
  EXPECT_EQ(error_of(R"({"ram": 1E57339})"),
            "invalid requirements: bad JSON: number overflow parsing '1E57339'");
}

TEST(requirements_test, defaults_add_hostname_and_online) {
  EXPECT_EQ(with_defaults(json::object(), "host1"),
            json({{"hostname", "host1"}, {"online", true}}));
}

TEST(requirements_test, given_values_override_defaults) {
  EXPECT_EQ(with_defaults({{"online", false}, {"os", "ios"}}, "host1"),
            json({{"hostname", "host1"}, {"online", false}, {"os", "ios"}}));
}

TEST(requirements_test, null_removes_a_default) {
  EXPECT_EQ(with_defaults({{"hostname", nullptr}}, "host1"), json({{"online", true}}));
  EXPECT_EQ(with_defaults({{"hostname", nullptr}, {"online", nullptr}}, "h"), json::object());
}

// py-lockable's rule: only the defaults' keys are removed by a null; any other null stays, for
// the matcher to compare with.
TEST(requirements_test, null_keeps_other_fields) {
  EXPECT_EQ(with_defaults({{"serial", nullptr}}, "h"),
            json({{"hostname", "h"}, {"online", true}, {"serial", nullptr}}));
  EXPECT_EQ(with_defaults({{"online", nullptr}, {"serial", nullptr}, {"os", "ios"}}, "h"),
            json({{"hostname", "h"}, {"os", "ios"}, {"serial", nullptr}}));
  // Nulls below the top level were never removed.
  EXPECT_EQ(with_defaults({{"hostname", nullptr}, {"board", {{"rev", nullptr}}}}, "h"),
            json({{"online", true}, {"board", {{"rev", nullptr}}}}));
}

TEST(requirements_test, this_hostname_is_not_empty) { EXPECT_FALSE(this_hostname().empty()); }

}  // namespace
}  // namespace gtest_lockable
