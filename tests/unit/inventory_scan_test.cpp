// The indexed path for inventory files (src/inventory/scan.hpp) must give exactly what
// parse_inventory and a filter give: the same entries, and the same error for a bad inventory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/lockable.hpp"
#include "src/inventory/scan.hpp"

namespace gtest_lockable {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// What a lock call learns from an inventory: its error, or its size and the matching entries.
struct outcome {
  std::string error;
  std::size_t size = 0;
  std::vector<json> selected;
  bool operator==(const outcome& o) const {
    return error == o.error && size == o.size && selected == o.selected;
  }
};

void PrintTo(const outcome& o, std::ostream* out) {
  *out << (o.error.empty() ? "" : "error: " + o.error) << " size " << o.size << " selected "
       << json(o.selected).dump();
}

std::vector<query> compile(const std::vector<json>& requirements) {
  std::vector<query> out;
  for (const auto& r : requirements) out.emplace_back(r);
  return out;
}

outcome through_parse(const std::string& text, const std::vector<json>& requirements) {
  const auto queries = compile(requirements);
  outcome out;
  try {
    const auto inv = parse_inventory(text, "inv.json");
    out.size = inv.resources.size();
    for (const auto& resource : inv.resources) {
      for (const auto& q : queries) {
        if (q.matches(resource)) {
          out.selected.push_back(resource);
          break;
        }
      }
    }
  } catch (const error& e) {
    out.error = e.what();
  }
  return out;
}

outcome through_index(const std::string& text, const std::vector<json>& requirements) {
  const auto queries = compile(requirements);
  std::vector<const query*> wanted;
  for (const auto& q : queries) wanted.push_back(&q);
  outcome out;
  try {
    const auto index = detail::index_inventory(text, "inv.json");
    out.size = index.size();
    out.selected = detail::select_entries(index, wanted);
  } catch (const error& e) {
    out.error = e.what();
  }
  return out;
}

void expect_same(const std::string& text, const std::vector<json>& requirements) {
  const auto expected = through_parse(text, requirements);
  EXPECT_EQ(through_index(text, requirements), expected) << "inventory: " << text;
}

const std::vector<json> by_host = {{{"hostname", "h1"}}};

TEST(inventory_scan_test, plain_inventory_is_indexed_and_only_matching_entries_are_selected) {
  const std::string text = R"([
    {"id": "a", "hostname": "h1", "online": true, "tags": ["x", "y"], "n": -1.5},
    {"id": 2, "hostname": "h2", "online": false, "board": {"rev": 0}},
    {"id": "c", "hostname": ["h0", "h1"], "x": null}
  ])";
  const auto index = detail::index_inventory(text, "inv.json");
  EXPECT_EQ(index.whole, nullptr) << "a plain inventory must not be parsed whole";
  ASSERT_EQ(index.entries.size(), 3u);
  for (const auto& entry : index.entries) EXPECT_TRUE(entry.plain);
  expect_same(text, by_host);
  EXPECT_EQ(through_index(text, by_host).selected.size(), 2u);
}

TEST(inventory_scan_test, errors_are_those_of_parse_inventory) {
  for (const std::string& text : std::vector<std::string>{
           "",
           " ",
           "[",
           "]",
           "[,]",
           "[1,]",
           "[{}",
           "{\"id\": 1}",
           "null",
           "[] x",
           "[]]",
           "[\n  {\"id\": 1},\n  {\"id\": }\n]",
           R"([{"id": "a", "ram": 1E400}])",
           R"([{"id": "a", "ram": 1e-400}])",
           R"([{"id": 1}, "x"])",
           R"([{"hostname": "h"}])",
           R"([{"id": 1.5}, {"id": {"a": 1}}, {"id": true}, {"id": null}, {"id": [1]}])",
           R"([{"id": "../x"}])",
           R"([{"id": ".."}])",
           R"([{"id": "."}])",
           R"([{"id": ""}])",
           R"([{"id": "a\u0000b"}])",
           "[{\"id\": \"" + std::string(300, 'x') + "\"}]",
           R"([{"id": "a"}, {"id": "b"}, {"id": "a"}, {"id": 1}, {"id": "1"}])",
           R"([{"id": "a\u0062"}, {"id": "ab"}, {"id": "\u00e9"}, {"id": "é"}])",
           R"([{"id": "a", "s": "\x"}])",
           R"([{"id": "a", "s": "\ud800"}])",
           "[{\"id\": \"a\", \"s\": \"\xff\"}]",
           "[{\"id\": \"a\", \"s\": \"tab\there\"}]",
           R"([{"id": 01}])",
           R"([{"id": -}])",
           R"([{"id": 1.}])",
           R"([{"id": .5}])",
           R"([{"id": tru}])",
           R"([{"id": "a"} {"id": "b"}])",
           R"([{"id" "a"}])",
           R"([{"id": "a",}])",
           std::string("[{\"id\": \"a\"}]\0", 14),
           "[{\"id\": \"a\"}] // comment",
           R"([{"id": -0}, {"id": 0}])",
           R"([{"id": 12345678901234567890}])",
           R"([{"id": 123456789012345678901234}])",
           R"([{"id": 1e2}])",
       }) {
    expect_same(text, by_host);
  }
}

TEST(inventory_scan_test, entries_outside_the_plain_subset_are_parsed_by_nlohmann) {
  // Escapes, non-ASCII, exponents, long numbers, non-object entries' problems, repeated keys.
  for (const std::string& text : std::vector<std::string>{
           R"([{"id": "a", "hostname": "h\u0031"}, {"id": "b", "hostname": "h1"}])",
           R"([{"id": "a\u0062", "hostname": "h1"}, {"id": "c", "hostname": "h1"}])",
           R"([{"id": "é", "hostname": "h1", "note": "naïve"}])",
           R"([{"id": "a", "hostname": "h1", "big": 1e300, "long": 1234567890123456789012}])",
           R"([{"id": "a", "id": "b", "hostname": "h1"}, {"id": "a", "hostname": "h1"}])",
           R"([{"id": 9223372036854775807, "hostname": "h1"}, {"id": -42, "hostname": "h1"}])",
           R"([{"\u0069d": "a", "hostname": "h1"}])",
       }) {
    expect_same(text, by_host);
  }
}

TEST(inventory_scan_test, text_the_scanner_cannot_index_is_parsed_whole) {
  const std::string bom = "\xEF\xBB\xBF[{\"id\": \"a\", \"hostname\": \"h1\"}]";
  expect_same(bom, by_host);
  EXPECT_NE(detail::index_inventory(bom, "inv.json").whole, nullptr);
  const std::string deep =
      "[{\"id\": \"a\", \"hostname\": \"h1\", \"d\": " + std::string(100, '[') +
      std::string(100, ']') + "}]";
  expect_same(deep, by_host);
}

TEST(inventory_scan_test, requirements_of_every_shape_select_what_the_filter_selects) {
  const std::string text = R"([
    {"id": "a", "hostname": "h1", "type": "board", "tags": ["usb", "wifi"], "b": {"v": "acme"}},
    {"id": "b", "hostname": "h1", "type": "phone", "tags": ["usb"], "name": "q\"uote"},
    {"id": "c", "hostname": "h2", "type": "board", "name": "Pixel-7", "type2": "h1"},
    {"id": "d", "hostname": "h\u0032", "type": "board"},
    {"id": "e", "hostname": "h1", "type": "x", "b": {"v": "other"}, "hostname1": "board"}
  ])";
  const std::vector<std::vector<json>> cases = {
      {json::object()},
      {{{"hostname", "h1"}, {"type", "board"}}},
      {{{"hostname", "h2"}}},
      {{{"tags", "usb"}}},
      {{{"tags", {{"$all", {"usb", "wifi"}}}}}},
      {{{"b", {{"v", "acme"}}}}},
      {{{"b.v", "acme"}}},
      {{{"name", "q\"uote"}}},
      {{{"name", {{"$regex", "^pixel"}, {"$options", "i"}}}}},
      {{{"$or", {{{"hostname", "h2"}}, {{"type", "phone"}}}}}},
      {{{"type", {{"$ne", "board"}}}}},
      {{{"type", {{"$eq", "board"}}}, {"hostname", {{"$in", {"h1", "h2"}}}}}},
      {{{"type", {{"$elemMatch", {{"$eq", "x"}}}}}}},
      {{{"hostname", "h1"}}, {{"hostname", "h2"}}},
      {{{"missing", "h1"}}},
  };
  for (const auto& requirements : cases) {
    SCOPED_TRACE(json(requirements).dump());
    expect_same(text, requirements);
  }
}

// Random inventories, many of them broken by a random byte: the two paths must always agree.
TEST(inventory_scan_test, random_and_mutated_inventories_agree_with_parse_inventory) {
  std::mt19937 random(20261126);
  const auto pick = [&](std::initializer_list<const char*> options) {
    return std::string(options.begin()[random() % options.size()]);
  };
  const auto value = [&]() {
    return pick({"\"h1\"", "\"h2\"", "1", "-0", "2.5", "1e3", "true", "false", "null", "[]",
                 "[\"h1\", 2]", "{}", "{\"v\": \"h1\"}", "\"h\\u0031\"", "\"é\"", "\"\""});
  };
  for (int n = 0; n < 3000; ++n) {
    std::string text = "[";
    const int entries = static_cast<int>(random() % 5);
    for (int e = 0; e < entries; ++e) {
      if (e) text += pick({",", " , ", ",\n"});
      if (random() % 10 == 0) {
        text += value();
        continue;
      }
      text += "{";
      if (random() % 8) text += "\"id\": " + pick({"\"a\"", "\"b\"", "1", "\"1\"", "\"x/y\"", "2"});
      const int fields = static_cast<int>(random() % 3);
      for (int f = 0; f < fields; ++f) {
        text += std::string(text.back() == '{' ? "" : ", ") + "\"" +
                pick({"hostname", "id", "tags", "online"}) + "\": " + value();
      }
      text += "}";
    }
    text += "]";
    if (random() % 2) {
      const auto at = random() % text.size();
      text[at] = "[]{}\",:\\ 0-e.a\x01\xc3"[random() % 17];
    }
    SCOPED_TRACE(text);
    expect_same(text, {{{"hostname", "h1"}}, {{"tags", "h1"}}});
    if (HasFailure()) break;  // one reproducer is enough
  }
}

TEST(inventory_scan_test, lock_calls_see_a_changed_inventory_file) {
  std::string pattern = (fs::temp_directory_path() / "inventory_scan_test.XXXXXX").string();
  const fs::path dir = ::mkdtemp(pattern.data());
  const auto path = dir / "resources.json";
  std::ofstream(path) << R"([{"id": "a", "hostname": "h", "online": true}])";
  options opts;
  opts.hostname = "h";
  opts.resources = path.string();
  opts.lock_folder = (dir / "locks").string();
  lockable locker(opts);
  EXPECT_EQ(locker.select(json::object()).size(), 1u);
  std::ofstream(path) << R"([{"id": "a", "hostname": "h", "online": true},
                             {"id": "b", "hostname": "h", "online": true}])";
  EXPECT_EQ(locker.select(json::object()).size(), 2u);
  std::ofstream(path) << R"([{"id": "a"}, {"id": "a"}])";
  try {
    locker.lock(json::object());
    ADD_FAILURE() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(std::string(e.what()),
              "invalid inventory '" + path.string() + "': duplicate ids: 'a' (entries 0 1)");
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gtest_lockable
