#pragma once

#include <stdexcept>
#include <string>

namespace gtest_lockable {

/// What went wrong, so that callers (the CLI, the GoogleTest plugin) can map it to an exit code
/// or a test outcome without parsing messages.
enum class errc {
  invalid_argument,      ///< A bad option value (a negative timeout, an unknown policy, ...).
  invalid_inventory,     ///< The inventory could not be read, parsed or validated.
  invalid_requirements,  ///< The requirements could not be parsed or are not a valid query.
  no_match,              ///< No inventory entry satisfies the requirements.
  timeout,               ///< Matching resources exist but none became free in time.
  lock_store,            ///< The lock store failed (unwritable lock folder, server error).
};

/// The one exception type of the library. `what()` is a single line that names the input and,
/// where it helps, what to do about it.
class error : public std::runtime_error {
 public:
  /// Creates an error of kind `code` with the one-line message `message`.
  error(errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  /// The kind of failure.
  errc code() const noexcept { return code_; }

 private:
  errc code_;
};

}  // namespace gtest_lockable
