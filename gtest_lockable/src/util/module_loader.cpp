#include "src/util/module_loader.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <vector>

#include "gtest_lockable/internal/settings.hpp"

namespace gtest_lockable::detail {

bool load_module(const module_location& where, const char* symbol,
                 const std::function<bool(void*)>& accept, std::string& problem) {
  std::vector<std::string> candidates{where.build_path, where.install_path, where.file_name};
  if (auto path = internal::env_value(where.env_variable); path && !path->empty())
    candidates = {*path};
  std::string tried;
  for (const auto& path : candidates) {
    tried += tried.empty() ? "" : "; ";
    if (path.find('/') != std::string::npos && ::access(path.c_str(), F_OK) != 0) {
      tried += path + ": no such file";
      continue;
    }
    // RTLD_LOCAL: the module's symbols (its dependencies') stay out of the program's namespace.
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      tried += why != nullptr ? why : path + ": cannot be loaded";
      continue;
    }
    if (accept(::dlsym(handle, symbol))) return true;
    // Not dlclose'd: unloading a library that initialised OpenSSL is not safe.
    tried += path + ": built from another version of gtest_lockable";
  }
  problem = "the " + std::string(where.what) + " module cannot be loaded (" + tried + "); set " +
            where.env_variable + " to the path of " + where.file_name;
  return false;
}

}  // namespace gtest_lockable::detail
