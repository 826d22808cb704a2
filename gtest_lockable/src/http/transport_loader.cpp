#include <cstring>
#include <string>

#include "gtest_lockable/env.hpp"
#include "gtest_lockable/error.hpp"
#include "src/http/transport.hpp"
#include "src/modules/loader.hpp"

namespace gtest_lockable::detail {
namespace {

struct loaded_transport {
  const http_transport* transport = nullptr;
  std::string problem;
};

loaded_transport load() {
  // The build tree serves a project that uses gtest_lockable through add_subdirectory or
  // FetchContent; the dynamic linker's search path an installation that was moved.
  const module_location where{"HTTP support", env::http_module, GTEST_LOCKABLE_HTTP_MODULE_NAME,
                              GTEST_LOCKABLE_HTTP_MODULE_BUILD_PATH,
                              GTEST_LOCKABLE_HTTP_MODULE_INSTALL_PATH};
  loaded_transport out;
  load_module(
      where, http_transport_symbol,
      [&](void* found) {
        using entry_point = const http_transport* (*)();
        entry_point entry = nullptr;
        std::memcpy(&entry, &found, sizeof entry);  // object to function pointer, as POSIX allows
        const http_transport* transport = entry != nullptr ? entry() : nullptr;
        if (transport == nullptr ||
            std::strcmp(transport->abi, GTEST_LOCKABLE_HTTP_TRANSPORT_ABI) != 0 ||
            transport->request_size != sizeof(http_request) ||
            transport->response_size != sizeof(http_response)) {
          return false;
        }
        out.transport = transport;
        return true;
      },
      out.problem);
  return out;
}

}  // namespace

const http_transport& load_http_transport(errc failure) {
  // Loaded once per process and never unloaded; a failure is remembered too.
  static const loaded_transport loaded = load();
  if (loaded.transport == nullptr) throw error(failure, loaded.problem);
  return *loaded.transport;
}

}  // namespace gtest_lockable::detail
