#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/options.hpp"
#include "gtest_lockable/lock_status.hpp"

namespace gtest_lockable::cli {

/// The requirements of `opts`, parsed. Throws `error` (`errc::invalid_requirements`) naming the
/// option or variable they came from.
nlohmann::json parse_requirements_option(const cli_options& opts);

/// `--list`: prints the selected entries to `out` as a JSON array. Returns the exit status.
int list_mode(const cli_options& opts, std::ostream& out);

/// `--ctest-resources`: prints the selected entries to `out` as the resources of a CTest resource
/// spec (see `internal::ctest_resources`). Returns the exit status.
int ctest_resources_mode(const cli_options& opts, std::ostream& out);

/// `--status`: prints the lock state of the selected entries to `out`, as a table or (with
/// `--json`) as a JSON array. Returns the exit status.
int status_mode(const cli_options& opts, std::ostream& out);

/// `--validate-only`: checks the inventory and the requirements, prints every problem to `err`
/// or a summary to `out`. Returns the exit status.
int validate_mode(const cli_options& opts, std::ostream& out, std::ostream& err);

/// The lock states as a table with a header line: resource, state, PID, host, since (and a note
/// column when a state has one).
std::string status_table(const std::vector<lock_status>& states);

/// The lock states as a JSON array of objects (`id`, `state`, and the holder's known fields).
nlohmann::json status_json(const std::vector<lock_status>& states);

}  // namespace gtest_lockable::cli
