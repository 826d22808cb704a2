#include "src/module_loader.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "gtest_lockable/settings.hpp"

namespace gtest_lockable::detail {

const void* load_module(const module_location& where, const char* symbol,
                        const std::function<bool(const void*)>& usable, std::string& problem) {
  std::vector<std::string> candidates{where.build_path, where.install_path, where.file_name};
  if (auto path = env_value(where.env_variable); path && !path->empty()) candidates = {*path};
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
    using entry_point = const void* (*)();
    void* found = ::dlsym(handle, symbol);
    entry_point entry = nullptr;
    std::memcpy(&entry, &found, sizeof entry);  // object to function pointer, as POSIX allows
    const void* table = entry != nullptr ? entry() : nullptr;
    if (table != nullptr && usable(table)) return table;
    // Not dlclose'd: unloading a library that initialised OpenSSL is not safe.
    tried += path + ": built from another version of gtest_lockable";
  }
  problem = "the " + std::string(where.what) + " module cannot be loaded (" + tried + "); set " +
            where.env_variable + " to the path of " + where.file_name;
  return nullptr;
}

}  // namespace gtest_lockable::detail
