// The plugin's side of the settings layer: its `--lockable_*` flags are read from argv here and
// resolved by the layer's one resolver, from the one table that also defines the command's
// options, so that the two front ends cannot disagree.
#include "flags.hpp"

#include <cstring>
#include <map>
#include <vector>

#include "gtest_lockable/error.hpp"

namespace gtest_lockable::detail {
namespace {

using internal::front_end;
using internal::setting_spec;
using internal::setting_specs;

constexpr const char* flag_prefix = "--lockable_";

// The setting whose flag is `flag` (`--lockable_timeout`), or null.
const setting_spec* find_flag(const std::string& flag) {
  for (const setting_spec& spec : setting_specs()) {
    if (spec.plugin.option != nullptr && flag == spec.plugin.option) return &spec;
  }
  return nullptr;
}

// Resolves `given` (setting name -> value) over the variables and defaults; appends every
// problem to `problems`.
plugin_settings resolve(const std::map<std::string, std::string>& given,
                        const internal::env_reader& getenv, std::vector<std::string> problems) {
  internal::resolution resolved = internal::resolve(front_end::plugin, given, getenv);
  plugin_settings settings;
  settings.values = std::move(resolved.values);
  for (const auto& problem : resolved.problems) problems.emplace_back(problem.what());
  try {
    settings.requirements = internal::parse_requirements_setting(settings.values.requirements);
  } catch (const error& e) {
    problems.emplace_back(e.what());
  }
  for (const auto& problem : problems) {
    settings.error += (settings.error.empty() ? "" : "; ") + problem;
  }
  return settings;
}

}  // namespace

plugin_settings parse_flags(int* argc, char** argv, const internal::env_reader& getenv) {
  std::map<std::string, std::string> given;
  std::vector<std::string> problems;
  int kept = 1;
  bool positional = false;  // after "--" nothing is a flag
  for (int i = 1; i < *argc; ++i) {
    const std::string arg = argv[i];
    if (positional || arg.rfind(flag_prefix, 0) != 0) {
      positional = positional || arg == "--";
      argv[kept++] = argv[i];
      continue;
    }
    const auto equals = arg.find('=');
    const setting_spec* spec = find_flag(arg.substr(0, equals));
    if (spec == nullptr) {
      problems.push_back("unknown flag '" + arg.substr(0, equals) +
                         "' (--help lists the --lockable_* flags)");
      continue;
    }
    if (equals != std::string::npos) {
      given[spec->name] = arg.substr(equals + 1);
    } else if (i + 1 < *argc) {
      given[spec->name] = argv[++i];
    } else {
      problems.push_back("flag '" + arg + "' needs a value (" + arg + "=VALUE)");
    }
  }
  argv[kept] = nullptr;
  *argc = kept;
  return resolve(given, getenv, std::move(problems));
}

plugin_settings settings_from_environment(const internal::env_reader& getenv) {
  return resolve({}, getenv, {});
}

std::string flags_help() {
  std::string text =
      "\nResource locking (gtest_lockable): one resource is locked before the first test\n"
      "and released after the last, or each test holds what it declares in code\n"
      "(GTEST_LOCKABLE_REQUIRE); each flag falls back to its environment variable.\n\n"
      "  --lockable_list_requirements\n" +
      internal::wrap("print what each test needs as one JSON document and exit; locks nothing, "
                     "reads no inventory",
                     6, 0);
  for (const setting_spec& spec : setting_specs()) {
    if (spec.plugin.option == nullptr) continue;
    // Laid out as GoogleTest lays out its own flags: the flag, then its text indented by 6.
    text += std::string("  ") + spec.plugin.option + "=" + spec.plugin.metavar + "\n" +
            internal::wrap(std::string(spec.help) + " [" + spec.variable + "; default: " +
                               internal::shown_default(spec, front_end::plugin) + "]",
                           6, 0);
  }
  return text;
}

bool gtest_help_requested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help") return true;
    std::string rest;
    for (const char* lead : {"--", "-", "/"}) {
      if (arg.rfind(lead, 0) == 0) {
        rest = arg.substr(std::strlen(lead));
        break;
      }
    }
    // InitGoogleTest removed the flags it knows, so a gtest-prefixed one left here is unknown,
    // which makes GoogleTest print its help and run nothing.
    if (rest.rfind("gtest_internal_", 0) == 0) continue;
    if (rest.rfind("gtest_", 0) == 0 || rest.rfind("gtest-", 0) == 0) return true;
  }
  return false;
}

}  // namespace gtest_lockable::detail
