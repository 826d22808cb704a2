// The plugin's entry point (`init`), its state, and what test bodies read from it.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "declared.hpp"
#include "gtest_lockable/gtest.hpp"
#include "gtest_lockable/internal/ctest.hpp"
#include "gtest_lockable/internal/json.hpp"
#include "plugin_state.hpp"

namespace gtest_lockable {
namespace detail {

plugin_state& state() {
  static plugin_state* const instance = new plugin_state;  // never destroyed: see the header
  return *instance;
}

lockable& plugin_state::get_lockable() {
  std::lock_guard<std::mutex> guard(lockable_mutex);
  if (!locker) {
    const plugin_settings from = initialized ? settings : settings_from_environment();
    internal::lockable_hooks hooks;
    // Runs on the store's thread, during some test: record and count; the listener reports it.
    hooks.etcd.on_lost = [this](const std::string&, const std::string& reason) {
      {
        std::lock_guard<std::mutex> lost_guard(lost_mutex);
        lost_reasons.push_back(reason);
      }
      ++locks_lost;
    };
    hooks.on_wait = [](const std::string& line) { say(line); };
    hooks.on_warning = [](const std::string& line) { say(line); };
    locker = std::make_unique<lockable>(internal::make_lockable(from.values, std::move(hooks)));
  }
  return *locker;
}

std::string plugin_state::lost_since(std::size_t first) {
  std::lock_guard<std::mutex> guard(lost_mutex);
  std::string out;
  for (std::size_t i = first; i < lost_reasons.size(); ++i) {
    out += (out.empty() ? "" : "; ") + lost_reasons[i];
  }
  return out;
}

const assigned_resource* plugin_state::find(const std::string& name) const {
  const auto it = assigned.find(name);
  return it == assigned.end() ? nullptr : &it->second;
}

int list_requirements() {
  using nlohmann::json;
  const plugin_state& s = state();
  std::string problems;
  for (const auto& p : declaration_problems()) problems += (problems.empty() ? "" : "; ") + p;
  if (!s.settings.error.empty()) problems += (problems.empty() ? "" : "; ") + s.settings.error;
  if (!problems.empty()) {
    std::fprintf(stderr, "gtest_lockable: %s\n", problems.c_str());
    return 1;
  }
  const auto& values = s.settings.values;
  json tests = json::array();
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  const bool per_test = any_declared();
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& suite = *unit.GetTestSuite(i);
    for (int j = 0; j < suite.total_test_count(); ++j) {
      const ::testing::TestInfo& info = *suite.GetTestInfo(j);
      std::vector<need> needs =
          per_test ? needs_of(suite.name(), info.name(), s.settings.requirements)
                   : std::vector<need>{{"", s.settings.requirements, "program", ""}};
      json listed = json::array();
      for (const need& n : needs) {
        listed.push_back(
            {{"name", n.name},
             {"requirements", n.requirements},
             {"scope", n.scope},
             {"pool", internal::ctest_pool_name(values.resources.value, values.hostname.value,
                                                n.requirements)},
             {"declared", n.where}});
      }
      tests.push_back(
          {{"test", std::string(suite.name()) + "." + info.name()}, {"needs", std::move(listed)}});
    }
  }
  const json document = {{"version", 1},
                         {"per_test", per_test},
                         {"resources", values.resources.value},
                         {"hostname", values.hostname.value},
                         {"requirements", s.settings.requirements},
                         {"tests", std::move(tests)}};
  std::printf("%s\n", detail::json_text(document, 2).c_str());
  std::fflush(stdout);
  return 0;
}

void say(const std::string& line) {
  std::printf("[ LOCKABLE ] %s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace detail

void init(int* argc, char** argv) {
  if (argc == nullptr || argv == nullptr) return;
  ::testing::InitGoogleTest(argc, argv);  // does nothing when the program already called it
  detail::plugin_state& s = detail::state();
  bool list = false;  // --lockable_list_requirements: a mode, not a setting
  for (int i = 1; i < *argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) break;
    if (std::strcmp(argv[i], "--lockable_list_requirements") != 0) continue;
    list = true;
    std::memmove(argv + i, argv + i + 1, sizeof(char*) * static_cast<std::size_t>(*argc - i));
    --*argc;
    --i;
  }
  // Our flags are removed on every call, but the environment is registered once.
  detail::plugin_settings settings =
      *argc > 0 ? detail::parse_flags(argc, argv) : detail::settings_from_environment();
  if (detail::gtest_help_requested(*argc, argv)) {
    std::printf("%s", detail::flags_help().c_str());
    std::fflush(stdout);
  }
  s.settings = std::move(settings);
  if (list) std::exit(detail::list_requirements());  // like --gtest_list_tests: runs no test
  if (s.initialized) return;
  s.initialized = true;
  detail::register_plugin();
}

bool has_resource() { return !resource_id().empty(); }

const nlohmann::json& resource_info() { return resource_info(""); }

const nlohmann::json& resource_info(const std::string& name) {
  static const nlohmann::json none;
  const detail::assigned_resource* r = detail::state().find(name);
  return r != nullptr ? r->info : none;
}

const std::string& resource_id() { return resource_id(""); }

const std::string& resource_id(const std::string& name) {
  static const std::string none;
  const detail::assigned_resource* r = detail::state().find(name);
  return r != nullptr ? r->id : none;
}

const allocation* current_allocation() {
  const detail::assigned_resource* r = detail::state().find("");
  return r != nullptr ? r->lock : nullptr;
}

lockable& program_lockable() { return detail::state().get_lockable(); }

resource_test::resource_test() {
  const detail::plugin_state& s = detail::state();
  if (!s.assigned.empty() || HasFatalFailure() || IsSkipped()) return;
  const char* why =
      s.initialized && detail::any_declared()
          ? "this test uses gtest_lockable::resource_test, but neither it nor its "
            "suite declares a resource: add GTEST_LOCKABLE_REQUIRE(suite, "
            "\"requirements\")"
          : "this test uses gtest_lockable::resource_test, but the program holds no "
            "resource: link gtest_lockable::main, or call gtest_lockable::init(&argc, "
            "argv) in main";
  GTEST_MESSAGE_AT_("gtest_lockable", -1, why, ::testing::TestPartResult::kFatalFailure);
}

const gtest_lockable::allocation& resource_test::allocation() {
  static const gtest_lockable::allocation none;
  const gtest_lockable::allocation* held = current_allocation();
  return held != nullptr ? *held : none;
}

}  // namespace gtest_lockable
