#pragma once

// Loading the modules that hold dependencies only some processes need (cpp-httplib and OpenSSL,
// RE2): a process that never fetches an http inventory or matches a $regex never loads them.

#include <functional>
#include <string>

namespace gtest_lockable::detail {

/// Where a module may be, and how messages name it.
struct module_location {
  const char* what;          ///< "HTTP support", for messages.
  const char* env_variable;  ///< Names the module's path, overriding the places below.
  const char* file_name;     ///< The file, searched by the dynamic linker last.
  const char* build_path;    ///< Where the build tree has it.
  const char* install_path;  ///< Where an installation has it.
};

/// Loads the module at `where` and calls `accept` with the address of its entry point `symbol`
/// (null when the module has none), until `accept` returns true. Tries the build tree, the
/// install prefix, then the dynamic linker's search path (or only the path in `env_variable`
/// when it is set). Returns false and sets `problem` to a message naming every path tried and what
/// to do. (`accept` calls the entry point through its real type: calling it through another
/// function type would be undefined.)
bool load_module(const module_location& where, const char* symbol,
                 const std::function<bool(void*)>& accept, std::string& problem);

}  // namespace gtest_lockable::detail
