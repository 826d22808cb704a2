#pragma once

#include <iosfwd>

#include "cli/options.hpp"

namespace gtest_lockable::cli {

/// `--quarantine ID --reason TEXT`: records the quarantine, says so on `err`. Returns the exit
/// status.
int quarantine_mode(const cli_options& opts, std::ostream& err);

/// `--unquarantine ID`: ends the quarantine, says what it was on `err`. Returns the exit status.
int unquarantine_mode(const cli_options& opts, std::ostream& err);

}  // namespace gtest_lockable::cli
