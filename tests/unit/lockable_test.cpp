#include "gtest_lockable/lockable.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "temp_folder.hpp"

namespace gtest_lockable {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class lockable_test : public ::testing::Test {
 protected:
  void SetUp() override { ::umask(022); }

  lockable make(json resources) {
    options opts;
    opts.hostname = "h";
    opts.inventory = memory_inventory(std::move(resources));
    opts.lock_folder = folder_.string();
    return lockable(opts);
  }

  static json boards(int n) {
    json out = json::array();
    for (int i = 0; i < n; ++i) {
      out.push_back({{"id", "b" + std::to_string(i)}, {"hostname", "h"}, {"online", true}});
    }
    return out;
  }

  std::string read(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  test_support::temp_folder dir_{"lockable_test"};
  fs::path folder_ = dir_.path() / "locks";
};

TEST_F(lockable_test, lock_creates_pid_file_and_unlock_removes_it) {
  auto l = make(boards(1));
  auto a = l.lock(json::object());
  EXPECT_EQ(a.resource_id(), "b0");
  EXPECT_EQ(a.resource_info()["id"], "b0");
  EXPECT_EQ(a.requirements(), json({{"hostname", "h"}, {"online", true}}));
  EXPECT_TRUE(a.held());
  const auto file = folder_ / "b0.pid";
  ASSERT_TRUE(fs::exists(file)) << "lock folder must be created and hold <id>.pid";
  const std::string text = read(file);
  EXPECT_EQ(text.substr(0, text.find('\n')), std::to_string(::getpid()));
  EXPECT_NE(text.find(a.alloc_id()), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  a.unlock();
  EXPECT_FALSE(a.held());
  EXPECT_TRUE(a.release_time().has_value());
  EXPECT_FALSE(fs::exists(file));
  a.unlock();  // twice is harmless
}

TEST_F(lockable_test, lock_files_in_a_group_writable_folder_are_group_writable) {
  fs::create_directories(folder_);
  fs::permissions(folder_, fs::perms(0775));
  auto l = make(boards(1));
  auto a = l.lock(json::object());
  struct stat st {};
  ASSERT_EQ(::stat((folder_ / "b0.pid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0664u);
}

TEST_F(lockable_test, std_string_requirements_are_text) {
  auto l = make(boards(2));
  const std::string requirements = "id=b1";
  EXPECT_EQ(l.lock(requirements).resource_id(), "b1");
}

TEST_F(lockable_test, allocation_releases_at_scope_end) {
  auto l = make(boards(1));
  { auto a = l.lock(json::object()); }
  EXPECT_FALSE(fs::exists(folder_ / "b0.pid"));
  EXPECT_NO_THROW(l.lock(json::object()));
}

TEST_F(lockable_test, moved_from_allocation_releases_nothing) {
  auto l = make(boards(1));
  auto a = l.lock(json::object());
  allocation b = std::move(a);
  a.unlock();
  EXPECT_TRUE(fs::exists(folder_ / "b0.pid"));
  EXPECT_TRUE(b.held());
  EXPECT_EQ(b.resource_id(), "b0");
}

TEST_F(lockable_test, held_resource_is_not_given_twice) {
  auto l = make(boards(2));
  auto a = l.lock(json::object());
  auto b = l.lock(json::object());
  EXPECT_NE(a.resource_id(), b.resource_id());
  try {
    l.lock(json::object());
    FAIL() << "a third lock must time out";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::timeout);
    const std::string what = e.what();
    EXPECT_NE(what.find("timed out after 0 s waiting for"), std::string::npos) << what;
    EXPECT_NE(what.find("b0 (held by PID " + std::to_string(::getpid()) + " on h since "),
              std::string::npos)
        << what;
  }
}

TEST_F(lockable_test, timeout_over_a_large_pool_names_a_few_busy_resources_and_counts_the_rest) {
  auto l = make(boards(30));
  std::vector<allocation> held;
  for (int i = 0; i < 30; ++i) held.push_back(l.lock(json::object()));
  try {
    l.lock(json::object());
    FAIL() << "every board is held";
  } catch (const error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.code(), errc::timeout);
    EXPECT_NE(what.find(" (held by PID "), std::string::npos) << what;
    EXPECT_NE(what.find(" and 22 more"), std::string::npos) << what;
    EXPECT_LT(what.size(), 1000u) << what;
  }
}

TEST_F(lockable_test, long_requirements_are_cut_short_in_messages) {
  auto l = make(boards(3));
  json ids = json::array();
  for (int i = 0; i < 5000; ++i) ids.push_back("x" + std::to_string(i));
  const json requirements = {{"id", {{"$in", ids}}}};
  try {
    l.lock(requirements);
    FAIL() << "no error";
  } catch (const error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.code(), errc::no_match);
    EXPECT_EQ(what.rfind("no resource in in-memory inventory (3 resources) matches {", 0), 0u)
        << what.substr(0, 200);
    EXPECT_NE(what.find("... (" + std::to_string(requirements.dump().size() + 29) + " bytes)"),
              std::string::npos)
        << what.substr(0, 500);
    EXPECT_LT(what.size(), 500u);
  }
}

TEST_F(lockable_test, error_messages_are_one_printable_line) {
  const error e(errc::invalid_inventory, "bad id 'a\nb\x1b[2J\x7f'\tend");
  EXPECT_STREQ(e.what(), "bad id 'a\\x0ab\\x1b[2J\\x7f'\\x09end");
  EXPECT_EQ(printable("caf\xc3\xa9 ok"), "caf\xc3\xa9 ok") << "UTF-8 is kept";
}

TEST_F(lockable_test, no_match_is_reported_at_once_with_requirements_and_size) {
  auto l = make(boards(3));
  try {
    l.lock("os=ios", seconds(60));
    FAIL() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::no_match);
    EXPECT_STREQ(e.what(),
                 "no resource in in-memory inventory (3 resources) matches "
                 "{\"hostname\":\"h\",\"online\":true,\"os\":\"ios\"}");
  }
}

TEST_F(lockable_test, defaults_select_this_host_and_online) {
  auto l = make(json::parse(R"([{"id": "other", "hostname": "x", "online": true},
                                {"id": "off", "hostname": "h", "online": false},
                                {"id": "mine", "hostname": "h", "online": true}])"));
  EXPECT_EQ(l.lock(json::object()).resource_id(), "mine");
  EXPECT_EQ(l.lock("hostname=x").resource_id(), "other");
  EXPECT_EQ(l.lock(R"({"online": false})").resource_id(), "off");
  EXPECT_EQ(l.select(R"({"hostname": null, "online": null})"_json).size(), 3u);
}

// A null other than `hostname` or `online` selects as py-lockable's matcher does: the field
// exists and is null (or is an array holding null); a missing field is not null.
TEST_F(lockable_test, null_of_another_field_matches_a_null_field) {
  auto l = make(json::parse(R"([{"id": "none", "hostname": "h", "online": true, "serial": null},
                                {"id": "set", "hostname": "h", "online": true, "serial": "s1"},
                                {"id": "missing", "hostname": "h", "online": true},
                                {"id": "list", "hostname": "h", "online": true, "serial": [1, null]},
                                {"id": "away", "hostname": "x", "online": true, "serial": null}])"));
  std::vector<std::string> found;
  for (const auto& entry : l.select(R"({"serial": null})"_json)) {
    found.push_back(entry["id"].get<std::string>());
  }
  EXPECT_EQ(found, (std::vector<std::string>{"none", "list"}));
  EXPECT_EQ(l.select(R"({"serial": null, "hostname": null})"_json).size(), 3u);
  EXPECT_EQ(l.lock(R"({"serial": null, "id": "none"})").resource_id(), "none");
  try {
    l.lock(R"({"serial": null, "id": "missing"})");
    ADD_FAILURE() << "a missing field matched null";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::no_match);
  }
}

// A provider of one's own gets the selective path through its own `select`: a lock call,
// `select` and `status` look through it, not through `load`.
class selecting_provider final : public inventory_provider {
 public:
  std::shared_ptr<const inventory> load() override {
    ADD_FAILURE() << "load() called although select() is overridden";
    return std::make_shared<const inventory>();
  }
  inventory_selection select(const std::vector<const query*>& queries) override {
    ++selects;
    inventory_selection out;
    out.size = 1000;  // as if it had a large inventory and found the matches by an index
    const json entry = json::parse(R"({"id": "fast", "hostname": "h", "online": true})");
    for (const query* q : queries) {
      if (q->matches(entry)) {
        out.resources.push_back(entry);
        break;
      }
    }
    return out;
  }
  std::string describe() const override { return "selecting inventory"; }
  int selects = 0;
};

TEST_F(lockable_test, a_provider_of_ones_own_selects_for_lock_calls) {
  auto provider = std::make_shared<selecting_provider>();
  options opts;
  opts.hostname = "h";
  opts.inventory = provider;
  opts.lock_folder = folder_.string();
  lockable l(opts);
  EXPECT_EQ(l.lock(json::object()).resource_id(), "fast");
  EXPECT_EQ(l.select(json::object()).size(), 1u);
  EXPECT_EQ(l.status(json::object()).size(), 1u);
  try {
    l.lock("os=ios");
    ADD_FAILURE() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::no_match);
    EXPECT_NE(std::string(e.what()).find("selecting inventory (1000 resources)"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(provider->selects, 4);
}

TEST_F(lockable_test, candidates_are_tried_in_random_order) {
  auto l = make(boards(4));
  std::set<std::string> seen;
  for (int i = 0; i < 64 && seen.size() < 4; ++i) seen.insert(l.lock(json::object()).resource_id());
  EXPECT_EQ(seen.size(), 4u);
}

TEST_F(lockable_test, preferred_resource_is_tried_first) {
  auto l = make(boards(4));
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(l.lock(json::object(), seconds(0), lock_request{"b2"}).resource_id(), "b2");
}

TEST_F(lockable_test, busy_preferred_resource_falls_back_to_another) {
  auto l = make(boards(2));
  auto held = l.lock(json::object(), seconds(0), lock_request{"b1"});
  EXPECT_EQ(l.lock(json::object(), seconds(0), lock_request{"b1"}).resource_id(), "b0");
}

TEST_F(lockable_test, negative_timeout_is_an_error) {
  auto l = make(boards(1));
  EXPECT_THROW(l.lock(json::object(), seconds(-1)), error);
  EXPECT_THROW(l.lock(json::object(), seconds(std::nan(""))), error);
}

TEST_F(lockable_test, bad_requirements_fail_before_locking) {
  auto l = make(boards(1));
  try {
    l.lock("os");
    FAIL();
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_requirements);
  }
  EXPECT_FALSE(fs::exists(folder_)) << "nothing may be locked or created for bad requirements";
}

TEST_F(lockable_test, stale_pid_file_is_taken_over) {
  fs::create_directories(folder_);
  // A PID that cannot be alive: beyond the kernel's pid_max.
  std::ofstream(folder_ / "b0.pid") << "2147483646\n";
  auto l = make(boards(1));
  EXPECT_EQ(l.status(json::object()).at(0).state, lock_state::stale);
  auto a = l.lock(json::object());
  const std::string text = read(folder_ / "b0.pid");
  EXPECT_EQ(text.substr(0, text.find('\n')), std::to_string(::getpid()));
}

TEST_F(lockable_test, garbage_pid_file_is_taken_over) {
  fs::create_directories(folder_);
  std::ofstream(folder_ / "b0.pid") << "not a pid\n";
  auto l = make(boards(1));
  EXPECT_NO_THROW(l.lock(json::object()));
}

TEST_F(lockable_test, live_pid_without_flock_is_busy_like_py_lockable) {
  fs::create_directories(folder_);
  std::ofstream(folder_ / "b0.pid") << ::getppid() << "\n";
  auto l = make(boards(1));
  EXPECT_EQ(l.status(json::object()).at(0).state, lock_state::held);
  EXPECT_THROW(l.lock(json::object()), error);
}

TEST_F(lockable_test, invalid_utf8_in_requirements_and_hostname_is_shown_not_thrown) {
  // Requirements and host names from a command line may be any bytes. nlohmann's dump() throws
  // on invalid UTF-8; messages and the lock file show it as U+FFFD instead.
  auto l = make(boards(1));
  try {
    l.lock(std::string_view("id=b\xff"));
    FAIL() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::no_match);
    EXPECT_NE(std::string(e.what()).find("\"id\":\"b\xef\xbf\xbd\""), std::string::npos)
        << e.what();
  }
  json board = boards(1).at(0);
  board["hostname"] = "h\xff";
  options opts;
  opts.hostname = "h\xff";
  opts.inventory = memory_inventory(json::array({board}));
  opts.lock_folder = folder_.string();
  lockable odd(opts);
  const auto a = odd.lock(json::object());
  EXPECT_NE(read(folder_ / "b0.pid").find("\"host\":\"h\xef\xbf\xbd\""), std::string::npos);
}

TEST_F(lockable_test, lock_file_details_of_the_wrong_types_are_ignored) {
  // The second line is ours (host, allocation, since), but anyone can write the file.
  fs::create_directories(folder_);
  std::ofstream(folder_ / "b0.pid") << ::getppid() << "\n"
                                    << R"({"host": 5, "alloc_id": {}, "since": [1]})"
                                    << "\n";
  auto l = make(boards(1));
  const lock_status status = l.status(json::object()).at(0);
  EXPECT_EQ(status.state, lock_state::held);
  EXPECT_EQ(status.holder.pid, ::getppid());
  EXPECT_EQ(status.holder.host, "");
  try {
    l.lock(json::object());
    FAIL() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::timeout) << e.what();
  }
}

TEST_F(lockable_test, symlinked_lock_file_is_not_followed) {
  fs::create_directories(folder_);
  const auto target = dir_.path() / "target";
  std::ofstream(target) << "precious\n";
  fs::create_symlink(target, folder_ / "b0.pid");
  auto l = make(boards(1));
  try {
    l.lock(json::object());
    FAIL() << "a symlink must not be locked";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::timeout);
    EXPECT_NE(std::string(e.what()).find("is a symbolic link; remove it"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(read(target), "precious\n");
  EXPECT_TRUE(fs::is_symlink(folder_ / "b0.pid"));
}

TEST_F(lockable_test, directory_as_lock_file_makes_resource_unusable_not_fatal) {
  fs::create_directories(folder_ / "b0.pid");
  auto l = make(boards(2));
  EXPECT_EQ(l.lock(json::object()).resource_id(), "b1");
}

TEST_F(lockable_test, lock_folder_that_is_a_file_is_a_clear_error) {
  std::ofstream(folder_) << "x";
  auto l = make(boards(1));
  try {
    l.lock(json::object());
    FAIL();
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::lock_store);
    EXPECT_EQ(std::string(e.what()),
              "lock folder '" + folder_.string() + "': cannot use: Not a directory");
    EXPECT_EQ(e.culprit(), setting::lock_folder) << "front ends name their option";
  }
}

TEST_F(lockable_test, missing_parents_of_lock_folder_are_created) {
  folder_ = dir_.path() / "a" / "b c" / "locks";
  auto l = make(boards(1));
  auto a = l.lock(json::object());
  EXPECT_TRUE(fs::exists(folder_ / "b0.pid"));
}

TEST_F(lockable_test, lock_many_takes_distinct_resources) {
  auto l = make(json::parse(R"([{"id": "a", "hostname": "h", "online": true, "k": 1},
                                {"id": "b", "hostname": "h", "online": true, "k": 1},
                                {"id": "c", "hostname": "h", "online": true, "k": 2}])"));
  auto all = l.lock_many({{{"k", 1}}, {{"k", 1}}, {{"k", 2}}});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].resource_id(), "c");
  EXPECT_NE(all[0].resource_id(), all[1].resource_id());
  EXPECT_NE(all[0].alloc_id(), all[1].alloc_id());
}

TEST_F(lockable_test, lock_many_needs_an_assignment_not_a_greedy_pick) {
  // Greedy could give "a" to the first requirement and leave nothing for the second.
  auto l = make(json::parse(R"([{"id": "a", "hostname": "h", "online": true, "x": 1, "y": 1},
                                {"id": "b", "hostname": "h", "online": true, "x": 1}])"));
  for (int i = 0; i < 20; ++i) {
    auto all = l.lock_many({{{"x", 1}}, {{"y", 1}}});
    EXPECT_EQ(all[0].resource_id(), "b");
    EXPECT_EQ(all[1].resource_id(), "a");
  }
}

TEST_F(lockable_test, lock_many_impossible_is_no_match) {
  auto l = make(boards(1));
  try {
    l.lock_many({json::object(), json::object()}, seconds(5));
    FAIL();
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::no_match);
  }
}

TEST_F(lockable_test, lock_many_holds_nothing_when_it_fails) {
  auto l = make(boards(2));
  auto held = l.lock("{}");
  EXPECT_THROW(l.lock_many({json::object(), json::object()}), error);
  const auto other = held.resource_id() == "b0" ? "b1" : "b0";
  EXPECT_FALSE(fs::exists(folder_ / (std::string(other) + ".pid")));
}

TEST_F(lockable_test, statistics_count_allocations_and_failures) {
  auto l = make(boards(1));
  { auto a = l.lock(json::object()); }
  auto b = l.lock(json::object());
  EXPECT_THROW(l.lock(json::object()), error);
  const auto s = l.stats();
  EXPECT_EQ(s.allocations, 2u);
  EXPECT_EQ(s.failures, 1u);
}

TEST_F(lockable_test, allocation_reports_times_as_json) {
  auto l = make(boards(1));
  auto a = l.lock(json::object());
  a.unlock();
  const json j = a.to_json();
  EXPECT_EQ(j["resource_id"], "b0");
  EXPECT_TRUE(j["release_time"].is_string());
  EXPECT_GE(j["allocation_duration"].get<double>(), 0.0);
}

TEST_F(lockable_test, select_lists_matches_in_inventory_order_and_locks_nothing) {
  auto l = make(json::parse(R"([
      {"id": "a", "hostname": "h", "online": true, "os": "android", "ram": 4},
      {"id": "b", "hostname": "h", "online": true, "os": "ios", "ram": 8},
      {"id": "c", "hostname": "h", "online": false, "os": "android", "ram": 16},
      {"id": "d", "hostname": "x", "online": true, "os": "android", "ram": 16},
      {"id": "e", "hostname": "h", "online": true, "os": "android", "ram": 12}])"));
  const auto ids = [](const std::vector<json>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e["id"]);
    return out;
  };
  // Defaults apply: c is offline and d on another host.
  EXPECT_EQ(ids(l.select(R"({"ram": {"$gte": 8}})"_json)), (std::vector<std::string>{"b", "e"}));
  EXPECT_EQ(ids(l.select(R"({"$or": [{"os": "ios"}, {"ram": {"$lt": 8}}]})"_json)),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ids(l.select(R"({"online": null, "hostname": {"$regex": "^[hx]$"}, "ram": 16})"_json)),
            (std::vector<std::string>{"c", "d"}));
  EXPECT_TRUE(l.select(R"({"os": "linux"})"_json).empty());
  EXPECT_EQ(l.select(json::object()).front(), json::parse(R"({"id": "a", "hostname": "h",
      "online": true, "os": "android", "ram": 4})"));
  EXPECT_FALSE(fs::exists(folder_) && !fs::is_empty(folder_)) << "select must not lock";
  auto held = l.lock(R"({"ram": {"$gte": 8}})", seconds(0));
  EXPECT_EQ(l.select(R"({"ram": {"$gte": 8}})"_json).size(), 2u) << "held entries still listed";
}

TEST_F(lockable_test, bad_query_operators_fail_before_anything_is_locked) {
  auto l = make(boards(2));
  try {
    l.lock(R"({"id": {"$in": "b0"}})", seconds(5));
    FAIL() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_requirements);
    EXPECT_STREQ(e.what(), "invalid requirements: $in at 'id': needs an array, got a string");
  }
  EXPECT_THROW(l.select(R"({"name": {"$regex": "("}})"_json), error);
  // The second query is bad: the first resource is not taken either.
  EXPECT_THROW(l.lock_many({json::object(), R"({"id": {"$size": "x"}})"_json}), error);
  EXPECT_FALSE(fs::exists(folder_)) << "nothing may be locked or created for bad requirements";
}

TEST_F(lockable_test, requirements_nested_10000_levels_are_refused_not_crashed) {
  // Copying or printing JSON this deep recurses once per level (and overflows the stack under
  // ASan at a few thousand levels), so the depth is checked before any copy.
  std::string text;
  for (int i = 0; i < 10000; ++i) text += R"({"$not": )";
  text += "{}";
  text.append(10000, '}');
  auto l = make(boards(1));
  const char* const too_deep =
      "invalid requirements: nested more than 100 levels deep (objects and arrays inside each "
      "other)";
  try {
    l.lock(std::string_view(text));
    FAIL() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_requirements);
    EXPECT_STREQ(e.what(), too_deep);
  }
  const json deep = json::parse(text);
  try {
    l.select(deep);
    FAIL() << "no error";
  } catch (const error& e) {
    EXPECT_STREQ(e.what(), too_deep);
  }
  EXPECT_THROW(l.lock(deep), error);
}

}  // namespace
}  // namespace gtest_lockable
