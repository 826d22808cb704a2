// The plugin's entry point (`init`), its state, and what test bodies read from it.
#include <cstdio>

#include "gtest_lockable/gtest.hpp"
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

void say(const std::string& line) {
  std::printf("[ LOCKABLE ] %s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace detail

void init(int* argc, char** argv) {
  if (argc == nullptr || argv == nullptr) return;
  ::testing::InitGoogleTest(argc, argv);  // does nothing when the program already called it
  detail::plugin_state& s = detail::state();
  // Our flags are removed on every call, but the environment is registered once.
  detail::plugin_settings settings =
      *argc > 0 ? detail::parse_flags(argc, argv) : detail::settings_from_environment();
  if (detail::gtest_help_requested(*argc, argv)) {
    std::printf("%s", detail::flags_help().c_str());
    std::fflush(stdout);
  }
  s.settings = std::move(settings);
  if (s.initialized) return;
  s.initialized = true;
  detail::register_plugin();
}

bool has_resource() { return !detail::state().resource_id.empty(); }

const nlohmann::json& resource_info() { return detail::state().resource_info; }

const std::string& resource_id() { return detail::state().resource_id; }

const allocation* current_allocation() { return detail::state().held.get(); }

lockable& program_lockable() { return detail::state().get_lockable(); }

resource_test::resource_test() {
  if (has_resource() || HasFatalFailure() || IsSkipped()) return;
  GTEST_MESSAGE_AT_("gtest_lockable", -1,
                    "this test uses gtest_lockable::resource_test, but the program holds no "
                    "resource: link gtest_lockable::main, or call gtest_lockable::init(&argc, "
                    "argv) in main",
                    ::testing::TestPartResult::kFatalFailure);
}

const gtest_lockable::allocation& resource_test::allocation() {
  static const gtest_lockable::allocation none;
  const gtest_lockable::allocation* held = current_allocation();
  return held != nullptr ? *held : none;
}

}  // namespace gtest_lockable
