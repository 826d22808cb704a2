#pragma once

// Inventories: the providers this library ships, and the validation every inventory goes
// through. A provider of one's own implements gtest_lockable/extend/inventory_provider.hpp.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gtest_lockable/extend/inventory_provider.hpp"

namespace gtest_lockable {

/// The text form of a resource id (a string as-is, an integer in decimal): the lock file name.
std::string resource_id_text(const nlohmann::json& resource);

/// Validates a parsed inventory and returns it. Throws `error` (`errc::invalid_inventory`) naming
/// `origin` when it is not an array, an entry is not an object or nests objects and arrays more
/// than 100 levels deep, an id is missing or not a string or integer, an id is not a safe file
/// name, or ids repeat (all repeats are listed).
inventory make_inventory(nlohmann::json entries, std::string origin);

/// Parses and validates inventory text; parse errors name `origin`, the line and the column.
inventory parse_inventory(const std::string& text, std::string origin);

/// An inventory held in memory (validated once, at construction).
std::unique_ptr<inventory_provider> memory_inventory(nlohmann::json entries);

/// An inventory file, re-read whenever its size, modification time or inode changes. A file
/// larger than 256 MiB is refused (`errc::invalid_inventory`) without reading it.
std::unique_ptr<inventory_provider> file_inventory(std::string path);

/// The provider for `source`: a URI (`http://`, `https://`) or a file path.
std::unique_ptr<inventory_provider> open_inventory(const std::string& source);

}  // namespace gtest_lockable
