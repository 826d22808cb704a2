#include "gtest_lockable/inventory.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/extend/inventory_provider.hpp"
#include "gtest_lockable/query.hpp"

namespace gtest_lockable {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string error_of(const std::string& text, const std::string& origin = "inv.json") {
  try {
    parse_inventory(text, origin);
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_inventory);
    return e.what();
  }
  return "(no error)";
}

class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "inventory_test.XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~temp_dir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

TEST(inventory_test, valid_inventory_keeps_order_and_fields) {
  const auto inv = parse_inventory(
      R"([{"id": "b", "hostname": "h", "online": true, "nested": {"x": [1, 2]}}, {"id": 7}])",
      "inv.json");
  ASSERT_EQ(inv.resources.size(), 2u);
  EXPECT_EQ(inv.origin, "inv.json");
  EXPECT_EQ(resource_id_text(inv.resources[0]), "b");
  EXPECT_EQ(resource_id_text(inv.resources[1]), "7");
  EXPECT_EQ(inv.resources[0]["nested"]["x"][1], 2);
}

TEST(inventory_test, empty_array_is_valid) {
  EXPECT_TRUE(parse_inventory("[]", "x").resources.empty());
}

TEST(inventory_test, parse_error_names_file_line_and_column) {
  EXPECT_EQ(error_of("[\n  {\"id\": 1},\n  {\"id\": }\n]"),
            "invalid inventory 'inv.json': parse error at line 3, column 10: syntax error while "
            "parsing value - unexpected '}'; expected '[', '{', or a literal");
}

// Found by fuzzing: a number too large for a double escaped as a non-parse_error exception.
TEST(inventory_test, number_overflow_is_an_error_not_a_crash) {
  EXPECT_EQ(error_of(R"([{"id": "a", "ram": 1E400}])"),
            "invalid inventory 'inv.json': number overflow parsing '1E400'");
}

TEST(inventory_test, not_an_array) {
  EXPECT_EQ(error_of(R"({"id": 1})"),
            "invalid inventory 'inv.json': must be a JSON array of resources, got object");
}

TEST(inventory_test, entry_not_an_object) {
  EXPECT_EQ(error_of(R"([{"id": 1}, "x"])"),
            "invalid inventory 'inv.json': entry 1 is string, not an object");
}

TEST(inventory_test, missing_id) {
  EXPECT_EQ(error_of(R"([{"hostname": "h"}])"),
            "invalid inventory 'inv.json': entry 0 has no 'id'");
}

TEST(inventory_test, id_of_wrong_type) {
  EXPECT_EQ(error_of(R"([{"id": 1.5}, {"id": {"a": 1}}, {"id": true}])"),
            "invalid inventory 'inv.json': entry 0 has an id that is a fraction (ids are strings "
            "or integers); entry 1 has an id that is object (ids are strings or integers); entry 2 "
            "has an id that is boolean (ids are strings or integers)");
}

TEST(inventory_test, unsafe_ids_are_refused) {
  EXPECT_EQ(error_of(R"([{"id": "../x"}])"),
            "invalid inventory 'inv.json': entry 0 has id \"../x\", which contains '/' (ids name "
            "lock files)");
  EXPECT_EQ(error_of(R"([{"id": ".."}])"),
            "invalid inventory 'inv.json': entry 0 has id \"..\", which is '..' (ids name lock "
            "files)");
  EXPECT_EQ(error_of(R"([{"id": "."}])"),
            "invalid inventory 'inv.json': entry 0 has id \".\", which is '.' (ids name lock "
            "files)");
  EXPECT_EQ(error_of(R"([{"id": ""}])"),
            "invalid inventory 'inv.json': entry 0 has id \"\", which is empty (ids name lock "
            "files)");
  EXPECT_EQ(error_of(R"([{"id": "a\u0000b"}])"),
            "invalid inventory 'inv.json': entry 0 has id \"a\\u0000b\", which contains a NUL "
            "character (ids name lock files)");
  EXPECT_NE(error_of("[{\"id\": \"" + std::string(300, 'x') + "\"}]")
                .find("which is longer than 251 bytes (ids name lock files)"),
            std::string::npos);
}

// Parsing is iterative, but copying, comparing and printing an entry recurse once per level:
// an entry nested 100,000 deep crashed the lockable command when it copied the chosen resource.
TEST(inventory_test, deeply_nested_entries_are_refused) {
  const auto nested = [](int levels) {
    return R"([{"id": "a"}, {"id": "b", "x": )" + std::string(levels, '[') +
           std::string(levels, ']') + "}]";
  };
  EXPECT_EQ(error_of(nested(100000)),
            "invalid inventory 'inv.json': entry 1 nests objects and arrays more than 100 levels "
            "deep");
  EXPECT_EQ(error_of(nested(100)), error_of(nested(100000)));  // the entry is level 1
  EXPECT_EQ(parse_inventory(nested(99), "inv.json").resources.size(), 2u);
}

TEST(inventory_test, all_duplicate_ids_are_listed) {
  EXPECT_EQ(error_of(R"([{"id": "a"}, {"id": "b"}, {"id": "a"}, {"id": 1}, {"id": "1"}])"),
            "invalid inventory 'inv.json': duplicate ids: '1' (entries 3 4), 'a' (entries 0 2)");
}

TEST(inventory_test, memory_inventory_is_validated) {
  EXPECT_EQ(memory_inventory(json::array({{{"id", "x"}}}))->load()->resources.size(), 1u);
  EXPECT_THROW(memory_inventory(json::array({{{"idx", "x"}}})), error);
}

TEST(inventory_test, missing_file_is_a_clear_error) {
  temp_dir dir;
  const auto path = (dir.path() / "nope.json").string();
  try {
    file_inventory(path)->load();
    FAIL() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_inventory);
    EXPECT_EQ(std::string(e.what()),
              "cannot read inventory '" + path + "': No such file or directory");
    EXPECT_EQ(e.culprit(), setting::resources) << "front ends name their option";
  }
}

TEST(inventory_test, directory_is_not_an_inventory) {
  temp_dir dir;
  EXPECT_THROW(file_inventory(dir.path().string())->load(), error);
}

// A sparse 30 GiB file made `lockable` try to allocate it ("internal error: std::bad_alloc");
// one that fits in memory would have been allocated and zero-filled before its parse failed.
TEST(inventory_test, file_larger_than_256_mib_is_refused_unread) {
  temp_dir dir;
  const auto path = dir.path() / "huge.json";
  write(path, "[]");
  fs::resize_file(path, (256ULL << 20) + 1);  // sparse: no disk space, no time
  try {
    file_inventory(path.string())->load();
    FAIL() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_inventory);
    EXPECT_EQ(std::string(e.what()),
              "cannot read inventory '" + path.string() + "': larger than 256 MiB");
  }
  fs::resize_file(path, 30ULL << 30);
  EXPECT_THROW(file_inventory(path.string())->load(), error);
}

TEST(inventory_test, file_is_reread_when_it_changes) {
  temp_dir dir;
  const auto path = dir.path() / "resources.json";
  write(path, R"([{"id": "a"}])");
  auto provider = file_inventory(path.string());
  const auto first = provider->load();
  EXPECT_EQ(provider->load(), first) << "unchanged file must not be parsed again";
  write(path, R"([{"id": "a"}, {"id": "b"}])");
  const auto second = provider->load();
  ASSERT_EQ(second->resources.size(), 2u);
  EXPECT_EQ(first->resources.size(), 1u);
}

TEST(inventory_test, http_uri_is_not_read_as_a_file) {
  ::setenv("LOCKABLE_HTTP_RETRIES", "0", 1);  // nothing listens on port 1: no use retrying
  try {
    open_inventory("http://127.0.0.1:1/resources.json")->load();
    ADD_FAILURE() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_inventory);
    EXPECT_NE(std::string(e.what()).find("http://127.0.0.1:1/resources.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
  }
  ::unsetenv("LOCKABLE_HTTP_RETRIES");
}

// A provider of one's own implements only `load` and `describe`; `select` then loads and
// filters.
class counting_provider final : public inventory_provider {
 public:
  explicit counting_provider(json entries)
      : inventory_(std::make_shared<const inventory>(make_inventory(std::move(entries), "mine"))) {}
  std::shared_ptr<const inventory> load() override {
    ++loads;
    return inventory_;
  }
  std::string describe() const override { return "my inventory"; }
  int loads = 0;

 private:
  std::shared_ptr<const inventory> inventory_;
};

TEST(inventory_test, select_of_a_provider_of_ones_own_loads_and_filters) {
  counting_provider provider(json::parse(R"([{"id": "a", "os": "ios"}, {"id": "b", "os": "linux"},
                                              {"id": "c", "os": "ios"}])"));
  const query ios(json::parse(R"({"os": "ios"})"));
  const query linux_os(json::parse(R"({"os": "linux"})"));
  const query none(json::parse(R"({"os": "beos"})"));

  const auto one = provider.select({&ios});
  EXPECT_EQ(one.size, 3u);
  EXPECT_EQ(json(one.resources), json::parse(R"([{"id": "a", "os": "ios"},
                                                 {"id": "c", "os": "ios"}])"));
  // At least one of the queries, in inventory order.
  const auto both = provider.select({&linux_os, &ios});
  ASSERT_EQ(both.resources.size(), 3u);
  EXPECT_EQ(both.resources[1]["id"], "b");
  const auto nothing = provider.select({&none});
  EXPECT_EQ(nothing.size, 3u);
  EXPECT_TRUE(nothing.resources.empty());
  EXPECT_EQ(provider.loads, 3);
}

}  // namespace
}  // namespace gtest_lockable
