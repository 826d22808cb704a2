#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

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

/// `text` with its control characters (and DEL) written as `\xNN`. Text from an inventory or a
/// lock file, printed this way, can neither split a line nor send escape sequences to a terminal.
inline std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out += c;
      continue;
    }
    const char hex[] = "0123456789abcdef";
    out += {'\\', 'x', hex[byte >> 4], hex[byte & 15]};
  }
  return out;
}

/// The one exception type of the library. `what()` is a single line that names the input and,
/// where it helps, what to do about it.
class error : public std::runtime_error {
 public:
  /// Creates an error of kind `code` with the message `message`, made one printable line.
  error(errc code, const std::string& message)
      : std::runtime_error(printable(message)), code_(code) {}
  /// The kind of failure.
  errc code() const noexcept { return code_; }

 private:
  errc code_;
};

}  // namespace gtest_lockable
