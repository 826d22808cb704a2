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
  not_held,              ///< A release of a hold that does not exist (free, or a plain lock).
  not_permitted,         ///< A release of another user's hold without `force`.
};

/// The setting to change when an error is the fault of one. Messages do not name it: each front
/// end adds a hint with its own option for it (`--resources`, `--lockable_resources`, ...).
enum class setting {
  none,         ///< No one setting is to blame.
  resources,    ///< The inventory (file or URI) could not be read.
  lock_folder,  ///< The lock folder cannot be created, used or written.
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
  /// Creates an error of kind `code` with the message `message`, made one printable line;
  /// `culprit` is the setting to change, if one is to blame.
  error(errc code, const std::string& message, setting culprit = setting::none)
      : std::runtime_error(printable(message)), code_(code), culprit_(culprit) {}
  /// The kind of failure.
  errc code() const noexcept { return code_; }
  /// The setting to change, if one is to blame.
  setting culprit() const noexcept { return culprit_; }

 private:
  errc code_;
  setting culprit_;
};

}  // namespace gtest_lockable
