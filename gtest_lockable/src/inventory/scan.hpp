#pragma once

// The fast path for inventory files. A lock call needs the few entries that match its
// requirements, yet a document of a large inventory costs most of a lock call: nlohmann builds a
// node for every value (about 25 ms for 10,000 lab entries on a quiet machine, and as long again
// to free them). So the file is scanned once, strictly, into an index of where each entry lies
// and what its id is; a lookup then parses only the entries that can match, those that hold every
// string the requirements demand (such as this host's name).
//
// The scanner accepts a plain subset of JSON: ASCII strings without escapes, numbers without
// exponents. An entry outside it, or one whose id is not plainly valid, is parsed by nlohmann at
// once; text the scanner cannot index at all goes to parse_inventory. Results and error messages
// are therefore exactly parse_inventory's. The file provider (inventory.cpp) selects through it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "gtest_lockable/inventory.hpp"
#include "gtest_lockable/query.hpp"

namespace gtest_lockable::detail {

/// One entry of an indexed inventory: 16 bytes, as an index of 100,000 entries is written
/// afresh, page by page, on every lock call of a new process.
struct indexed_entry {
  std::uint32_t begin = 0;     ///< Offset of the entry's first byte in the text.
  std::uint32_t end = 0;       ///< Offset just past its last byte.
  std::uint32_t id_begin = 0;  ///< Offset of its id's text (plain entries).
  std::uint16_t id_size = 0;   ///< Length of its id's text (plain entries).
  bool plain = false;          ///< Checked by the scanner; else nlohmann parsed it (`rich`).
};

/// A validated inventory kept as its text and an index of its entries.
struct inventory_index {
  std::string text;                    ///< The inventory text (empty when `whole` is set).
  std::vector<indexed_entry> entries;  ///< Every entry, in order.
  /// The entries that are not plain, parsed, in inventory order.
  std::vector<nlohmann::json> rich;
  std::shared_ptr<const inventory> whole;  ///< The parsed inventory, when the text has no index.

  /// How many entries the inventory has.
  std::size_t size() const { return whole ? whole->resources.size() : entries.size(); }
};

/// Validates `text` exactly as parse_inventory does (same errors, naming `origin`) and indexes it.
inventory_index index_inventory(std::string text, const std::string& origin);

/// The entries of `index` that match at least one of `queries`, in inventory order.
std::vector<nlohmann::json> select_entries(const inventory_index& index,
                                           const std::vector<const query*>& queries);

}  // namespace gtest_lockable::detail
