// libgtest_lockable_regex.so: $regex on RE2. Loaded by the core with dlopen (see
// regex_engine.hpp); this is the only file that includes re2.h.
#include <re2/re2.h>

#include <memory>
#include <string>

#include "src/query/regex_engine.hpp"

namespace gtest_lockable::detail {

struct compiled_regex {
  compiled_regex(const std::string& pattern, const RE2::Options& options) : re(pattern, options) {}
  RE2 re;
};

namespace {

const compiled_regex* compile(const std::string& pattern, bool case_insensitive,
                              bool dot_matches_newline, std::string& error,
                              bool& perl_only) noexcept {
  try {
    RE2::Options options;
    options.set_log_errors(false);    // errors go back to the core, not to stderr
    options.set_never_capture(true);  // only "does it match" is needed: faster
    options.set_case_sensitive(!case_insensitive);
    options.set_dot_nl(dot_matches_newline);
    auto compiled = std::make_unique<compiled_regex>(pattern, options);
    if (compiled->re.ok()) return compiled.release();
    const auto code = compiled->re.error_code();
    perl_only = code == RE2::ErrorBadPerlOp || code == RE2::ErrorBadEscape;
    error = compiled->re.error();
  } catch (...) {
    error = "out of memory";
  }
  return nullptr;
}

bool search(const compiled_regex* re, const std::string& text) noexcept {
  return RE2::PartialMatch(text, re->re);
}

void release(const compiled_regex* re) noexcept { delete re; }

const regex_engine engine{GTEST_LOCKABLE_REGEX_ENGINE_ABI, &compile, &search, &release};

}  // namespace
}  // namespace gtest_lockable::detail

extern "C" __attribute__((visibility("default"))) const gtest_lockable::detail::regex_engine*
gtest_lockable_regex_engine() {
  return &gtest_lockable::detail::engine;
}
