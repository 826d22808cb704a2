#include "gtest_lockable/env.hpp"
#include "gtest_lockable/error.hpp"
#include "src/query/regex_engine.hpp"
#include "src/util/module_loader.hpp"

namespace gtest_lockable::detail {

const regex_engine& load_regex_engine() {
  // Loaded once per process and never unloaded; a failure is remembered too.
  static const auto loaded = load_module_table<regex_engine>(
      {"regex support", env::regex_module, GTEST_LOCKABLE_REGEX_MODULE_NAME,
       GTEST_LOCKABLE_REGEX_MODULE_BUILD_PATH, GTEST_LOCKABLE_REGEX_MODULE_INSTALL_PATH},
      regex_engine_symbol, GTEST_LOCKABLE_REGEX_ENGINE_ABI);
  return loaded.get(errc::invalid_requirements);
}

}  // namespace gtest_lockable::detail
