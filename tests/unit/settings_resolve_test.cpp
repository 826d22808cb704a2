// The settings layer that both front ends share, called in-process with a fake environment.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "cli/options.hpp"
#include "gtest/flags.hpp"
#include "gtest_lockable/internal/settings.hpp"
#include "gtest_lockable/lock_store.hpp"

namespace gtest_lockable::internal {
namespace {

// An environment of exactly `vars`, as the resolver reads it.
env_reader fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// Every setting's variable set but empty: the variable must count as unset.
std::map<std::string, std::string> every_variable_empty() {
  std::map<std::string, std::string> vars;
  for (const setting_spec& spec : setting_specs()) vars[spec.variable] = "";
  return vars;
}

TEST(settings_resolve_test, every_setting_has_a_variable_and_a_face_in_some_front_end) {
  for (const setting_spec& spec : setting_specs()) {
    EXPECT_EQ(std::string(spec.variable).rfind("LOCKABLE_", 0), 0u) << spec.name;
    EXPECT_TRUE(spec.command.option != nullptr || spec.plugin.option != nullptr) << spec.name;
    if (spec.plugin.option != nullptr) {
      EXPECT_EQ(std::string(spec.plugin.option), std::string("--lockable_") + spec.name);
    }
  }
}

TEST(settings_resolve_test, defaults_differ_per_front_end_as_py_lockable_and_pytest_lockable) {
  const auto command = resolve(front_end::command, {}, fake_env({}));
  const auto plugin = resolve(front_end::plugin, {}, fake_env({}));
  ASSERT_TRUE(command.problems.empty());
  ASSERT_TRUE(plugin.problems.empty());
  EXPECT_DOUBLE_EQ(command.values.timeout.count(), 1.0);
  EXPECT_DOUBLE_EQ(plugin.values.timeout.count(), 10.0);
  EXPECT_EQ(command.values.resources.value, "./resources.json");
  EXPECT_EQ(plugin.values.resources.value, "resources.json");
  EXPECT_EQ(command.values.lock_folder.value, ".");
  EXPECT_EQ(plugin.values.lock_folder.value, default_lock_folder());
  EXPECT_EQ(command.values.resources.source, "the default");
  EXPECT_EQ(plugin.values.hostname.value, "") << "empty: the lockable uses this host's name";
}

TEST(settings_resolve_test, empty_variable_means_unset_in_both_front_ends) {
  for (const front_end which : {front_end::command, front_end::plugin}) {
    const auto empty = resolve(which, {}, fake_env(every_variable_empty()));
    const auto unset = resolve(which, {}, fake_env({}));
    EXPECT_TRUE(empty.problems.empty()) << empty.problems.front().what();
    EXPECT_DOUBLE_EQ(empty.values.timeout.count(), unset.values.timeout.count());
    EXPECT_EQ(empty.values.resources.value, unset.values.resources.value);
    EXPECT_EQ(empty.values.requirements.value, unset.values.requirements.value);
    EXPECT_EQ(empty.values.lock_folder.source, "the default");
  }
}

TEST(settings_resolve_test, empty_variable_means_unset_through_both_parsers) {
  const auto env = fake_env(every_variable_empty());
  const cli::cli_options command = cli::parse_options({"true"}, env);
  EXPECT_DOUBLE_EQ(command.timeout.count(), 1.0);
  EXPECT_EQ(command.resources.value, "./resources.json");

  char program[] = "test";
  char* argv[] = {program, nullptr};
  int argc = 1;
  const detail::plugin_settings plugin = detail::parse_flags(&argc, argv, env);
  EXPECT_EQ(plugin.error, "") << "LOCKABLE_TIMEOUT= used to fail every test";
  EXPECT_DOUBLE_EQ(plugin.values.timeout.count(), 10.0);
  EXPECT_EQ(plugin.values.resources.value, "resources.json");
}

TEST(settings_resolve_test, option_beats_variable_beats_default) {
  const auto env = fake_env({{"LOCKABLE_TIMEOUT", "3"}, {"LOCKABLE_RESOURCES", "env.json"}});
  for (const front_end which : {front_end::command, front_end::plugin}) {
    const auto r = resolve(which, {{"timeout", "0.5"}}, env);
    ASSERT_TRUE(r.problems.empty());
    EXPECT_DOUBLE_EQ(r.values.timeout.count(), 0.5);
    EXPECT_EQ(r.values.resources.value, "env.json");
    EXPECT_EQ(r.values.resources.source, "LOCKABLE_RESOURCES");
    EXPECT_EQ(r.values.requirements.source, "the default");
  }
}

TEST(settings_resolve_test, problems_name_their_source_in_one_wording) {
  const auto env = fake_env({{"LOCKABLE_TIMEOUT", "-1"}});
  const auto command = resolve(front_end::command, {}, env);
  const auto plugin = resolve(front_end::plugin, {}, env);
  ASSERT_EQ(command.problems.size(), 1u);
  ASSERT_EQ(plugin.problems.size(), 1u);
  const std::string expected =
      "invalid timeout '-1' from LOCKABLE_TIMEOUT: give seconds from 0 up (10, 0.5) or a number "
      "with a unit (90s, 15m, 2h)";
  EXPECT_EQ(command.problems[0].what(), expected);
  EXPECT_EQ(plugin.problems[0].what(), expected);
  EXPECT_DOUBLE_EQ(plugin.values.timeout.count(), 10.0) << "a bad value keeps the default";

  const auto flag = resolve(front_end::plugin, {{"timeout", "x"}}, fake_env({}));
  ASSERT_EQ(flag.problems.size(), 1u);
  EXPECT_NE(std::string(flag.problems[0].what()).find("from --lockable_timeout:"),
            std::string::npos);
  const auto option = resolve(front_end::command, {{"resources", ""}}, fake_env({}));
  ASSERT_EQ(option.problems.size(), 1u);
  EXPECT_EQ(std::string(option.problems[0].what()),
            "--resources is empty: give the inventory file (e.g. resources.json)");
}

TEST(settings_resolve_test, requirements_errors_start_with_their_source) {
  try {
    parse_requirements_setting({"type", "--lockable_requirements"});
    ADD_FAILURE() << "accepted";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_requirements);
    EXPECT_EQ(std::string(e.what()).rfind("--lockable_requirements: invalid requirements", 0), 0u)
        << e.what();
  }
  EXPECT_EQ(parse_requirements_setting({"type=a", "LOCKABLE_REQUIREMENTS"}),
            nlohmann::json({{"type", "a"}}));
}

TEST(settings_resolve_test, settings_of_one_front_end_are_not_read_by_the_other) {
  const auto env = fake_env({{"LOCKABLE_ON_UNAVAILABLE", "maybe"}});
  EXPECT_TRUE(resolve(front_end::command, {}, env).problems.empty());
  const auto plugin = resolve(front_end::plugin, {}, env);
  ASSERT_EQ(plugin.problems.size(), 1u);
  EXPECT_EQ(std::string(plugin.problems[0].what()),
            "invalid value 'maybe' from LOCKABLE_ON_UNAVAILABLE: give fail or skip");
  EXPECT_EQ(resolve(front_end::plugin, {{"on_unavailable", "skip"}}, env).values.on_unavailable,
            unavailable_policy::skip);
}

TEST(settings_resolve_test, hints_name_the_front_ends_option) {
  const error missing(errc::invalid_inventory, "cannot read 'x.json'", setting::resources);
  EXPECT_EQ(message_of(missing, front_end::command),
            "cannot read 'x.json' (give the inventory file with --resources)");
  EXPECT_EQ(message_of(missing, front_end::plugin),
            "cannot read 'x.json' (give the inventory file with --lockable_resources)");
  const error folder(errc::lock_store, "cannot write", setting::lock_folder);
  EXPECT_EQ(message_of(folder, front_end::plugin),
            "cannot write (choose a writable folder with --lockable_lock_folder)");
  EXPECT_EQ(message_of(error(errc::timeout, "timed out"), front_end::command), "timed out");
}

TEST(settings_resolve_test, wrap_breaks_between_words_and_indents_continuations) {
  EXPECT_EQ(wrap("aaa bbb ccc", 2, 0, 10), "  aaa bbb\n  ccc\n");
  EXPECT_EQ(wrap("aaa bbb", 4, 8, 12), "aaa\n    bbb\n") << "continues a longer first line";
  EXPECT_EQ(wrap("abcdefghijklmno x", 2, 2, 10), "abcdefghijklmno\n  x\n")
      << "a word longer than a line stays whole";
}

}  // namespace
}  // namespace gtest_lockable::internal
