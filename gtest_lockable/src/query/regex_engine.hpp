#pragma once

// The boundary between the core and libgtest_lockable_regex.so, the module that holds RE2 for
// $regex. Linking libre2 would cost every process its loading (and bring libstdc++.so back into a
// program linked with a static C++ runtime, such as the `lockable` command), yet only queries
// with a regex need it: the core loads the module with dlopen when it compiles the first one.
// Both sides are built from this tree by one compiler, so standard C++ types cross the boundary;
// `abi` guards against a stale module. The module never throws.

#include <string>

namespace gtest_lockable::detail {

/// A pattern compiled by the module; opaque to the core.
struct compiled_regex;

/// What the module exports, under the C name `gtest_lockable_regex_engine`.
struct regex_engine {
  const char* abi;  ///< Must equal GTEST_LOCKABLE_REGEX_ENGINE_ABI.
  /// Compiles `pattern` (RE2 syntax) to find matches anywhere in a text. On an invalid pattern
  /// returns null, sets `error`, and sets `perl_only` when the pattern needs backtracking
  /// (backreferences, lookaround).
  const compiled_regex* (*compile)(const std::string& pattern, bool case_insensitive,
                                   bool dot_matches_newline, std::string& error,
                                   bool& perl_only) noexcept;
  /// Whether `re` matches somewhere in `text`.
  bool (*search)(const compiled_regex* re, const std::string& text) noexcept;
  /// Frees what `compile` returned.
  void (*release)(const compiled_regex* re) noexcept;
};

#define GTEST_LOCKABLE_REGEX_ENGINE_ABI "gtest_lockable_regex " GTEST_LOCKABLE_VERSION " abi 1"

/// The module's entry point name.
inline constexpr const char* regex_engine_symbol = "gtest_lockable_regex_engine";

/// The regex engine, loaded on first use. Throws `error` (`errc::invalid_requirements`) naming the
/// paths it tried when the module cannot be loaded.
const regex_engine& load_regex_engine();

}  // namespace gtest_lockable::detail
