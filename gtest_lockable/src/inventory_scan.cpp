#include "src/inventory_scan.hpp"

#include <string.h>  // memmem

#include <algorithm>
#include <array>
#include <deque>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "src/inventory_detail.hpp"

namespace gtest_lockable::detail {
namespace {

using nlohmann::json;

// Deeper nesting is left to nlohmann, whose parser does not recurse.
constexpr int max_depth = 64;
// Longer numbers may overflow a double (nlohmann then reports an error): left to nlohmann.
constexpr std::ptrdiff_t longest_plain_number = 20;
// Integer ids up to this many digits fit int64_t, so their text is what nlohmann prints.
constexpr std::ptrdiff_t longest_plain_integer_id = 18;

// What a byte inside a string is to the scanner.
enum byte_kind : unsigned char { plain_byte, quote_byte, escape_byte, high_byte, control_byte };

constexpr std::array<byte_kind, 256> string_bytes() {
  std::array<byte_kind, 256> kinds{};
  for (int c = 0; c < 256; ++c) {
    kinds[c] = c < 0x20 ? control_byte : c >= 0x80 ? high_byte : plain_byte;
  }
  kinds['"'] = quote_byte;
  kinds['\\'] = escape_byte;
  return kinds;
}
constexpr std::array<byte_kind, 256> string_byte = string_bytes();

// Checks the top-level array of inventory text and records where each entry lies. An entry is
// plain when every string in it is ASCII without escapes, every number is short and has no
// exponent, and it is an object whose "id" is a string or an integer that names a lock file
// safely. Anything else in an entry only makes that entry not plain; a syntax error, a top level
// that is not an array, or nesting deeper than `max_depth` fail the scan.
class scanner {
 public:
  explicit scanner(const std::string& text)
      : text_(text.data()), p_(text.data()), end_(text.data() + text.size()) {}

  bool scan(std::vector<indexed_entry>& out) {
    skip_whitespace();
    if (!eat('[')) return false;
    skip_whitespace();
    if (!eat(']')) {
      while (true) {
        indexed_entry entry;
        if (!scan_entry(entry)) return false;
        out.push_back(std::move(entry));
        skip_whitespace();
        if (eat(']')) break;
        if (!eat(',')) return false;
        skip_whitespace();
      }
    }
    skip_whitespace();
    return p_ == end_;
  }

 private:
  bool scan_entry(indexed_entry& entry) {
    entry.begin = offset(p_);
    rich_ = false;
    id_ = nullptr;
    const bool object = p_ != end_ && *p_ == '{';
    if (!(object ? scan_object(1, true) : scan_value(1))) return false;
    entry.end = offset(p_);
    entry.plain = object && !rich_ && id_ != nullptr && plain_id(entry);
    return true;
  }

  // Sets the entry's id text from the last "id" member seen (the one nlohmann keeps).
  bool plain_id(indexed_entry& entry) const {
    const char* begin = id_;
    const char* end = id_end_;
    if (*begin == '"') {
      ++begin;
      --end;
    } else if (*begin == '-' || (*begin >= '0' && *begin <= '9')) {
      const std::string_view number(begin, static_cast<std::size_t>(end - begin));
      const auto digits = static_cast<std::ptrdiff_t>(number.size() - (*begin == '-' ? 1 : 0));
      if (number.find_first_of(".eE") != std::string_view::npos || number == "-0" ||
          digits > longest_plain_integer_id) {
        return false;
      }
    } else {
      return false;  // null, a boolean, an object or an array: nlohmann's check names it
    }
    entry.id_begin = offset(begin);
    entry.id_size = static_cast<std::size_t>(end - begin);
    return unsafe_id_reason(std::string_view(begin, entry.id_size)).empty();
  }

  bool scan_value(int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        return scan_object(depth, false);
      case '[':
        return scan_array(depth);
      case '"':
        return scan_string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return scan_number();
    }
  }

  bool scan_object(int depth, bool entry) {
    if (depth > max_depth) return false;
    ++p_;
    skip_whitespace();
    if (eat('}')) return true;
    while (true) {
      const char* key = p_;
      if (p_ == end_ || *p_ != '"' || !scan_string()) return false;
      const bool is_id = entry && p_ - key == 4 && key[1] == 'i' && key[2] == 'd';
      skip_whitespace();
      if (!eat(':')) return false;
      skip_whitespace();
      const char* value = p_;
      if (!scan_value(depth + 1)) return false;
      if (is_id) {
        id_ = value;
        id_end_ = p_;
      }
      skip_whitespace();
      if (eat('}')) return true;
      if (!eat(',')) return false;
      skip_whitespace();
    }
  }

  bool scan_array(int depth) {
    if (depth > max_depth) return false;
    ++p_;
    skip_whitespace();
    if (eat(']')) return true;
    while (true) {
      if (!scan_value(depth + 1)) return false;
      skip_whitespace();
      if (eat(']')) return true;
      if (!eat(',')) return false;
      skip_whitespace();
    }
  }

  // An escape or a non-ASCII byte makes the entry rich: nlohmann decodes and checks those.
  bool scan_string() {
    ++p_;
    while (true) {
      while (p_ != end_ && string_byte[static_cast<unsigned char>(*p_)] == plain_byte) ++p_;
      if (p_ == end_) return false;
      switch (string_byte[static_cast<unsigned char>(*p_)]) {
        case quote_byte:
          ++p_;
          return true;
        case escape_byte:
          if (end_ - p_ < 2) return false;
          rich_ = true;
          p_ += 2;
          break;
        case high_byte:
          rich_ = true;
          ++p_;
          break;
        default:
          return false;  // a control character
      }
    }
  }

  bool scan_number() {
    const char* start = p_;
    eat('-');
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    if (!eat('0')) skip_digits();  // no leading zeros: "01" is "0" followed by a syntax error
    if (eat('.') && !skip_digits()) return false;
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      rich_ = true;
      ++p_;
      if (!eat('+')) eat('-');
      if (!skip_digits()) return false;
    }
    if (p_ - start > longest_plain_number) rich_ = true;
    return true;
  }

  bool skip_digits() {
    const char* start = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ != start;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  void skip_whitespace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool eat(char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  std::size_t offset(const char* at) const { return static_cast<std::size_t>(at - text_); }

  const char* text_;
  const char* p_;
  const char* end_;
  bool rich_ = false;
  const char* id_ = nullptr;
  const char* id_end_ = nullptr;
};

inventory_index parsed_whole(std::string text, const std::string& origin) {
  inventory_index index;
  index.whole = std::make_shared<const inventory>(parse_inventory(text, origin));
  return index;
}

// Marks in `holds` the entries whose text holds `quoted` (a needle in quotes).
void mark_holders(const inventory_index& index, const std::string& quoted,
                  std::vector<char>& holds) {
  const auto& entries = index.entries;
  const char* text = index.text.data();
  std::size_t from = 0;
  while (from < index.text.size()) {
    const void* hit = ::memmem(text + from, index.text.size() - from, quoted.data(), quoted.size());
    if (hit == nullptr) return;
    const auto at = static_cast<std::size_t>(static_cast<const char*>(hit) - text);
    // The entry whose text holds the hit: the last one that begins at or before it.
    auto it = std::upper_bound(entries.begin(), entries.end(), at,
                               [](std::size_t a, const indexed_entry& e) { return a < e.begin; });
    if (it == entries.begin()) {
      from = at + 1;
      continue;
    }
    --it;
    holds[static_cast<std::size_t>(it - entries.begin())] = 1;
    from = std::max(at + 1, it->end);
  }
}

// Whether a plain entry (ASCII, no escapes) can hold the string `s`.
bool plain_text_can_hold(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
  });
}

// Marks in `wanted` the plain entries that may match `q`: those holding every string it demands.
void mark_candidates(const inventory_index& index, const query& q, std::vector<char>& wanted) {
  const auto needles = required_strings(q);
  if (needles.empty()) {
    std::fill(wanted.begin(), wanted.end(), 1);
    return;
  }
  if (!std::all_of(needles.begin(), needles.end(), plain_text_can_hold)) return;
  std::vector<char> holds(index.entries.size(), 0);
  mark_holders(index, '"' + needles.front() + '"', holds);
  for (std::size_t i = 0; i < holds.size(); ++i) {
    if (!holds[i]) continue;
    const auto& e = index.entries[i];
    const char* text = index.text.data() + e.begin;
    const bool all = std::all_of(needles.begin() + 1, needles.end(), [&](const std::string& n) {
      const std::string quoted = '"' + n + '"';
      return ::memmem(text, e.end - e.begin, quoted.data(), quoted.size()) != nullptr;
    });
    if (all) wanted[i] = 1;
  }
}

bool matches_any(const json& resource, const std::vector<const query*>& queries) {
  return std::any_of(queries.begin(), queries.end(),
                     [&](const query* q) { return q->matches(resource); });
}

}  // namespace

inventory_index index_inventory(std::string text, const std::string& origin) {
  inventory_index index;
  index.text = std::move(text);
  if (!scanner(index.text).scan(index.entries)) return parsed_whole(std::move(index.text), origin);
  std::vector<std::string> problems;
  std::vector<std::pair<std::string_view, std::size_t>> ids;
  ids.reserve(index.entries.size());
  std::deque<std::string> rich_ids;  // stable storage for the ids of entries nlohmann parsed
  for (std::size_t i = 0; i < index.entries.size(); ++i) {
    auto& entry = index.entries[i];
    if (entry.plain) {
      ids.emplace_back(std::string_view(index.text).substr(entry.id_begin, entry.id_size), i);
      continue;
    }
    try {
      entry.parsed = json::parse(index.text.begin() + static_cast<std::ptrdiff_t>(entry.begin),
                                 index.text.begin() + static_cast<std::ptrdiff_t>(entry.end));
    } catch (const json::exception&) {
      // Let the whole parse report it, with the line and column in the file.
      return parsed_whole(std::move(index.text), origin);
    }
    if (std::string problem = entry_problem(i, entry.parsed); !problem.empty()) {
      problems.push_back(std::move(problem));
      continue;
    }
    ids.emplace_back(rich_ids.emplace_back(resource_id_text(entry.parsed)), i);
  }
  // A hash set finds whether ids repeat; only then are they sorted for the message.
  std::unordered_set<std::string_view> distinct(ids.size());
  const bool repeated = !std::all_of(
      ids.begin(), ids.end(), [&](const auto& id) { return distinct.insert(id.first).second; });
  if (repeated) problems.push_back(duplicate_ids_problem(std::move(ids)));
  throw_if_problems(origin, problems);
  return index;
}

std::vector<json> select_entries(const inventory_index& index,
                                 const std::vector<const query*>& queries) {
  std::vector<json> out;
  if (index.whole) {
    for (const auto& resource : index.whole->resources) {
      if (matches_any(resource, queries)) out.push_back(resource);
    }
    return out;
  }
  std::vector<char> wanted(index.entries.size(), 0);
  for (const query* q : queries) mark_candidates(index, *q, wanted);
  for (std::size_t i = 0; i < index.entries.size(); ++i) {
    const auto& entry = index.entries[i];
    if (!entry.plain) {
      if (matches_any(entry.parsed, queries)) out.push_back(entry.parsed);
    } else if (wanted[i]) {
      const auto text = index.text.begin();
      json resource = json::parse(text + static_cast<std::ptrdiff_t>(entry.begin),
                                  text + static_cast<std::ptrdiff_t>(entry.end));
      if (matches_any(resource, queries)) out.push_back(std::move(resource));
    }
  }
  return out;
}

}  // namespace gtest_lockable::detail
