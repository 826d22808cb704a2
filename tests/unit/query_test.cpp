#include "gtest_lockable/query.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace gtest_lockable
