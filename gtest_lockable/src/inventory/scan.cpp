#include "src/inventory/scan.hpp"

#include <string.h>  // memmem

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>
#include <utility>

#include "src/inventory/filter.hpp"
#include "src/inventory/validate.hpp"
#include "src/query/hints.hpp"

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

// Checks the top-level array of inventory text and records where each entry lies. It reads the
// text through its terminating NUL (std::string has one), which no token accepts: every loop
// stops there without comparing against the end. An entry is
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
        out.push_back(entry);
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
    const bool object = *p_ == '{';
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
    entry.id_size = static_cast<std::uint16_t>(end - begin);
    return static_cast<std::size_t>(end - begin) == entry.id_size &&
           unsafe_id_reason(std::string_view(begin, entry.id_size)).empty();
  }

  bool scan_value(int depth) {
    switch (*p_) {  // at the end of the text: NUL, which scan_number refuses
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
      if (*p_ != '"' || !scan_string()) return false;
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
  // The text's terminating NUL is a control character: it ends the loop at the end of the text.
  bool scan_string() {
    const char* p = p_ + 1;
    while (true) {
      while (string_byte[static_cast<unsigned char>(*p)] == plain_byte) ++p;
      switch (string_byte[static_cast<unsigned char>(*p)]) {
        case quote_byte:
          p_ = p + 1;
          return true;
        case escape_byte:
          if (end_ - p < 2) return false;
          rich_ = true;
          p += 2;
          break;
        case high_byte:
          rich_ = true;
          ++p;
          break;
        default:
          return false;  // a control character, or the end of the text
      }
    }
  }

  bool scan_number() {
    const char* start = p_;
    eat('-');
    if (*p_ < '0' || *p_ > '9') return false;
    if (!eat('0')) skip_digits();  // no leading zeros: "01" is "0" followed by a syntax error
    if (eat('.') && !skip_digits()) return false;
    if (*p_ == 'e' || *p_ == 'E') {
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
    const char* p = p_;
    while (*p >= '0' && *p <= '9') ++p;  // the terminating NUL stops it
    p_ = p;
    return p != start;
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
    const char* p = p_;
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') ++p;  // NUL stops it
    p_ = p;
  }

  bool eat(char c) {  // c is never NUL, so the end of the text never matches
    if (*p_ != c) return false;
    ++p_;
    return true;
  }

  std::uint32_t offset(const char* at) const { return static_cast<std::uint32_t>(at - text_); }

  const char* text_;
  const char* p_;
  const char* end_;
  bool rich_ = false;
  const char* id_ = nullptr;
  const char* id_end_ = nullptr;
};

// Whether a non-empty id repeats: an open-addressing table of indexes into `ids`, without a
// node per id (each would be a page-fault's worth of fresh memory for a large inventory).
bool has_repeats(const std::vector<std::string_view>& ids) {
  std::size_t capacity = 16;
  while (capacity < 2 * ids.size()) capacity *= 2;
  std::vector<std::uint32_t> slots(capacity, 0);  // 0: empty, else index + 1
  const std::hash<std::string_view> hash;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].empty()) continue;
    for (std::size_t slot = hash(ids[i]) & (capacity - 1);; slot = (slot + 1) & (capacity - 1)) {
      if (slots[slot] == 0) {
        slots[slot] = static_cast<std::uint32_t>(i + 1);
        break;
      }
      if (ids[slots[slot] - 1] == ids[i]) return true;
    }
  }
  return false;
}

inventory_index parsed_whole(const std::string& text, const std::string& origin) {
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
    from = std::max<std::size_t>(at + 1, it->end);
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
  std::vector<std::string> quoted;  // as the strings appear in the text
  for (const auto& n : needles) quoted.push_back('"' + n + '"');
  std::vector<char> holds(index.entries.size(), 0);
  mark_holders(index, quoted.front(), holds);
  for (std::size_t i = 0; i < holds.size(); ++i) {
    if (!holds[i]) continue;
    const auto& e = index.entries[i];
    const char* text = index.text.data() + e.begin;
    const bool all = std::all_of(quoted.begin() + 1, quoted.end(), [&](const std::string& needle) {
      return ::memmem(text, e.end - e.begin, needle.data(), needle.size()) != nullptr;
    });
    if (all) wanted[i] = 1;
  }
}

}  // namespace

inventory_index index_inventory(std::string text, const std::string& origin) {
  inventory_index index;
  index.text = std::move(text);
  if (index.text.size() >= UINT32_MAX || !scanner(index.text).scan(index.entries)) {
    return parsed_whole(index.text, origin);
  }
  std::vector<std::string> problems;
  std::deque<std::string> rich_ids;  // stable storage for the ids of entries nlohmann parsed
  std::vector<std::string_view> ids(index.entries.size());  // empty: the entry has a problem
  for (std::size_t i = 0; i < index.entries.size(); ++i) {
    const auto& entry = index.entries[i];
    if (entry.plain) {
      ids[i] = std::string_view(index.text).substr(entry.id_begin, entry.id_size);
      continue;
    }
    json parsed;
    try {
      parsed = json::parse(index.text.begin() + entry.begin, index.text.begin() + entry.end);
    } catch (const json::exception&) {
      // Let the whole parse report it, with the line and column in the file.
      return parsed_whole(index.text, origin);
    }
    if (std::string problem = entry_problem(i, parsed); !problem.empty()) {
      problems.push_back(std::move(problem));
    } else {
      ids[i] = rich_ids.emplace_back(resource_id_text(parsed));  // valid ids are never empty
    }
    index.rich.push_back(std::move(parsed));
  }
  if (has_repeats(ids)) {
    std::vector<std::pair<std::string_view, std::size_t>> listed;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (!ids[i].empty()) listed.emplace_back(ids[i], i);
    }
    problems.push_back(duplicate_ids_problem(std::move(listed)));
  }
  throw_if_problems(origin, problems);
  return index;
}

std::vector<json> select_entries(const inventory_index& index,
                                 const std::vector<const query*>& queries) {
  if (index.whole) return matching(index.whole->resources, queries);
  std::vector<json> out;
  std::vector<char> wanted(index.entries.size(), 0);
  for (const query* q : queries) mark_candidates(index, *q, wanted);
  auto rich = index.rich.begin();
  for (std::size_t i = 0; i < index.entries.size(); ++i) {
    const auto& entry = index.entries[i];
    if (!entry.plain) {
      const json& resource = *rich++;
      if (matches_any(resource, queries)) out.push_back(resource);
    } else if (wanted[i]) {
      const auto text = index.text.begin();
      json resource = json::parse(text + entry.begin, text + entry.end);
      if (matches_any(resource, queries)) out.push_back(std::move(resource));
    }
  }
  return out;
}

}  // namespace gtest_lockable::detail
