#include "gtest_lockable/env.hpp"
#include "gtest_lockable/error.hpp"
#include "src/http/transport.hpp"
#include "src/util/module_loader.hpp"

namespace gtest_lockable::detail {
namespace {

// The requests and responses cross the module boundary as structures: their layout must agree.
bool same_layout(const http_transport& transport) {
  return transport.request_size == sizeof(http_request) &&
         transport.response_size == sizeof(http_response);
}

}  // namespace

const http_transport& load_http_transport(errc failure) {
  // Loaded once per process and never unloaded; a failure is remembered too. The build tree
  // serves a project that uses gtest_lockable through add_subdirectory or FetchContent; the
  // dynamic linker's search path an installation that was moved.
  static const auto loaded = load_module_table<http_transport>(
      {"HTTP support", env::http_module, GTEST_LOCKABLE_HTTP_MODULE_NAME,
       GTEST_LOCKABLE_HTTP_MODULE_BUILD_PATH, GTEST_LOCKABLE_HTTP_MODULE_INSTALL_PATH},
      http_transport_symbol, GTEST_LOCKABLE_HTTP_TRANSPORT_ABI, same_layout);
  return loaded.get(failure);
}

}  // namespace gtest_lockable::detail
