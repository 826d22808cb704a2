#include <gtest/gtest.h>

#include "cli/export_env.hpp"

namespace gtest_lockable::cli {
namespace {

using nlohmann::json;

std::string value_of(const std::vector<variable>& vars, const std::string& name) {
  for (const auto& [n, v] : vars) {
    if (n == name) return v;
  }
  ADD_FAILURE() << name << " not exported";
  return {};
}

TEST(cli_export_env_test, names_are_upper_cased_with_invalid_characters_turned_into_underscores) {
  EXPECT_EQ(variable_name("id"), "ID");
  EXPECT_EQ(variable_name("serial_No2"), "SERIAL_NO2");
  EXPECT_EQ(variable_name("weird-key.x y"), "WEIRD_KEY_X_Y");
  EXPECT_EQ(variable_name("1st"), "_1ST");
  EXPECT_EQ(variable_name(""), "_");
  EXPECT_EQ(variable_name("caf\xc3\xa9"), "CAF_") << "one multi-byte character, one underscore";
  EXPECT_EQ(variable_name(std::string("a\0b", 3)), "A_B");
}

TEST(cli_export_env_test, strings_are_exported_as_they_are_other_values_as_compact_json) {
  const json resource = {
      {"id", "b1"}, {"online", true},  {"ports", {22, 80}},     {"nested", {{"a", 1}}},
      {"count", 3}, {"none", nullptr}, {"text", "a \"b\" 'c'"}, {"nul", std::string("a\0b", 3)}};
  const auto vars = resource_variables(resource, "b1", "alloc-1");
  EXPECT_EQ(value_of(vars, "ID"), "b1");
  EXPECT_EQ(value_of(vars, "ONLINE"), "true");
  EXPECT_EQ(value_of(vars, "PORTS"), "[22,80]");
  EXPECT_EQ(value_of(vars, "NESTED"), "{\"a\":1}");
  EXPECT_EQ(value_of(vars, "COUNT"), "3");
  EXPECT_EQ(value_of(vars, "NONE"), "null");
  EXPECT_EQ(value_of(vars, "TEXT"), "a \"b\" 'c'");
  EXPECT_EQ(value_of(vars, "NUL"), "\"a\\u0000b\"") << "a NUL would cut the variable short";
  EXPECT_EQ(value_of(vars, "LOCKABLE_RESOURCE_ID"), "b1");
  EXPECT_EQ(json::parse(value_of(vars, "LOCKABLE_RESOURCE_INFO")), resource);
  EXPECT_EQ(value_of(vars, "LOCKABLE_ALLOC_ID"), "alloc-1");
}

TEST(cli_export_env_test, each_name_appears_once_and_ours_win) {
  const json resource = {{"a-b", "1"}, {"a_b", "2"}, {"lockable_resource_id", "fake"}};
  const auto vars = resource_variables(resource, "real", "x");
  std::size_t ab = 0;
  for (const auto& v : vars) ab += v.first == "A_B";
  EXPECT_EQ(ab, 1u);
  EXPECT_EQ(value_of(vars, "A_B"), "2") << "the last field in key order wins";
  EXPECT_EQ(value_of(vars, "LOCKABLE_RESOURCE_ID"), "real");
}

TEST(cli_export_env_test, never_throws_on_invalid_utf8_or_non_objects) {
  const json bad = {{"id", "x"}, {"name", std::string("\xff\xfe")}};
  std::vector<variable> vars;
  ASSERT_NO_THROW(vars = resource_variables(bad, "x", "y"));
  EXPECT_EQ(value_of(vars, "NAME"), "\xff\xfe") << "strings pass as bytes";
  EXPECT_NO_THROW(resource_variables(json::array({1, 2}), "x", "y"));
  EXPECT_EQ(resource_variables(json(), "x", "y").size(), 3u);
}

TEST(cli_export_env_test, merge_replaces_same_names_and_keeps_the_rest_in_order) {
  const char* environment[] = {"PATH=/bin", "ID=old", "NOEQUALS", "HOME=/root", nullptr};
  const auto merged = merge_environment(environment, {{"ID", "b1"}, {"NEW", "v"}});
  EXPECT_EQ(merged,
            (std::vector<std::string>{"PATH=/bin", "NOEQUALS", "HOME=/root", "ID=b1", "NEW=v"}));
  EXPECT_EQ(merge_environment(nullptr, {{"A", ""}}), std::vector<std::string>{"A="});
}

}  // namespace
}  // namespace gtest_lockable::cli
