// The plugin's --lockable_* flags, parsed in-process (the integration tests run whole programs).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "gtest/flags.hpp"
#include "gtest_lockable/lock_store.hpp"

namespace gtest_lockable::detail {
namespace {

class plugin_flags_test : public ::testing::Test {
 protected:
  // Parses `args` (after a program name) under `env_`; what stays in argv goes to `left_`.
  plugin_settings parse(std::vector<std::string> args) {
    args.insert(args.begin(), "probe");
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int argc = static_cast<int>(args.size());
    const plugin_settings settings =
        parse_flags(&argc, argv.data(), [this](const char* name) -> std::optional<std::string> {
          const auto it = env_.find(name);
          if (it == env_.end()) return std::nullopt;
          return it->second;
        });
    EXPECT_EQ(argv[static_cast<std::size_t>(argc)], nullptr);
    left_.assign(argv.begin() + 1, argv.begin() + argc);
    return settings;
  }

  std::map<std::string, std::string> env_;
  std::vector<std::string> left_;
};

TEST_F(plugin_flags_test, defaults_are_pytest_lockables) {
  const auto s = parse({});
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.values.resources.value, "resources.json");
  EXPECT_EQ(s.values.lock_folder.value, default_lock_folder());
  EXPECT_DOUBLE_EQ(s.values.timeout.count(), 10.0);
  EXPECT_EQ(s.values.on_unavailable, unavailable_policy::fail);
  EXPECT_EQ(s.requirements, nlohmann::json::object());
}

TEST_F(plugin_flags_test, flag_beats_variable_beats_default) {
  env_ = {{"LOCKABLE_RESOURCES", "env.json"},
          {"LOCKABLE_TIMEOUT", "bad"},
          {"LOCKABLE_HOSTNAME", "envhost"},
          {"LOCKABLE_REQUIREMENTS", "type=b"}};
  const auto s = parse({"--lockable_timeout=0.5", "--lockable_hostname", "h"});
  EXPECT_EQ(s.error, "") << "a bad variable that a flag overrides is fine";
  EXPECT_DOUBLE_EQ(s.values.timeout.count(), 0.5);
  EXPECT_EQ(s.values.hostname.value, "h");
  EXPECT_EQ(s.values.hostname.source, "--lockable_hostname");
  EXPECT_EQ(s.values.resources.value, "env.json");
  EXPECT_EQ(s.values.resources.source, "LOCKABLE_RESOURCES");
  EXPECT_EQ(s.requirements, nlohmann::json({{"type", "b"}}));
}

TEST_F(plugin_flags_test, empty_variable_counts_as_unset) {
  env_ = {{"LOCKABLE_TIMEOUT", ""}, {"LOCKABLE_RESOURCES", ""}, {"LOCKABLE_ON_UNAVAILABLE", ""}};
  const auto s = parse({});
  EXPECT_EQ(s.error, "");
  EXPECT_DOUBLE_EQ(s.values.timeout.count(), 10.0);
  EXPECT_EQ(s.values.resources.value, "resources.json");
}

TEST_F(plugin_flags_test, our_flags_are_removed_up_to_double_dash) {
  const auto s = parse({"--lockable_requirements", "type=b", "mine", "--gtest_filter=x",
                        "--lockable_timeout=0", "--", "--lockable_x"});
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(left_, (std::vector<std::string>{"mine", "--gtest_filter=x", "--", "--lockable_x"}));
  EXPECT_DOUBLE_EQ(s.values.timeout.count(), 0.0);
}

TEST_F(plugin_flags_test, every_problem_is_reported_in_one_line) {
  env_ = {{"LOCKABLE_TIMEOUT", "-1"}};
  const auto s = parse({"--lockable_nonsense=1", "--lockable_on_unavailable=maybe",
                        "--lockable_requirements=type", "--lockable_resources="});
  EXPECT_NE(s.error.find("unknown flag '--lockable_nonsense' (--help lists the --lockable_* "
                         "flags)"),
            std::string::npos)
      << s.error;
  EXPECT_NE(s.error.find("invalid timeout '-1' from LOCKABLE_TIMEOUT"), std::string::npos);
  EXPECT_NE(s.error.find("invalid value 'maybe' from --lockable_on_unavailable: give fail or skip"),
            std::string::npos);
  EXPECT_NE(s.error.find("--lockable_requirements: invalid requirements"), std::string::npos);
  EXPECT_NE(s.error.find("--lockable_resources is empty"), std::string::npos);
  EXPECT_EQ(s.error.find('\n'), std::string::npos);
}

TEST_F(plugin_flags_test, flag_without_value) {
  EXPECT_EQ(parse({"--lockable_timeout"}).error,
            "flag '--lockable_timeout' needs a value (--lockable_timeout=VALUE)");
}

TEST_F(plugin_flags_test, help_lists_every_flag_with_its_variable_within_80_columns) {
  const std::string text = flags_help();
  for (const char* name : {"requirements", "resources", "lock_folder", "lock_server", "timeout",
                           "hostname", "on_unavailable"}) {
    EXPECT_NE(text.find(std::string("--lockable_") + name + "="), std::string::npos) << name;
  }
  EXPECT_NE(text.find("[LOCKABLE_TIMEOUT; default: 10]"), std::string::npos) << text;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    EXPECT_LE(end - start, 80u) << text.substr(start, end - start);
    start = end + 1;
  }
}

}  // namespace
}  // namespace gtest_lockable::detail
