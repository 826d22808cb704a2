#include <dlfcn.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/http_inventory.hpp"
#include "gtest_lockable/settings.hpp"
#include "src/http_transport.hpp"

namespace gtest_lockable::detail {
namespace {

struct loaded_transport {
  const http_transport* transport = nullptr;
  std::string problem;
};

// Where the module may be: the build tree (a project that uses gtest_lockable through
// add_subdirectory or FetchContent), the install prefix, then the dynamic linker's search path
// (LD_LIBRARY_PATH, ld.so.cache) for an installation that was moved.
std::vector<std::string> module_candidates() {
  if (auto path = env_value(env::http_module); path && !path->empty()) return {*path};
  return {GTEST_LOCKABLE_HTTP_MODULE_BUILD_PATH, GTEST_LOCKABLE_HTTP_MODULE_INSTALL_PATH,
          GTEST_LOCKABLE_HTTP_MODULE_NAME};
}

loaded_transport load() {
  std::string tried;
  for (const auto& path : module_candidates()) {
    tried += tried.empty() ? "" : "; ";
    if (path.find('/') != std::string::npos && ::access(path.c_str(), F_OK) != 0) {
      tried += path + ": no such file";
      continue;
    }
    // RTLD_LOCAL: the module's symbols (httplib, OpenSSL) stay out of the program's namespace.
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      tried += why != nullptr ? why : path + ": cannot be loaded";
      continue;
    }
    using entry_point = const http_transport* (*)();
    void* symbol = ::dlsym(handle, http_transport_symbol);
    entry_point entry = nullptr;
    std::memcpy(&entry, &symbol, sizeof entry);  // object to function pointer, as POSIX allows
    const http_transport* transport = entry != nullptr ? entry() : nullptr;
    if (transport != nullptr &&
        std::strcmp(transport->abi, GTEST_LOCKABLE_HTTP_TRANSPORT_ABI) == 0 &&
        transport->request_size == sizeof(http_request) &&
        transport->response_size == sizeof(http_response)) {
      return {transport, {}};
    }
    // Not dlclose'd: unloading a library that initialised OpenSSL is not safe.
    tried += path + ": built from another version of gtest_lockable";
  }
  return {nullptr, "the HTTP support module cannot be loaded (" + tried + "); set " +
                       std::string(env::http_module) + " to the path of " +
                       GTEST_LOCKABLE_HTTP_MODULE_NAME};
}

}  // namespace

const http_transport& load_http_transport(errc failure) {
  // Loaded once per process and never unloaded; a failure is remembered too.
  static const loaded_transport loaded = load();
  if (loaded.transport == nullptr) throw error(failure, loaded.problem);
  return *loaded.transport;
}

}  // namespace gtest_lockable::detail
