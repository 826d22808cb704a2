// The modes behind the CMake module's per-test scheduling (cmake/GtestLockable.cmake):
// --ctest-plan turns what a test program's --lockable_list_requirements printed into one CTest
// resource group per resource each test needs, and --ctest-spec writes the CTest resource spec of
// every pool from the inventory. CMake could do neither quickly: its string(JSON) parses the
// whole document on every call.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

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
// Returns whether it wrote.
bool write_if_changed(const fs::path& path, const std::string& text) {
  std::error_code ignored;
  if (fs::exists(path, ignored)) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream old;
    old << in.rdbuf();
    if (old.str() == text) return false;
  }
  const fs::path temporary = path.string() + "." + std::to_string(::getpid()) + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw error(errc::invalid_argument, "cannot write " + temporary.string());
  }
  fs::rename(temporary, path);
  return true;
}

// Holds an exclusive flock on `folder`/.lock while it lives: the discovery steps of several test
// programs (a parallel build) write pool descriptions and the spec at once, and the spec written
// last must have seen every description written before it.
class folder_lock {
 public:
  explicit folder_lock(const fs::path& folder) {
    fs::create_directories(folder);
    const std::string path = (folder / ".lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) {
      throw error(errc::invalid_argument, "cannot lock " + path +
                                              ": check that the build folder "
                                              "is writable");
    }
  }
  ~folder_lock() { ::close(fd_); }
  folder_lock(const folder_lock&) = delete;
  folder_lock& operator=(const folder_lock&) = delete;

 private:
  int fd_ = -1;
};

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

int ctest_plan_mode(const cli_options& opts, std::ostream&) {
  if (opts.command.size() != 4) {
    throw error(errc::invalid_argument,
                "--ctest-plan takes four arguments: the file --lockable_list_requirements "
                "wrote, the CTest file of the discovered tests, the pool folder of this "
                "discovery, and the name of its test list variable");
  }
  const std::string& list_file = opts.command[0];
  const json list = json::parse(read_file(list_file, "the requirements list"), nullptr, false);
  if (!list.is_object() || !list.contains("tests") || !list["tests"].is_array()) {
    throw error(errc::invalid_requirements,
                list_file +
                    " is not what --lockable_list_requirements prints: does the test "
                    "program link gtest_lockable::main or call gtest_lockable::init?");
  }
  const fs::path pools = opts.command[2];
  folder_lock guard(pools.parent_path());
  std::error_code ignored;
  fs::remove_all(pools, ignored);                // what an earlier build of the program declared
  if (!list.value("per_test", false)) return 0;  // one resource per program: POOL's business
  const auto tests = discovered_tests(opts.command[1]);
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
  // The variable tells the module's properties file not to give every test the call's POOL.
  ctest << "# Resource groups from gtest_lockable (lockable --ctest-plan)\n"
        << properties << "set([==[" << opts.command[3] << "_LOCKABLE_PER_TEST]==] TRUE)\n";
  if (!ctest.flush()) throw error(errc::invalid_argument, "cannot append to " + opts.command[1]);
  return 0;
}

int ctest_spec_mode(const cli_options& opts, std::ostream&, std::ostream& err) {
  if (opts.command.size() != 2) {
    throw error(errc::invalid_argument,
                "--ctest-spec takes two arguments: the pool folder and the spec file to write");
  }
  const fs::path pools = opts.command[0];
  folder_lock guard(pools);
  std::map<std::string, json> local;         // sorted by pool name, so the spec is stable
  std::map<std::string, std::string> empty;  // pool -> the warning that it matches nothing
  std::error_code missing;
  for (const auto& entry : fs::recursive_directory_iterator(pools, missing)) {
    if (entry.path().extension() != ".json" || local.count(entry.path().stem().string())) continue;
    const std::string pool = entry.path().stem().string();
    const json d = json::parse(read_file(entry.path().string(), "the pool"), nullptr, false);
    if (!d.is_object() || !d.contains("resources") || !d.contains("requirements")) {
      throw error(errc::invalid_argument,
                  entry.path().string() + " is not a pool description: delete it and build again");
    }
    internal::settings s = opts;
    s.resources = {d["resources"].get<std::string>(), entry.path().string()};
    // Empty: the setting was not given (the host the tests run on; no requirement).
    if (!d.value("hostname", "").empty()) s.hostname = {d["hostname"], entry.path().string()};
    const json& given = d["requirements"];
    const json requirements = !given.is_string() ? given
                              : given.get_ref<const std::string&>().empty()
                                  ? json::object()
                                  : parse_requirements(given.get<std::string>());
    auto selector = internal::make_lockable(s);
    local[pool] = internal::ctest_resources(selector.select(requirements));
    if (local[pool].empty()) {
      empty[pool] = ("gtest_lockable: warning: no resource of " + s.resources.value + " matches " +
                     detail::json_text(requirements) +
                     (s.hostname.value.empty() ? "" : " on host " + s.hostname.value) +
                     " (CTest pool " + pool +
                     "): CTest reports its tests 'Not Run'; fix the requirements or the "
                     "inventory\n");
    }
  }
  json spec = {{"version", {{"major", 1}, {"minor", 0}}}, {"local", json::array({json(local)})}};
  if (local.empty()) spec["local"] = json::array({json::object()});
  // Said once: when a pool becomes empty, not at every build step that finds it so.
  const json before =
      fs::exists(opts.command[1], missing)
          ? json::parse(read_file(opts.command[1], "the resource spec"), nullptr, false)
          : json();
  write_if_changed(opts.command[1], detail::json_text(spec, 2) + "\n");
  for (const auto& [pool, warning] : empty) {
    const json::json_pointer was("/local/0/" + pool);
    if (!before.is_object() || !before.contains(was) || !before[was].empty()) err << warning;
  }
  return 0;
}

}  // namespace gtest_lockable::cli
