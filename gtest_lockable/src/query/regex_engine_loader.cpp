#include <cstring>
#include <string>

#include "gtest_lockable/env.hpp"
#include "gtest_lockable/error.hpp"
#include "src/modules/loader.hpp"
#include "src/query/regex_engine.hpp"

namespace gtest_lockable::detail {
namespace {

struct loaded_engine {
  const regex_engine* engine = nullptr;
  std::string problem;
};

loaded_engine load() {
  const module_location where{"regex support", env::regex_module, GTEST_LOCKABLE_REGEX_MODULE_NAME,
                              GTEST_LOCKABLE_REGEX_MODULE_BUILD_PATH,
                              GTEST_LOCKABLE_REGEX_MODULE_INSTALL_PATH};
  loaded_engine out;
  load_module(
      where, regex_engine_symbol,
      [&](void* found) {
        using entry_point = const regex_engine* (*)();
        entry_point entry = nullptr;
        std::memcpy(&entry, &found, sizeof entry);  // object to function pointer, as POSIX allows
        const regex_engine* engine = entry != nullptr ? entry() : nullptr;
        if (engine == nullptr || std::strcmp(engine->abi, GTEST_LOCKABLE_REGEX_ENGINE_ABI) != 0) {
          return false;
        }
        out.engine = engine;
        return true;
      },
      out.problem);
  return out;
}

}  // namespace

const regex_engine& load_regex_engine() {
  // Loaded once per process and never unloaded; a failure is remembered too.
  static const loaded_engine loaded = load();
  if (loaded.engine == nullptr) throw error(errc::invalid_requirements, loaded.problem);
  return *loaded.engine;
}

}  // namespace gtest_lockable::detail
