// One table defines every `--lockable_*` flag: its name, environment variable, default, help line
// and how its value is checked and stored. Parsing and `--help` both read the table, so they
// cannot disagree.
#include "flags.hpp"

#include <cstring>
#include <map>
#include <optional>
#include <vector>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/lock_store.hpp"
#include "gtest_lockable/requirements.hpp"
#include "gtest_lockable/settings.hpp"

namespace gtest_lockable::detail {
namespace {

constexpr const char* flag_prefix = "--lockable_";

struct flag {
  const char* name;        // after "--lockable_"
  const char* variable;    // environment fallback
  const char* value_name;  // shown in help
  std::string (*default_value)();
  const char* help;
  // Checks `value` (from `source`: the flag, the variable or "default") and stores it; throws
  // `error` with a message naming `source`.
  void (*store)(plugin_settings& settings, const std::string& value, const std::string& source);
};

const flag flags[] = {
    {"requirements", env::requirements, "REQUIREMENTS", [] { return std::string(); },
     "Requirements of the resource to lock: JSON ({\"type\": \"board\"}) or "
     "key=value&key2=value2. 'hostname' (this host) and 'online' (true) are added unless given; "
     "a JSON null removes them.",
     [](plugin_settings& s, const std::string& value, const std::string& source) {
       try {
         s.requirements = parse_requirements(value);
       } catch (const error& e) {
         throw error(e.code(), std::string(e.what()) + " (from " + source + ")");
       }
     }},
    {"resources", env::resources, "FILE", [] { return std::string("resources.json"); },
     "The inventory: a JSON file listing the resources.",
     [](plugin_settings& s, const std::string& value, const std::string& source) {
       if (value.empty()) {
         throw error(errc::invalid_argument,
                     source + " is empty: give the inventory file (e.g. resources.json)");
       }
       s.resources = value;
     }},
    {"lock_folder", env::lock_folder, "FOLDER", [] { return default_lock_folder(); },
     "The folder of lock files, shared with py-lockable on this host (created when missing).",
     [](plugin_settings& s, const std::string& value, const std::string&) {
       s.lock_folder = value.empty() ? default_lock_folder() : value;
     }},
    {"lock_server", env::lock_server, "URI", [] { return std::string(); },
     "Keep the locks in etcd instead of the lock folder, to share resources between hosts: "
     "etcd://HOST[:PORT][,HOST[:PORT]...][/PREFIX][?ttl=SECONDS]. If the lock is lost while "
     "held (etcd unreachable for longer than the TTL), the running and remaining tests fail.",
     [](plugin_settings& s, const std::string& value, const std::string&) {
       s.lock_server = value;
     }},
    {"timeout", env::timeout, "SECONDS", [] { return std::string("10"); },
     "How long to wait for a matching resource to become free (0: do not wait).",
     [](plugin_settings& s, const std::string& value, const std::string& source) {
       s.timeout = parse_timeout(value, source);
     }},
    {"hostname", env::hostname, "NAME", [] { return this_hostname(); },
     "The host name added to the requirements as 'hostname'.",
     [](plugin_settings& s, const std::string& value, const std::string&) { s.hostname = value; }},
    {"on_unavailable", env::on_unavailable, "fail|skip", [] { return std::string("fail"); },
     "When no resource matches or the timeout passes: fail every selected test (the program "
     "exits non-zero) or skip them. Bad flags or a bad inventory always fail.",
     [](plugin_settings& s, const std::string& value, const std::string& source) {
       if (value == "fail") {
         s.on_unavailable = unavailable_policy::fail;
       } else if (value == "skip") {
         s.on_unavailable = unavailable_policy::skip;
       } else {
         throw error(errc::invalid_argument,
                     "invalid value '" + value + "' from " + source + ": give fail or skip");
       }
     }},
};

const flag* find_flag(const std::string& name) {
  for (const flag& f : flags) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

// Fills `settings` from `given` (flag name -> value), then variables, then defaults.
void resolve(plugin_settings& settings, const std::map<std::string, std::string>& given,
             std::vector<std::string>& problems) {
  for (const flag& f : flags) {
    std::string value;
    std::string source;
    if (const auto it = given.find(f.name); it != given.end()) {
      value = it->second;
      source = std::string(flag_prefix) + f.name;
    } else if (const auto from_env = env_value(f.variable)) {
      value = *from_env;
      source = f.variable;
    } else {
      value = f.default_value();
      source = "the default";
    }
    try {
      f.store(settings, value, source);
    } catch (const std::exception& e) {
      problems.emplace_back(e.what());
    }
  }
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : "; ") + part;
  return out;
}

// `text` as lines of at most 80 columns indented by 6, as GoogleTest's help is laid out.
std::string wrapped(const std::string& text) {
  const std::string indent(6, ' ');
  std::string out;
  std::string line;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (!line.empty() && indent.size() + line.size() + 1 + word.size() > 80) {
      out += indent + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    start = end + 1;
  }
  if (!line.empty()) out += indent + line + "\n";
  return out;
}

}  // namespace

plugin_settings parse_flags(int* argc, char** argv) {
  std::map<std::string, std::string> given;
  std::vector<std::string> problems;
  const std::size_t prefix_length = std::strlen(flag_prefix);
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
    const std::string name = equals == std::string::npos
                                 ? arg.substr(prefix_length)
                                 : arg.substr(prefix_length, equals - prefix_length);
    if (find_flag(name) == nullptr) {
      problems.push_back("unknown flag '" + arg.substr(0, equals) +
                         "' (--help lists the --lockable_* flags)");
      continue;
    }
    if (equals != std::string::npos) {
      given[name] = arg.substr(equals + 1);
    } else if (i + 1 < *argc) {
      given[name] = argv[++i];
    } else {
      problems.push_back("flag '" + arg + "' needs a value (" + arg + "=VALUE)");
    }
  }
  argv[kept] = nullptr;
  *argc = kept;
  plugin_settings settings;
  resolve(settings, given, problems);
  settings.error = join(problems);
  return settings;
}

plugin_settings settings_from_environment() {
  plugin_settings settings;
  std::vector<std::string> problems;
  resolve(settings, {}, problems);
  settings.error = join(problems);
  return settings;
}

std::string flags_help() {
  std::string text =
      "\nResource locking (gtest_lockable): one resource is locked before the first test\n"
      "and released after the last; each flag falls back to its environment variable.\n\n";
  for (const flag& f : flags) {
    const std::string value = f.default_value();
    text += "  " + std::string(flag_prefix) + f.name + "=" + f.value_name + "\n" +
            wrapped(std::string(f.help) + " [" + f.variable +
                    "; default: " + (value.empty() ? "none" : "'" + value + "'") + "]");
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
