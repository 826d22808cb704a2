#include <gtest/gtest.h>

#include <map>

#include "cli/options.hpp"
#include "gtest_lockable/error.hpp"

namespace gtest_lockable::cli {
namespace {

class cli_options_test : public ::testing::Test {
 protected:
  cli_options parse(std::vector<std::string> args) {
    return parse_options(args, [this](const char* name) -> std::optional<std::string> {
      const auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    });
  }

  std::string usage_error(std::vector<std::string> args) {
    try {
      parse(std::move(args));
    } catch (const error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument);
      return e.what();
    }
    ADD_FAILURE() << "accepted";
    return {};
  }

  std::map<std::string, std::string> env_;
};

TEST_F(cli_options_test, defaults_are_py_lockables) {
  const auto opts = parse({"cmd"});
  EXPECT_EQ(opts.what, mode::run);
  EXPECT_EQ(opts.requirements.value, "{}");
  EXPECT_EQ(opts.resources.value, "./resources.json");
  EXPECT_EQ(opts.lock_folder.value, ".");
  EXPECT_EQ(opts.hostname.value, "");
  EXPECT_DOUBLE_EQ(opts.timeout.count(), 1.0);
  EXPECT_EQ(opts.resources.source, "the default");
  EXPECT_EQ(opts.command, std::vector<std::string>{"cmd"});
}

TEST_F(cli_options_test, option_beats_variable_beats_default) {
  env_ = {{"LOCKABLE_RESOURCES", "env.json"},
          {"LOCKABLE_TIMEOUT", "bad"},
          {"LOCKABLE_HOSTNAME", "envhost"},
          {"LOCKABLE_LOCK_FOLDER", ""}};
  const auto opts = parse({"--timeout=0.5", "--hostname", "h", "x"});
  EXPECT_EQ(opts.resources.value, "env.json");
  EXPECT_EQ(opts.resources.source, "LOCKABLE_RESOURCES");
  EXPECT_EQ(opts.hostname.value, "h");
  EXPECT_EQ(opts.hostname.source, "--hostname");
  EXPECT_DOUBLE_EQ(opts.timeout.count(), 0.5) << "a bad variable that an option overrides is fine";
  EXPECT_EQ(opts.lock_folder.value, ".") << "an empty variable counts as unset";
}

TEST_F(cli_options_test, command_starts_at_double_dash_or_first_non_option) {
  EXPECT_EQ(parse({"--quiet", "--", "--list", "a"}).command,
            (std::vector<std::string>{"--list", "a"}));
  EXPECT_EQ(parse({"ls", "--quiet"}).command, (std::vector<std::string>{"ls", "--quiet"}));
  EXPECT_FALSE(parse({"ls", "--quiet"}).quiet);
  EXPECT_EQ(parse({"--requirements", "-x", "ls"}).requirements.value, "-x")
      << "a value may start with -";
}

TEST_F(cli_options_test, modes) {
  EXPECT_EQ(parse({"--list"}).what, mode::list);
  EXPECT_EQ(parse({"--status", "--json"}).what, mode::status);
  EXPECT_EQ(parse({"--validate-only"}).what, mode::validate);
  EXPECT_EQ(parse({"--list", "--help"}).what, mode::help);
  EXPECT_EQ(parse({"--version"}).what, mode::version);
}

TEST_F(cli_options_test, usage_errors_name_the_problem) {
  EXPECT_EQ(usage_error({"--nope", "x"}), "unknown option '--nope' (see lockable --help)");
  EXPECT_EQ(usage_error({"-x"}), "unknown option '-x' (see lockable --help)");
  EXPECT_EQ(usage_error({"--hostname"}),
            "option --hostname needs a value: --hostname NAME (see lockable --help)");
  EXPECT_EQ(usage_error({"--list=1"}), "option --list takes no value (see lockable --help)");
  EXPECT_EQ(usage_error({}),
            "missing command: lockable [options] [--] command [args...] (see lockable --help)");
  EXPECT_NE(usage_error({"--list", "cmd"}).find("take no command"), std::string::npos);
  EXPECT_NE(usage_error({"--list", "--validate-only"}).find("cannot be combined"),
            std::string::npos);
  EXPECT_NE(usage_error({"--json", "x"}).find("--json applies to --status, --history and --stats only"),
            std::string::npos);
  env_ = {{"LOCKABLE_TIMEOUT", "-1"}};
  EXPECT_NE(usage_error({"x"}).find("from LOCKABLE_TIMEOUT"), std::string::npos);
}

TEST_F(cli_options_test, help_fits_in_80_columns) {
  const std::string text = help_text();
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    EXPECT_LE(end - start, 80u) << text.substr(start, end - start);
    start = end + 1;
  }
}

}  // namespace
}  // namespace gtest_lockable::cli
