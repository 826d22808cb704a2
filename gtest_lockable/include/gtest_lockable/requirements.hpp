#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

namespace gtest_lockable {

/// Parses requirements given as text: a JSON object (`{"os": "linux"}`) or the short form
/// `key=value&key2=value2`, where dotted keys nest (`a.b=1` is `{"a": {"b": "1"}}`), `true` and
/// `false` in any case become booleans and every other value stays a string. An empty (or
/// all-blank) string means no requirements. Throws `error` (`errc::invalid_requirements`), also
/// when the requirements nest deeper than `query::max_depth`.
nlohmann::json parse_requirements(std::string_view text);

/// Requirements as a lock call takes them: a JSON object, or text read by `parse_requirements`
/// (JSON or `key=value&...`). A `std::string` or a string literal is requirements text, never a
/// JSON string. A JSON object given as an lvalue is referred to, not copied (requirements may be
/// large): it must outlive this, as the argument of a call does.
class lock_requirements {
 public:
  /// No requirements: only the defaults.
  lock_requirements() : owned_(nlohmann::json::object()) {}
  lock_requirements(const nlohmann::json& requirements) : given_(&requirements) {}
  lock_requirements(nlohmann::json&& requirements) : owned_(std::move(requirements)) {}
  /// Parses `text`; throws as `parse_requirements`.
  lock_requirements(std::string_view text);
  lock_requirements(const std::string& text) : lock_requirements(std::string_view(text)) {}
  lock_requirements(const char* text) : lock_requirements(std::string_view(text)) {}

  /// The requirements as JSON (not yet checked: the lock call does that).
  const nlohmann::json& value() const noexcept { return given_ != nullptr ? *given_ : owned_; }

 private:
  const nlohmann::json* given_ = nullptr;
  nlohmann::json owned_;
};

/// Merges py-lockable's defaults into `requirements`: `hostname` = `hostname` and
/// `online` = true unless given. A `null` `hostname` or `online` removes that default, as
/// py-lockable does; a `null` for any other field stays, and matches resources whose field exists
/// and is null (as py-lockable's matcher reads it).
nlohmann::json with_defaults(nlohmann::json requirements, const std::string& hostname);

/// This host's name, as py-lockable's default requirements use it.
std::string this_hostname();

}  // namespace gtest_lockable
