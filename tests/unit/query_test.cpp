#include "gtest_lockable/query.hpp"

#include <gtest/gtest.h>

#include <string>

#include "gtest_lockable/error.hpp"

namespace gtest_lockable {
namespace {

using nlohmann::json;

bool match(const char* requirements, const char* resource) {
  return query(json::parse(requirements)).matches(json::parse(resource));
}

TEST(query_test, empty_query_matches_everything) { EXPECT_TRUE(match("{}", R"({"id": 1})")); }

TEST(query_test, field_equals_value) {
  EXPECT_TRUE(match(R"({"os": "linux"})", R"({"os": "linux"})"));
  EXPECT_FALSE(match(R"({"os": "linux"})", R"({"os": "windows"})"));
}

TEST(query_test, all_fields_must_match) {
  EXPECT_TRUE(match(R"({"os": "linux", "online": true})", R"({"os": "linux", "online": true})"));
  EXPECT_FALSE(match(R"({"os": "linux", "online": true})", R"({"os": "linux", "online": false})"));
}

TEST(query_test, missing_field_never_matches) {
  EXPECT_FALSE(match(R"({"os": "linux"})", R"({"id": 1})"));
  EXPECT_FALSE(match(R"({"os": null})", R"({"id": 1})"));
}

TEST(query_test, types_are_not_converted) {
  EXPECT_FALSE(match(R"({"ram": "8"})", R"({"ram": 8})"));
  EXPECT_FALSE(match(R"({"online": "true"})", R"({"online": true})"));
}

TEST(query_test, integers_and_floats_compare_by_value) {
  EXPECT_TRUE(match(R"({"ram": 8})", R"({"ram": 8.0})"));
}

TEST(query_test, dotted_path_reaches_nested_objects) {
  EXPECT_TRUE(match(R"({"a.b.c": 1})", R"({"a": {"b": {"c": 1}}})"));
  EXPECT_FALSE(match(R"({"a.b.c": 1})", R"({"a": {"b": {"c": 2}}})"));
  EXPECT_FALSE(match(R"({"a.b.c": 1})", R"({"a": {"b": 5}})"));
}

TEST(query_test, numeric_path_part_indexes_an_array) {
  EXPECT_TRUE(match(R"({"tags.1": "b"})", R"({"tags": ["a", "b"]})"));
  EXPECT_FALSE(match(R"({"tags.2": "b"})", R"({"tags": ["a", "b"]})"));
  EXPECT_FALSE(match(R"({"tags.99999999999999999999": "b"})", R"({"tags": ["a"]})"));
}

TEST(query_test, array_field_matches_when_any_element_equals) {
  EXPECT_TRUE(match(R"({"tags": "usb"})", R"({"tags": ["wifi", "usb"]})"));
  EXPECT_FALSE(match(R"({"tags": "eth"})", R"({"tags": ["wifi", "usb"]})"));
  EXPECT_TRUE(match(R"({"tags": ["wifi", "usb"]})", R"({"tags": ["wifi", "usb"]})"));
}

TEST(query_test, object_value_matches_object_field_partially) {
  EXPECT_TRUE(match(R"({"board": {"rev": 2}})", R"({"board": {"rev": 2, "vendor": "x"}})"));
  EXPECT_FALSE(match(R"({"board": {"rev": 3}})", R"({"board": {"rev": 2, "vendor": "x"}})"));
  EXPECT_TRUE(match(R"({"a": {"b": {"c": 1}}})", R"({"a": {"b": {"c": 1, "d": 2}}})"));
}

TEST(query_test, non_object_query_is_an_error) {
  try {
    query q(json::array());
    FAIL() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_requirements);
    EXPECT_STREQ(e.what(), "invalid requirements: must be a JSON object, got array");
  }
}

// `levels` objects inside each other: {"$not": {"$not": ... {"os": "linux"} ...}}.
std::string nested_nots(int levels) {
  std::string text;
  for (int i = 1; i < levels; ++i) text += R"({"$not": )";
  text += R"({"os": "linux"})";
  text.append(static_cast<std::size_t>(levels - 1), '}');
  return text;
}

std::string error_of(const json& requirements) {
  try {
    query q(requirements);
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_requirements);
    return e.what();
  }
  return "(no error)";
}

const char* const too_deep =
    "invalid requirements: nested more than 100 levels deep (objects and arrays inside each "
    "other)";

TEST(query_test, query_nested_at_the_depth_limit_works) {
  // 100 levels: 99 $not around the innermost object; an odd count of negations.
  const query q(json::parse(nested_nots(100)));
  EXPECT_FALSE(q.matches(json::parse(R"({"os": "linux"})")));
  EXPECT_TRUE(q.matches(json::parse(R"({"os": "ios"})")));
}

TEST(query_test, query_nested_10000_levels_is_refused_with_a_clear_error) {
  EXPECT_EQ(error_of(json::parse(nested_nots(101))), too_deep);
  EXPECT_EQ(error_of(json::parse(nested_nots(10000))), too_deep);
  // Deep values count too: an array 10,000 levels deep as an $eq value.
  const std::string deep_array = std::string(10000, '[') + std::string(10000, ']');
  EXPECT_EQ(error_of(json::parse(R"({"a": {"$eq": )" + deep_array + "}}")), too_deep);
  EXPECT_THROW(query::check_depth(json::parse(deep_array)), error);
  EXPECT_NO_THROW(query::check_depth(json::parse(R"({"a": [[1]]})")));
}

TEST(query_test, path_with_more_than_100_parts_is_refused) {
  std::string key = "a";
  for (int i = 0; i < 100; ++i) key += ".a";
  const std::string what = error_of(json{{key, 1}});
  EXPECT_EQ(what.rfind("invalid requirements: path 'a.a.a.a", 0), 0u) << what;
  EXPECT_NE(what.find("...' has more than 100 parts"), std::string::npos) << what;
}

TEST(query_test, resource_nested_20000_levels_is_matched_without_crashing) {
  // nlohmann parses and destroys iteratively; matching only walks the queried path.
  std::string text;
  for (int i = 0; i < 20000; ++i) text += R"({"a": )";
  text += "1";
  text.append(20000, '}');
  const json resource = json::parse(text);
  EXPECT_TRUE(query(json::parse(R"({"a.a.a": {"$exists": true}})")).matches(resource));
  EXPECT_FALSE(query(json::parse(R"({"a": {"$eq": {"a": 1}}})")).matches(resource));
  EXPECT_FALSE(query(json::parse(R"({"a": [[1]]})")).matches(resource));
}

TEST(query_test, regex_runs_in_linear_time_on_hostile_input) {
  // Backtracking engines take exponential time here; RE2 answers at once (a hang fails the test
  // through CTest's timeout).
  const json resource = {{"name", std::string(100000, 'a') + "!"}};
  EXPECT_FALSE(query(json::parse(R"({"name": {"$regex": "(a+)+$"}})")).matches(resource));
  EXPECT_FALSE(query(json::parse(R"({"name": {"$regex": "^(a|aa)*$"}})")).matches(resource));
  EXPECT_TRUE(query(json::parse(R"({"name": {"$regex": "^(a|aa)*!$"}})")).matches(resource));
  // A long input does not overflow the stack (std::regex recurses per character).
  const json long_text = {{"log", std::string(1 << 20, 'x') + "y"}};
  EXPECT_TRUE(query(json::parse(R"({"log": {"$regex": "^(x|z)*y"}})")).matches(long_text));
}

TEST(query_test, query_is_reusable_and_movable) {
  query q(json::parse(R"({"name": {"$regex": "^b"}, "n": {"$in": [1, 2]}})"));
  query moved = std::move(q);
  int hits = 0;
  for (int i = 0; i < 5; ++i) {
    hits += moved.matches({{"name", "board"}, {"n", i}}) ? 1 : 0;
  }
  EXPECT_EQ(hits, 2);
}

}  // namespace
}  // namespace gtest_lockable
