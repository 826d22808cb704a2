// The mapping from inventory ids to CTest resource ids that the plugin and the command share.
#include <gtest/gtest.h>

#include "gtest_lockable/internal/ctest.hpp"

namespace {

using gtest_lockable::internal::ctest_resource_id;
using gtest_lockable::internal::ctest_resources;
using nlohmann::json;

TEST(ctest_resources, ids_are_lower_case_with_other_characters_as_underscores) {
  EXPECT_EQ(ctest_resource_id("Board-A"), "board_a");
  EXPECT_EQ(ctest_resource_id("board_b"), "board_b");
  EXPECT_EQ(ctest_resource_id("rack.1/slot 2"), "rack_1_slot_2");
  EXPECT_EQ(ctest_resource_id(""), "");
}

TEST(ctest_resources, ids_that_map_alike_become_one_resource_with_a_slot_each) {
  const std::vector<json> selected = {
      {{"id", "Board-A"}}, {{"id", "board_b"}}, {{"id", "board.a"}}, {{"id", 7}}};
  EXPECT_EQ(ctest_resources(selected), json::parse(R"([{"id": "board_a", "slots": 2},
                                                        {"id": "board_b", "slots": 1},
                                                        {"id": "7", "slots": 1}])"));
  EXPECT_EQ(ctest_resources({}), json::array());
}

}  // namespace
