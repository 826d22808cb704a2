#pragma once

#include <string>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/internal/settings.hpp"

namespace gtest_lockable::cli {

/// Exit statuses of `lockable` itself. They come from sysexits.h (64-78), a range that ordinary
/// commands rarely use, so a script can tell "lockable could not run the command" from most of the
/// command's own failures. Any other status is the command's own.
namespace exit_code {
inline constexpr int usage = 64;  ///< EX_USAGE: bad option, option value or missing command.
inline constexpr int invalid_input =
    65;                                ///< EX_DATAERR: bad or unreadable inventory, requirements.
inline constexpr int no_match = 69;    ///< EX_UNAVAILABLE: no resource matches the requirements.
inline constexpr int internal = 70;    ///< EX_SOFTWARE: a bug in lockable.
inline constexpr int os_error = 71;    ///< EX_OSERR: fork, pipe or signal set-up failed.
inline constexpr int lock_store = 74;  ///< EX_IOERR: the lock folder or lock store failed.
inline constexpr int timeout = 75;     ///< EX_TEMPFAIL: matching resources stayed busy.
/// EX_PROTOCOL: the lock server's lease was lost while the command ran (it got SIGTERM).
inline constexpr int lock_lost = 76;
/// EX_NOPERM: --release of another user's hold without --force.
inline constexpr int not_permitted = 77;
/// As timeout(1): the command held its resource longer than --max-hold and was ended.
inline constexpr int max_hold = 124;
inline constexpr int cannot_execute = 126;  ///< As in shells: the command is not executable.
inline constexpr int not_found = 127;       ///< As in shells: the command does not exist.
inline constexpr int signal_base = 128;     ///< 128+N: the command (or lockable) got signal N.
}  // namespace exit_code

/// The exit status for a library error of kind `code`.
constexpr int exit_status_for(errc code) {
  switch (code) {
    case errc::invalid_argument:
      return exit_code::usage;
    case errc::invalid_inventory:
    case errc::invalid_requirements:
      return exit_code::invalid_input;
    case errc::no_match:
    case errc::not_held:
      return exit_code::no_match;
    case errc::not_permitted:
      return exit_code::not_permitted;
    case errc::timeout:
      return exit_code::timeout;
    case errc::lock_store:
      return exit_code::lock_store;
  }
  return exit_code::internal;
}

/// A library error's message with the option that would fix it, where one is to blame.
inline std::string message_of(const error& e) {
  return internal::message_of(e, internal::front_end::command);
}

}  // namespace gtest_lockable::cli
