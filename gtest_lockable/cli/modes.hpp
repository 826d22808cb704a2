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

/// `--ctest-plan LIST CTEST_FILE POOL_FOLDER`: appends to the CTest file of discovered tests a
/// RESOURCE_GROUPS property for each test that declares requirements (one group per resource it
/// needs, from what `--lockable_list_requirements` wrote to LIST), and describes each pool in the
/// pool folder. Returns the exit status.
int ctest_plan_mode(const cli_options& opts, std::ostream& out);

/// `--ctest-spec POOL_FOLDER SPEC_FILE`: writes the CTest resource spec of every pool described in
/// the pool folder (rewritten only when it changes), with a warning on `err` for a pool that
/// matches no resource. Returns the exit status.
int ctest_spec_mode(const cli_options& opts, std::ostream& out, std::ostream& err);

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
