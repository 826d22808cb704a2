#pragma once

// Loading the modules that hold dependencies only some processes need (cpp-httplib and OpenSSL,
// RE2): a process that never fetches an http inventory or matches a $regex never loads them.

#include <cstring>
#include <functional>
#include <string>

#include "gtest_lockable/error.hpp"

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

/// A module's table of entry points, or why it could not be loaded.
template <class Table>
struct loaded_table {
  const Table* table = nullptr;
  std::string problem;  ///< When `table` is null: what load_module said.

  /// The table; throws `error(failure, problem)` when the module could not be loaded.
  const Table& get(errc failure) const {
    if (table == nullptr) throw error(failure, problem);
    return *table;
  }
};

/// Loads the module at `where` (as load_module) and takes the table that its entry point
/// `symbol`, a `const Table* ()` function, returns: only a table whose `abi` is `abi` and, when
/// `fits` is given, for which `fits` holds (for checks beyond the ABI string, such as the sizes
/// of structures the table passes). A module built from another version is refused.
template <class Table>
loaded_table<Table> load_module_table(const module_location& where, const char* symbol,
                                      const char* abi, bool (*fits)(const Table&) = nullptr) {
  loaded_table<Table> out;
  load_module(
      where, symbol,
      [&](void* found) {
        using entry_point = const Table* (*)();
        entry_point entry = nullptr;
        std::memcpy(&entry, &found, sizeof entry);  // object to function pointer, as POSIX allows
        const Table* table = entry != nullptr ? entry() : nullptr;
        if (table == nullptr || std::strcmp(table->abi, abi) != 0 ||
            (fits != nullptr && !fits(*table))) {
          return false;
        }
        out.table = table;
        return true;
      },
      out.problem);
  return out;
}

}  // namespace gtest_lockable::detail
