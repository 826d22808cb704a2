#pragma once

// For authors of inventory providers: the interface a provider implements. Users pass a
// provider in `options::inventory` and need only `gtest_lockable/inventory.hpp`.

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gtest_lockable {

class query;

/// A validated inventory: the resources in file order, each a JSON object with an `id`
/// (`make_inventory` and `parse_inventory` in inventory.hpp validate one).
struct inventory {
  /// Where the inventory came from (a path, a URI or `<memory>`), for messages.
  std::string origin;
  /// The resources, in the order the source lists them.
  std::vector<nlohmann::json> resources;
};

/// The part of an inventory that a lock call needs.
struct inventory_selection {
  std::size_t size = 0;                   ///< How many entries the whole inventory has.
  std::vector<nlohmann::json> resources;  ///< The entries that matched, in inventory order.
};

/// Supplies the current inventory before each lock attempt. A provider implements `load` and
/// `describe`; one that can find the entries some requirements match faster than a load and a
/// filter (an index, a server-side query) also overrides `select`.
class inventory_provider {
 public:
  virtual ~inventory_provider() = default;

  /// The inventory as it is now; re-reads the source if it changed. Throws `error`.
  virtual std::shared_ptr<const inventory> load() = 0;

  /// The entries of the inventory as it is now that match at least one of `queries`, in
  /// inventory order, and the inventory's size. Validates the whole inventory and throws as
  /// `load` does. Every lock, `select` and `status` call of a `lockable` looks through it. The
  /// default calls `load` and keeps the entries that match.
  virtual inventory_selection select(const std::vector<const query*>& queries);

  /// Where the inventory comes from, for messages.
  virtual std::string describe() const = 0;
};

}  // namespace gtest_lockable
