#pragma once

// The fixture of the multi-process lock folder tests: a temporary folder with an inventory, a lock
// folder and a log of holds, and the processes that contend there (lock_tool, a script that
// follows py-lockable's protocol).
#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "subprocess.hpp"

namespace lock_folder_testing {

namespace fs = std::filesystem;
using test_support::subprocess;

inline long long now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct interval {
  long long start, end;
  long pid;
};

class lock_folder_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lock_folder_test.XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    folder_ = dir_ / "locks";
    log_ = dir_ / "holds.log";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // An inventory of resources with the given ids, each also tagged `type`.
  void inventory(const std::vector<std::pair<std::string, std::string>>& resources) {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& [id, type] : resources) {
      entries.push_back({{"id", id}, {"hostname", "h"}, {"online", true}, {"type", type}});
    }
    std::ofstream(dir_ / "resources.json") << entries.dump();
  }

  std::unique_ptr<subprocess> tool(std::vector<std::string> args) {
    std::vector<std::string> argv = {
        LOCK_TOOL,       "--resources",    (dir_ / "resources.json").string(),
        "--lock-folder", folder_.string(), "--log",
        log_.string(),   "--hostname",     "h"};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<subprocess>(argv);
  }

  std::unique_ptr<subprocess> py_lockable(const std::string& id, const std::string& timeout) {
    return std::make_unique<subprocess>(
        std::vector<std::string>{PYTHON, PY_PROTOCOL, folder_.string(), id, timeout});
  }

  std::map<std::string, std::vector<interval>> holds() {
    std::map<std::string, std::vector<interval>> out;
    std::ifstream in(log_);
    std::string id;
    interval i{};
    while (in >> id >> i.start >> i.end >> i.pid) out[id].push_back(i);
    return out;
  }

  // Fails the test for any two holds of one resource whose intervals overlap.
  static void expect_no_overlap(std::map<std::string, std::vector<interval>> holds) {
    for (auto& [id, list] : holds) {
      std::sort(list.begin(), list.end(),
                [](const interval& a, const interval& b) { return a.start < b.start; });
      for (std::size_t k = 1; k < list.size(); ++k) {
        EXPECT_GE(list[k].start, list[k - 1].end)
            << id << ": PID " << list[k].pid << " held it while PID " << list[k - 1].pid
            << " still did";
      }
    }
  }

  fs::path dir_, folder_, log_;
};

}  // namespace lock_folder_testing
