#include "gtest_lockable/error.hpp"
#include "src/inventory_detail.hpp"

namespace gtest_lockable::detail {

std::unique_ptr<inventory_provider> http_inventory(const std::string& uri) {
  throw error(errc::invalid_inventory, "cannot read inventory '" + uri +
                                           "': http(s) inventories are not supported by this "
                                           "build yet; download the file and give its path");
}

}  // namespace gtest_lockable::detail
