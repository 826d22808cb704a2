#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace gtest_lockable {

/// Parses requirements given as text: a JSON object (`{"os": "linux"}`) or the short form
/// `key=value&key2=value2`, where dotted keys nest (`a.b=1` is `{"a": {"b": "1"}}`), `true` and
/// `false` in any case become booleans and every other value stays a string. An empty (or
/// all-blank) string means no requirements. Throws `error` (`errc::invalid_requirements`), also
/// when the requirements nest deeper than `query::max_depth`.
nlohmann::json parse_requirements(std::string_view text);

/// Merges py-lockable's defaults into `requirements`: `hostname` = `hostname` and
/// `online` = true unless given. A `null` `hostname` or `online` removes that default, as
/// py-lockable does; a `null` for any other field stays, and matches resources whose field exists
/// and is null (as py-lockable's matcher reads it).
nlohmann::json with_defaults(nlohmann::json requirements, const std::string& hostname);

/// This host's name, as py-lockable's default requirements use it.
std::string this_hostname();

}  // namespace gtest_lockable
