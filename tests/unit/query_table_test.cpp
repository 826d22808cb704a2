// Table-driven tests of the query language: (query, resource, expected) for every operator
// family, and (query, message) for every kind of malformed query.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/query.hpp"

namespace gtest_lockable {
namespace {

using nlohmann::json;

struct match_case {
  const char* query;
  const char* resource;
  bool expected;
};

struct error_case {
  const char* query;
  const char* message;
};

void check(const std::vector<match_case>& table) {
  for (const auto& c : table) {
    bool got = !c.expected;
    try {
      got = query(json::parse(c.query)).matches(json::parse(c.resource));
    } catch (const std::exception& e) {
      ADD_FAILURE() << c.query << " threw: " << e.what();
      continue;
    }
    EXPECT_EQ(got, c.expected) << "query " << c.query << "\n  on " << c.resource;
  }
}

void check_errors(const std::vector<error_case>& table) {
  for (const auto& c : table) {
    try {
      query q(json::parse(c.query));
      ADD_FAILURE() << "no error for " << c.query;
    } catch (const error& e) {
      EXPECT_EQ(e.code(), errc::invalid_requirements) << c.query;
      EXPECT_EQ(std::string(e.what()), c.message) << "query " << c.query;
    }
  }
}

TEST(query_table_test, equality_and_ne) {
  check({
      {R"({"ram": {"$eq": 8}})", R"({"ram": 8})", true},
      {R"({"ram": {"$eq": 8}})", R"({"ram": 8.0})", true},
      {R"({"ram": {"$eq": "8"}})", R"({"ram": 8})", false},
      {R"({"ram": {"$eq": 8}})", R"({})", false},
      {R"({"tags": {"$eq": "usb"}})", R"({"tags": ["usb", "wifi"]})", true},
      {R"({"tags": {"$eq": ["usb", "wifi"]}})", R"({"tags": ["usb", "wifi"]})", true},
      {R"({"tags": {"$eq": ["wifi", "usb"]}})", R"({"tags": ["usb", "wifi"]})", false},
      {R"({"board": {"$eq": {"rev": 2}}})", R"({"board": {"rev": 2, "vendor": "x"}})", false},
      {R"({"board": {"$eq": {"rev": 2, "v": "x"}}})", R"({"board": {"v": "x", "rev": 2.0}})", true},
      {R"({"serial": {"$eq": null}})", R"({"serial": null})", true},
      {R"({"serial": {"$eq": null}})", R"({})", false},
      {R"({"online": {"$eq": 1}})", R"({"online": true})", false},
      {R"({"ram": {"$ne": 8}})", R"({"ram": 4})", true},
      {R"({"ram": {"$ne": 8}})", R"({"ram": 8})", false},
      {R"({"ram": {"$ne": 8}})", R"({})", true},
      {R"({"tags": {"$ne": "usb"}})", R"({"tags": ["usb", "wifi"]})", false},
      {R"({"tags": {"$ne": "eth"}})", R"({"tags": ["usb", "wifi"]})", true},
      {R"({"big": 18446744073709551615})", R"({"big": -1})", false},
      {R"({"big": 9007199254740993})", R"({"big": 9007199254740993})", true},
  });
}

TEST(query_table_test, ordering) {
  check({
      {R"({"ram": {"$gt": 4}})", R"({"ram": 8})", true},
      {R"({"ram": {"$gt": 8}})", R"({"ram": 8})", false},
      {R"({"ram": {"$gte": 8}})", R"({"ram": 8})", true},
      {R"({"ram": {"$gte": 8.5}})", R"({"ram": 8})", false},
      {R"({"ram": {"$lt": 8.5}})", R"({"ram": 8})", true},
      {R"({"ram": {"$lt": 8}})", R"({"ram": 8})", false},
      {R"({"ram": {"$lte": 8}})", R"({"ram": 8.0})", true},
      {R"({"ram": {"$lte": 7.99}})", R"({"ram": 8})", false},
      {R"({"cpu": {"$gt": 2}})", R"({"cpu": 2.5})", true},
      {R"({"t": {"$gt": -1}})", R"({"t": 0})", true},
      {R"({"t": {"$lt": -1.5}})", R"({"t": -2})", true},
      {R"({"big": {"$gt": -1}})", R"({"big": 18446744073709551615})", true},
      {R"({"big": {"$gt": 9007199254740992}})", R"({"big": 9007199254740993})", true},
      {R"({"os": {"$gt": "a"}})", R"({"os": "android"})", true},
      {R"({"os": {"$lt": "android"}})", R"({"os": "android"})", false},
      {R"({"os": {"$lte": "android"}})", R"({"os": "android"})", true},
      {R"({"name": {"$gt": "Z"}})", R"({"name": "a"})", true},
      {R"({"ram": {"$gt": "4"}})", R"({"ram": 8})", false},
      {R"({"os": {"$gt": 1}})", R"({"os": "android"})", false},
      {R"({"online": {"$gt": false}})", R"({"online": true})", true},
      {R"({"online": {"$gt": 0}})", R"({"online": true})", false},
      {R"({"x": {"$gte": null}})", R"({"x": null})", false},
      {R"({"x": {"$lt": [5]}})", R"({"x": [1]})", false},
      {R"({"x": {"$gte": {}}})", R"({"x": {}})", false},
      {R"({"scores": {"$gt": 90}})", R"({"scores": [50, 95]})", true},
      {R"({"scores": {"$gt": 100}})", R"({"scores": [50, 95]})", false},
      // Each condition may be met by a different element; $elemMatch asks for one element.
      {R"({"scores": {"$gt": 60, "$lt": 70}})", R"({"scores": [50, 95]})", true},
      {R"({"scores": {"$elemMatch": {"$gt": 60, "$lt": 70}}})", R"({"scores": [50, 95]})", false},
      {R"({"ram": {"$gt": 4}})", R"({})", false},
      {R"({"ram": {"$gte": 4, "$lte": 16}})", R"({"ram": 8})", true},
  });
}

TEST(query_table_test, in_and_nin) {
  check({
      {R"({"os": {"$in": ["android", "ios"]}})", R"({"os": "ios"})", true},
      {R"({"os": {"$in": ["android", "ios"]}})", R"({"os": "linux"})", false},
      {R"({"os": {"$in": []}})", R"({"os": "linux"})", false},
      {R"({"os": {"$in": ["android"]}})", R"({})", false},
      {R"({"tags": {"$in": ["eth", "wifi"]}})", R"({"tags": ["usb", "wifi"]})", true},
      {R"({"tags": {"$in": [["usb", "wifi"]]}})", R"({"tags": ["usb", "wifi"]})", true},
      {R"({"ram": {"$in": [8.0, 16]}})", R"({"ram": 8})", true},
      {R"({"ram": {"$in": ["8"]}})", R"({"ram": 8})", false},
      {R"({"serial": {"$in": [null]}})", R"({"serial": null})", true},
      {R"({"serial": {"$in": [null]}})", R"({})", false},
      {R"({"board": {"$in": [{"rev": 2}]}})", R"({"board": {"rev": 2, "vendor": "x"}})", false},
      {R"({"board": {"$in": [{"rev": 2}]}})", R"({"board": {"rev": 2}})", true},
      {R"({"os": {"$nin": ["android", "ios"]}})", R"({"os": "linux"})", true},
      {R"({"os": {"$nin": ["android", "ios"]}})", R"({"os": "ios"})", false},
      {R"({"os": {"$nin": ["android"]}})", R"({})", true},
      {R"({"os": {"$nin": []}})", R"({"os": "ios"})", true},
      {R"({"tags": {"$nin": ["usb"]}})", R"({"tags": ["usb", "wifi"]})", false},
      {R"({"tags": {"$nin": ["eth"]}})", R"({"tags": ["usb", "wifi"]})", true},
  });
}

TEST(query_table_test, logical_operators) {
  const char* phone = R"({"os": "android", "ram": 8, "cpu": 2.5})";
  check({
      {R"({"$and": [{"os": "android"}, {"ram": 8}]})", phone, true},
      {R"({"$and": [{"os": "android"}, {"ram": 4}]})", phone, false},
      {R"({"$or": [{"os": "ios"}, {"ram": 8}]})", phone, true},
      {R"({"$or": [{"os": "ios"}, {"ram": 4}]})", phone, false},
      {R"({"$nor": [{"os": "ios"}, {"ram": 4}]})", phone, true},
      {R"({"$nor": [{"os": "ios"}, {"ram": 8}]})", phone, false},
      {R"({"$not": {"os": "ios"}})", phone, true},
      {R"({"$not": {"os": "android"}})", phone, false},
      {R"({"$not": {"$not": {"os": "android"}}})", phone, true},
      {R"({"ram": {"$not": {"$gt": 8}}})", phone, true},
      {R"({"ram": {"$not": {"$gt": 4}}})", phone, false},
      {R"({"ram": {"$not": {"$gt": 4}}})", R"({})", true},
      {R"({"os": {"$not": "/^AND/i"}})", phone, false},
      {R"({"os": {"$not": "/^AND/"}})", phone, true},
      {R"({"os": {"$not": {"$regex": "^and"}}})", phone, false},
      {R"({"$or": [{"$and": [{"os": "android"}, {"ram": {"$gte": 8}}]}, {"os": "ios"}]})", phone,
       true},
      {R"({"$or": [{"$and": [{"os": "android"}, {"ram": {"$gte": 16}}]}, {"os": "ios"}]})", phone,
       false},
      {R"({"$or": [{"$and": [{"os": "android"}, {"ram": {"$gte": 16}}]}, {"os": "ios"}]})",
       R"({"os": "ios", "ram": 1})", true},
      {R"({"os": "android", "$or": [{"ram": 16}, {"cpu": {"$gt": 2}}]})", phone, true},
      {R"({"os": "ios", "$or": [{"ram": 16}, {"cpu": {"$gt": 2}}]})", phone, false},
      {R"({"board": {"$or": [{"rev": 3}, {"vendor": "acme"}]}})",
       R"({"board": {"rev": 2, "vendor": "acme"}})", true},
      {R"({"board": {"$or": [{"rev": 3}, {"vendor": "other"}]}})",
       R"({"board": {"rev": 2, "vendor": "acme"}})", false},
      {R"({"ram": {"$or": [{"$lt": 4}, {"$gt": 6}]}})", phone, true},
      {R"({"ram": {"$and": [{"$gt": 4}, {"$lt": 6}]}})", phone, false},
      {R"({"ram": {"$nor": [{"$lt": 4}, {"$gt": 6}]}})", phone, false},
      {R"({"$and": [{"$or": [{"a": 1}, {"b": 1}]}, {"$or": [{"c": 1}, {"d": 1}]}]})",
       R"({"b": 1, "c": 1})", true},
      {R"({"$and": [{"$or": [{"a": 1}, {"b": 1}]}, {"$or": [{"c": 1}, {"d": 1}]}]})",
       R"({"b": 1, "e": 1})", false},
      {R"({"$comment": "pick a phone", "os": "android"})", phone, true},
      {R"({"ram": {"$gt": 4, "$comment": ["any", "value"]}})", phone, true},
  });
}

TEST(query_table_test, exists_and_type) {
  check({
      {R"({"serial": {"$exists": true}})", R"({"serial": null})", true},
      {R"({"serial": {"$exists": true}})", R"({})", false},
      {R"({"serial": {"$exists": false}})", R"({})", true},
      {R"({"serial": {"$exists": false}})", R"({"serial": 1})", false},
      {R"({"board.rev": {"$exists": true}})", R"({"board": {"rev": 2}})", true},
      {R"({"board.rev": {"$exists": true}})", R"({"board": {"vendor": "x"}})", false},
      {R"({"board.rev": {"$exists": false}})", R"({"board": 5})", true},
      {R"({"ports.kind": {"$exists": true}})", R"({"ports": [{"speed": 1}, {"kind": "usb"}]})",
       true},
      {R"({"ports.kind": {"$exists": false}})", R"({"ports": [{"speed": 1}, {"kind": "usb"}]})",
       false},
      {R"({"tags.1": {"$exists": true}})", R"({"tags": ["a", "b"]})", true},
      {R"({"tags.2": {"$exists": true}})", R"({"tags": ["a", "b"]})", false},
      {R"({"board": {"rev": {"$exists": true}}})", R"({"board": {"rev": 2}})", true},
      {R"({"ram": {"$not": {"$exists": true}}})", R"({})", true},
      {R"({"ram": {"$exists": true, "$gt": 4}})", R"({"ram": 8})", true},
      {R"({"ram": {"$type": "number"}})", R"({"ram": 8})", true},
      {R"({"ram": {"$type": "number"}})", R"({"ram": 8.5})", true},
      {R"({"ram": {"$type": "int"}})", R"({"ram": 8})", true},
      {R"({"ram": {"$type": "int"}})", R"({"ram": -8})", true},
      {R"({"ram": {"$type": "int"}})", R"({"ram": 8.5})", false},
      {R"({"ram": {"$type": "double"}})", R"({"ram": 8.5})", true},
      {R"({"ram": {"$type": "long"}})", R"({"ram": 8})", true},
      {R"({"ram": {"$type": "string"}})", R"({"ram": "8"})", true},
      {R"({"ram": {"$type": "string"}})", R"({"ram": 8})", false},
      {R"({"online": {"$type": "bool"}})", R"({"online": true})", true},
      {R"({"online": {"$type": "number"}})", R"({"online": true})", false},
      {R"({"board": {"$type": "object"}})", R"({"board": {}})", true},
      {R"({"tags": {"$type": "array"}})", R"({"tags": []})", true},
      {R"({"serial": {"$type": "null"}})", R"({"serial": null})", true},
      {R"({"serial": {"$type": "null"}})", R"({})", false},
      {R"({"ram": {"$type": 2}})", R"({"ram": "x"})", true},
      {R"({"ram": {"$type": 16}})", R"({"ram": 8})", true},
      {R"({"ram": {"$type": ["string", "number"]}})", R"({"ram": 8})", true},
      {R"({"ram": {"$type": ["string", "bool"]}})", R"({"ram": 8})", false},
      {R"({"tags": {"$type": "string"}})", R"({"tags": ["a", 1]})", true},
  });
}

TEST(query_table_test, regex) {
  check({
      {R"({"name": {"$regex": "^Pix"}})", R"({"name": "Pixel-7"})", true},
      {R"({"name": {"$regex": "xel"}})", R"({"name": "Pixel-7"})", true},
      {R"({"name": {"$regex": "^pix"}})", R"({"name": "Pixel-7"})", false},
      {R"({"name": {"$regex": "^pix", "$options": "i"}})", R"({"name": "Pixel-7"})", true},
      {R"({"name": {"$regex": "/^pix/i"}})", R"({"name": "Pixel-7"})", true},
      {R"({"name": {"$regex": "/^Pix/"}})", R"({"name": "Pixel-7"})", true},
      {R"({"name": {"$regex": "/^pix/", "$options": "i"}})", R"({"name": "Pixel-7"})", true},
      {R"({"name": {"$regex": "^7"}})", R"({"name": "Pixel\n7"})", false},
      {R"({"name": {"$regex": "^7", "$options": "m"}})", R"({"name": "Pixel\n7"})", true},
      {R"({"name": {"$regex": "/^7/m"}})", R"({"name": "Pixel\n7"})", true},
      {R"({"name": {"$regex": "l.7"}})", R"({"name": "Pixel\n7"})", false},
      {R"({"name": {"$regex": "l.7", "$options": "s"}})", R"({"name": "Pixel\n7"})", true},
      {R"({"name": {"$regex": "/^p.*7$/is"}})", R"({"name": "Pixel\n7"})", true},
      {R"({"name": {"$regex": "P i x  # letters\n e l", "$options": "x"}})",
       R"({"name": "Pixel-7"})", true},
      {R"({"name": {"$regex": "Pixel[ ]7", "$options": "x"}})", R"({"name": "Pixel 7"})", true},
      {R"({"name": {"$regex": "Pixel\\ 7", "$options": "x"}})", R"({"name": "Pixel 7"})", true},
      {R"({"name": {"$regex": "Pixel\\#7 # the model", "$options": "x"}})",
       R"({"name": "Pixel#7"})", true},
      {R"({"name": {"$regex": "[[:alpha:] ]+7", "$options": "x"}})", R"({"name": "Pix el7"})",
       true},
      {R"({"name": {"$regex": "Pixel 7", "$options": "x"}})", R"({"name": "Pixel 7"})", false},
      {R"({"ram": {"$regex": "8"}})", R"({"ram": 8})", false},
      {R"({"name": {"$regex": "x"}})", R"({})", false},
      {R"({"tags": {"$regex": "^wi"}})", R"({"tags": ["usb", "wifi"]})", true},
      {R"({"tags": {"$regex": "^bt"}})", R"({"tags": ["usb", "wifi"]})", false},
      {R"({"path": {"$regex": "/a/b/"}})", R"({"path": "xa/by"})", true},
      {R"({"path": {"$regex": "/api"}})", R"({"path": "/api/v1"})", true},
      {R"({"path": {"$regex": "/api/v1/x"}})", R"({"path": "/api/v1/x"})", true},
      {R"({"path": {"$regex": "/a/g"}})", R"({"path": "x/a/gy"})", true},  // g is no flag
      {R"({"path": {"$regex": "/a/g"}})", R"({"path": "a"})", false},
      {R"({"name": {"$regex": "^pixel-\\d$", "$options": "i"}})", R"({"name": "Pixel-7"})", true},
      {R"({"name": {"$regex": "ö", "$options": "i"}})", R"({"name": "BÖRSE"})", true},
      {R"({"name": {"$regex": ""}})", R"({"name": "anything"})", true},
      {R"({"name": {"$regex": "(a+)+$"}})", R"({"name": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"})",
       false},
  });
}

TEST(query_table_test, mod) {
  check({
      {R"({"n": {"$mod": [4, 0]}})", R"({"n": 8})", true},
      {R"({"n": {"$mod": [4, 1]}})", R"({"n": 8})", false},
      {R"({"n": {"$mod": [3, 1]}})", R"({"n": -5})", true},
      {R"({"n": {"$mod": [3, -2]}})", R"({"n": -5})", false},
      {R"({"n": {"$mod": [-3, -1]}})", R"({"n": 5})", true},
      {R"({"n": {"$mod": [2, 1.5]}})", R"({"n": 7.5})", true},
      {R"({"n": {"$mod": [2.5, 0.5]}})", R"({"n": 8})", true},
      {R"({"n": {"$mod": [4, 0]}})", R"({"n": "8"})", false},
      {R"({"n": {"$mod": [4, 0]}})", R"({"n": true})", false},
      {R"({"n": {"$mod": [4, 0]}})", R"({})", false},
      {R"({"n": {"$mod": [2, 0]}})", R"({"n": [1, 3, 4]})", true},
      {R"({"n": {"$mod": [-1, 0]}})", R"({"n": -9223372036854775808})", true},
  });
}

TEST(query_table_test, array_operators) {
  const char* ports = R"({"ports": [{"speed": 100, "kind": "eth"}, {"speed": 10, "kind": "usb"}]})";
  check({
      {R"({"tags": {"$all": ["usb", "wifi"]}})", R"({"tags": ["wifi", "usb", "eth"]})", true},
      {R"({"tags": {"$all": ["usb", "bt"]}})", R"({"tags": ["wifi", "usb", "eth"]})", false},
      {R"({"tags": {"$all": ["usb"]}})", R"({"tags": "usb"})", true},
      {R"({"tags": {"$all": []}})", R"({})", true},
      {R"({"ports": {"$all": [{"$elemMatch": {"speed": 100}}, {"$elemMatch": {"kind": "usb"}}]}})",
       ports, true},
      {R"({"ports": {"$all": [{"$elemMatch": {"speed": 100}}, {"$elemMatch": {"kind": "bt"}}]}})",
       ports, false},
      {R"({"ports": {"$elemMatch": {"speed": {"$gte": 100}, "kind": "eth"}}})", ports, true},
      {R"({"ports": {"$elemMatch": {"speed": {"$gte": 100}, "kind": "usb"}}})", ports, false},
      {R"({"ports": {"$elemMatch": {"$or": [{"speed": 1}, {"kind": "eth"}]}}})", ports, true},
      {R"({"ports.speed": 100, "ports.kind": "usb"})", ports, true},
      {R"({"scores": {"$elemMatch": {"$gte": 80, "$lt": 90}}})", R"({"scores": [70, 85]})", true},
      {R"({"scores": {"$elemMatch": {"$gte": 80, "$lt": 90}}})", R"({"scores": [70, 95]})", false},
      {R"({"ports": {"$elemMatch": {"speed": 100}}})", R"({"ports": {"speed": 100}})", false},
      {R"({"ports": {"$elemMatch": {}}})", R"({"ports": [1]})", true},
      {R"({"ports": {"$elemMatch": {}}})", R"({"ports": []})", false},
      {R"({"tags": {"$size": 2}})", R"({"tags": ["a", "b"]})", true},
      {R"({"tags": {"$size": 2}})", R"({"tags": ["a"]})", false},
      {R"({"tags": {"$size": 0}})", R"({"tags": []})", true},
      {R"({"tags": {"$size": 1}})", R"({"tags": "a"})", false},
      {R"({"tags": {"$size": 0}})", R"({})", false},
      {R"({"matrix": {"$elemMatch": {"$size": 1}}})", R"({"matrix": [[1, 2], [3]]})", true},
      {R"({"matrix": {"$size": 2}})", R"({"matrix": [[1, 2, 3]]})", false},
      {R"({"matrix": [1, 2]})", R"({"matrix": [[1, 2], [3]]})", true},
      {R"({"matrix.0.1": 2})", R"({"matrix": [[1, 2], [3]]})", true},
      {R"({"tags": ["usb", "wifi"]})", R"({"tags": ["usb", "wifi"]})", true},
      {R"({"tags": ["usb"]})", R"({"tags": ["usb", "wifi"]})", false},
  });
}

TEST(query_table_test, paths_and_nesting) {
  const char* ports = R"({"ports": [{"speed": 100}, {"speed": 10}]})";
  check({
      {R"({"board.rev": 2})", R"({"board": {"rev": 2}})", true},
      {R"({"board": {"rev": 2}})", R"({"board": {"rev": 2, "vendor": "acme"}})", true},
      {R"({"board": {"rev": {"$gte": 2}}})", R"({"board": {"rev": 2}})", true},
      {R"({"board": {"rev": {"$gte": 3}}})", R"({"board": {"rev": 2}})", false},
      {R"({"board": {"rev": 2, "$exists": true}})", R"({"board": {"rev": 2}})", true},
      {R"({"ports.speed": 10})", ports, true},
      {R"({"ports.speed": {"$gt": 50}})", ports, true},
      {R"({"ports.speed": {"$gt": 500}})", ports, false},
      {R"({"ports.1.speed": 10})", ports, true},
      {R"({"ports.0.speed": 10})", ports, false},
      {R"({"ports": {"speed": 10}})", ports, true},
      {R"({"a.b.c": {"$in": [1, 2]}})", R"({"a": [{"b": {"c": 2}}]})", true},
      {R"({"a.b": 1})", R"({"a": [[{"b": 1}]]})", true},
      {R"({"a.0": "x"})", R"({"a": {"0": "x"}})", true},
      {R"({"a": {"b": {}}})", R"({})", true},
      {R"({})", R"({"id": 1})", true},
      {R"({"a.b": null})", R"({"a": null})", false},
      {R"({"a.b": 1})", R"({"a": "b"})", false},
      {R"({"tags.-1": "wifi"})", R"({"tags": ["usb", "wifi"]})", false},
      {R"({"online": true, "hostname": "h1"})", R"({"hostname": "h1", "online": true})", true},
      {R"({"a.b": {"c": {"d": {"$lt": 0}}}})", R"({"a": {"b": {"c": {"d": -1}}}})", true},
  });
}

TEST(query_table_test, type_mixes) {
  check({
      {R"({"ram": "8"})", R"({"ram": 8})", false},
      {R"({"ram": 8})", R"({"ram": "8"})", false},
      {R"({"online": true})", R"({"online": 1})", false},
      {R"({"online": 1})", R"({"online": true})", false},
      {R"({"x": null})", R"({"x": false})", false},
      {R"({"x": 0})", R"({"x": false})", false},
      {R"({"x": ""})", R"({"x": null})", false},
      {R"({"x": {"$in": [0, false, null]}})", R"({"x": false})", true},
      {R"({"x": {"$gt": ""}})", R"({"x": "a"})", true},
      {R"({"x": []})", R"({"x": []})", true},
      {R"({"x": {"$eq": {}}})", R"({"x": {}})", true},
      {R"({"x": {"$ne": null}})", R"({})", true},
      {R"({"x": {"$eq": [1, "a", null]}})", R"({"x": [1.0, "a", null]})", true},
  });
}

TEST(query_table_test, errors_name_operator_and_reason) {
  const std::string unknown =
      " (supported: $eq $ne $gt $gte $lt $lte $in $nin $and $or $nor $not $exists $type $regex "
      "$options $mod $all $elemMatch $size $comment)";
  const std::string no_foo = "invalid requirements: unknown operator '$foo'" + unknown;
  const std::string no_foo_at_os =
      "invalid requirements: unknown operator '$foo' at 'os'" + unknown;
  const std::string no_bad = "invalid requirements: unknown operator '$bad' at 'a.b'" + unknown;
  const std::string no_where = "invalid requirements: unknown operator '$where'" + unknown;
  check_errors({
      {R"([])", "invalid requirements: must be a JSON object, got array"},
      {R"({"$foo": 1})", no_foo.c_str()},
      {R"({"os": {"$foo": 1}})", no_foo_at_os.c_str()},
      {R"({"a": {"b": {"$bad": 1}}})", no_bad.c_str()},
      {R"({"$where": "this.a > 1"})", no_where.c_str()},
      {R"({"os": {"$in": "android"}})",
       "invalid requirements: $in at 'os': needs an array, got a string"},
      {R"({"os": {"$nin": 5}})", "invalid requirements: $nin at 'os': needs an array, got 5"},
      {R"({"$and": {"os": "x"}})",
       "invalid requirements: $and: needs a non-empty array of objects, got an object"},
      {R"({"$or": []})",
       "invalid requirements: $or: needs a non-empty array of objects, got an empty array"},
      {R"({"$nor": [{"a": 1}, 2]})", "invalid requirements: $nor: element 1 is 2, not an object"},
      {R"({"$and": ["x"]})", "invalid requirements: $and: element 0 is a string, not an object"},
      {R"({"board": {"$or": null}})",
       "invalid requirements: $or at 'board': needs a non-empty array of objects, got null"},
      {R"({"n": {"$mod": [0, 1]}})", "invalid requirements: $mod at 'n': divisor is zero"},
      {R"({"n": {"$mod": [0.0, 1]}})", "invalid requirements: $mod at 'n': divisor is zero"},
      {R"({"n": {"$mod": [4]}})",
       "invalid requirements: $mod at 'n': needs [divisor, remainder], got an array of 1"},
      {R"({"n": {"$mod": [4, 1, 2]}})",
       "invalid requirements: $mod at 'n': needs [divisor, remainder], got an array of 3"},
      {R"({"n": {"$mod": 4}})",
       "invalid requirements: $mod at 'n': needs [divisor, remainder], got 4"},
      {R"({"n": {"$mod": ["4", 1]}})",
       R"(invalid requirements: $mod at 'n': divisor and remainder must be numbers, got ["4",1])"},
      {R"({"name": {"$regex": "(ab"}})",
       "invalid requirements: $regex at 'name': invalid regex '(ab': missing ): (ab"},
      {R"({"name": {"$regex": "(a)\\1"}})",
       "invalid requirements: $regex at 'name': invalid regex '(a)\\1': invalid escape sequence: "
       "\\1 (RE2 syntax: no backreferences or lookaround)"},
      {R"j({"name": {"$regex": "a(?=b)"}})j",
       "invalid requirements: $regex at 'name': invalid regex 'a(?=b)': invalid perl operator: "
       "(?= (RE2 syntax: no backreferences or lookaround)"},
      {R"({"name": {"$regex": "a{1001}"}})",
       "invalid requirements: $regex at 'name': invalid regex 'a{1001}': invalid repetition "
       "size: {1001}"},
      {R"({"name": {"$regex": "/[/i"}})",
       "invalid requirements: $regex at 'name': invalid regex '[': missing ]: ["},
      {R"({"$or": [{"a": {"$regex": "*"}}]})",
       "invalid requirements: $regex at 'a': invalid regex '*': no argument for repetition "
       "operator: *"},
      {R"({"name": {"$regex": 5}})",
       "invalid requirements: $regex at 'name': needs a string, got 5"},
      {R"({"name": {"$regex": "a", "$options": "g"}})",
       "invalid requirements: $regex at 'name': unknown option 'g' (use i, m, s, x)"},
      {R"({"name": {"$options": "i"}})",
       "invalid requirements: $options at 'name': needs $regex beside it"},
      {R"({"name": {"$regex": "/a/i", "$options": "m"}})",
       "invalid requirements: $regex at 'name': options given twice, in \"/pattern/flags\" and in "
       "$options"},
      {R"({"name": {"$regex": "a", "$options": 1}})",
       "invalid requirements: $options at 'name': needs a string of the letters i, m, s, x, got 1"},
      {R"({"name": {"$not": "/(/"}})",
       "invalid requirements: $not at 'name': invalid regex '(': missing ): ("},
      {R"({"tags": {"$size": 1.5}})",
       "invalid requirements: $size at 'tags': needs a non-negative integer, got 1.5"},
      {R"({"tags": {"$size": "2"}})",
       "invalid requirements: $size at 'tags': needs a non-negative integer, got a string"},
      {R"({"tags": {"$size": -1}})",
       "invalid requirements: $size at 'tags': needs a non-negative integer, got -1"},
      {R"({"tags": {"$size": true}})",
       "invalid requirements: $size at 'tags': needs a non-negative integer, got true"},
      {R"({"a": {"$exists": "yes"}})",
       "invalid requirements: $exists at 'a': needs true or false, got a string"},
      {R"({"a": {"$exists": 1}})",
       "invalid requirements: $exists at 'a': needs true or false, got 1"},
      {R"({"a": {"$type": "date"}})",
       "invalid requirements: $type at 'a': JSON has no 'date' type"},
      {R"({"a": {"$type": 7}})", "invalid requirements: $type at 'a': JSON has no 'objectId' type"},
      {R"({"a": {"$type": "float"}})",
       "invalid requirements: $type at 'a': unknown type 'float' (use string, number, int, long, "
       "double, bool, object, array or null)"},
      {R"({"a": {"$type": 99}})",
       "invalid requirements: $type at 'a': unknown type 99 (use string, number, int, long, "
       "double, bool, object, array or null)"},
      {R"({"a": {"$type": []}})",
       "invalid requirements: $type at 'a': needs a type name or a non-empty array of them"},
      {R"({"a": {"$not": 5}})",
       "invalid requirements: $not at 'a': needs an object or a regex written \"/pattern/flags\", "
       "got 5"},
      {R"({"a": {"$not": "abc"}})",
       "invalid requirements: $not at 'a': needs an object or a regex written \"/pattern/flags\", "
       "got a string"},
      {R"({"a": {"$not": {}}})", "invalid requirements: $not at 'a': needs a non-empty object"},
      {R"({"a": {"$all": "x"}})",
       "invalid requirements: $all at 'a': needs an array, got a string"},
      {R"({"a": {"$elemMatch": [1]}})",
       "invalid requirements: $elemMatch at 'a': needs an object, got an array"},
      {R"({"a": {"$elemMatch": {"b": {"$in": 1}}}})",
       "invalid requirements: $in at 'a.$elemMatch.b': needs an array, got 1"},
      {R"({"a..b": 1})", "invalid requirements: key 'a..b' has an empty path segment"},
      {R"({"a": {"b.": 1}})", "invalid requirements: key 'b.' has an empty path segment"},
  });
}

}  // namespace
}  // namespace gtest_lockable
