// The modes behind the CMake module's per-test scheduling (cmake/GtestLockable.cmake):
// --ctest-plan turns what a test program's --lockable_list_requirements printed into one CTest
// resource group per resource each test needs, and --ctest-spec writes the CTest resource spec of
// every pool from the inventory. CMake could do neither quickly: its string(JSON) parses the
// whole document on every call.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/modes.hpp"
#include "gtest_lockable/error.hpp"
#include "gtest_lockable/internal/ctest.hpp"
#include "gtest_lockable/internal/json.hpp"
#include "gtest_lockable/internal/settings.hpp"
#include "gtest_lockable/lockable.hpp"
#include "gtest_lockable/requirements.hpp"

namespace gtest_lockable::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(errc::invalid_argument, "cannot read " + std::string(what) + " " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `text` to `path` unless it already holds exactly that, so that what depends on the file
// is not redone; through a temporary file and a rename, so that a reader never sees half.
void write_if_changed(const fs::path& path, const std::string& text) {
  std::error_code ignored;
  if (fs::exists(path, ignored)) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream old;
    old << in.rdbuf();
    if (old.str() == text) return;
  }
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw error(errc::invalid_argument, "cannot write " + temporary.string());
  }
  fs::rename(temporary, path);
}

// The test names of the add_test lines of a CTest file that gtest_discover_tests wrote:
// gtest name (the --gtest_filter value) -> the CTest name as the line quotes it (`[=[...]=]`).
std::multimap<std::string, std::string> discovered_tests(const std::string& ctest_file) {
  std::multimap<std::string, std::string> out;
  std::istringstream lines(read_file(ctest_file, "the CTest file"));
  std::string line;
  const std::string filter = "--gtest_filter=";
  while (std::getline(lines, line)) {
    if (line.rfind("add_test( [", 0) != 0 && line.rfind("add_test([", 0) != 0) continue;
    const std::size_t open = line.find('[');
    const std::size_t equals = line.find_first_not_of('=', open + 1);
    if (equals == std::string::npos || line[equals] != '[') continue;
    const std::string close = "]" + std::string(equals - open - 1, '=') + "]";
    const std::size_t end = line.find(close, equals);
    const std::size_t at = line.find(filter, end);
    if (end == std::string::npos || at == std::string::npos) continue;
    std::size_t stop = line.find_first_of(" ]", at);
    if (stop == std::string::npos) stop = line.size();
    out.emplace(line.substr(at + filter.size(), stop - at - filter.size()),
                line.substr(open, end + close.size() - open));
  }
  return out;
}

}  // namespace

int ctest_plan_mode(const cli_options& opts, std::ostream& out) {
  if (opts.command.size() != 3) {
    throw error(errc::invalid_argument,
                "--ctest-plan takes three arguments: the file --lockable_list_requirements "
                "wrote, the CTest file of the discovered tests, and the pool folder");
  }
  const std::string& list_file = opts.command[0];
  const json list = json::parse(read_file(list_file, "the requirements list"), nullptr, false);
  if (!list.is_object() || !list.contains("tests") || !list["tests"].is_array()) {
    throw error(errc::invalid_requirements,
                list_file + " is not what --lockable_list_requirements prints: does the test "
                            "program link gtest_lockable::main or call gtest_lockable::init?");
  }
  if (!list.value("per_test", false)) return 0;  // one resource per program: POOL's business
  const auto tests = discovered_tests(opts.command[1]);
  const fs::path pools = opts.command[2];
  fs::create_directories(pools);
  std::map<std::string, json> described;  // pool -> its description
  std::string properties;
  for (const json& test : list["tests"]) {
    std::string groups;
    for (const json& need : test.value("needs", json::array())) {
      const std::string pool = need.value("pool", "");
      if (pool.empty()) continue;
      groups += (groups.empty() ? "" : ";") + pool + ":1";
      described[pool] = {{"resources", list.value("resources", "")},
                         {"hostname", list.value("hostname", "")},
                         {"requirements", need["requirements"]}};
    }
    if (groups.empty()) continue;
    const auto [first, last] = tests.equal_range(test.value("test", ""));
    for (auto it = first; it != last; ++it) {
      properties += "set_tests_properties(" + it->second + " PROPERTIES RESOURCE_GROUPS \"" +
                    groups + "\")\n";
    }
  }
  for (const auto& [pool, description] : described) {
    write_if_changed(pools / (pool + ".json"), detail::json_text(description, 2) + "\n");
  }
  std::ofstream ctest(opts.command[1], std::ios::app);
  ctest << "# Resource groups from gtest_lockable (lockable --ctest-plan)\n" << properties;
  if (!ctest.flush()) throw error(errc::invalid_argument, "cannot append to " + opts.command[1]);
  out << described.size() << (described.size() == 1 ? " pool" : " pools") << " for "
      << list["tests"].size() << " tests\n";
  return 0;
}

int ctest_spec_mode(const cli_options& opts, std::ostream&, std::ostream& err) {
  if (opts.command.size() != 2) {
    throw error(errc::invalid_argument,
                "--ctest-spec takes two arguments: the pool folder and the spec file to write");
  }
  const fs::path pools = opts.command[0];
  std::map<std::string, json> local;  // sorted by pool name, so the spec is stable
  std::error_code missing;
  for (const auto& entry : fs::directory_iterator(pools, missing)) {
    if (entry.path().extension() != ".json") continue;
    const std::string pool = entry.path().stem().string();
    const json d = json::parse(read_file(entry.path().string(), "the pool"), nullptr, false);
    if (!d.is_object() || !d.contains("resources") || !d.contains("requirements")) {
      throw error(errc::invalid_argument, entry.path().string() +
                                              " is not a pool description: delete it and build again");
    }
    internal::settings s = opts;
    s.resources = {d["resources"].get<std::string>(), entry.path().string()};
    s.hostname = {d.value("hostname", ""), entry.path().string()};
    const json requirements = d["requirements"].is_string()
                                  ? parse_requirements(d["requirements"].get<std::string>())
                                  : d["requirements"];
    auto selector = internal::make_lockable(s);
    json resources = internal::ctest_resources(selector.select(requirements));
    if (resources.empty()) {
      err << "gtest_lockable: warning: no resource of " << s.resources.value << " matches "
          << detail::json_text(requirements)
          << (s.hostname.value.empty() ? "" : " on host " + s.hostname.value) << " (CTest pool "
          << pool << "): CTest reports its tests 'Not Run'; fix the requirements or the inventory\n";
    }
    local[pool] = std::move(resources);
  }
  json spec = {{"version", {{"major", 1}, {"minor", 0}}}, {"local", json::array({json(local)})}};
  if (local.empty()) spec["local"] = json::array({json::object()});
  write_if_changed(opts.command[1], detail::json_text(spec, 2) + "\n");
  return 0;
}

}  // namespace gtest_lockable::cli
