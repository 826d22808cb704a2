// $regex on RE2 (in a module loaded on first use, see regex_engine.hpp), chosen deliberately over
// std::regex and PCRE2:
// - RE2 matches in time linear in the text (automata, no backtracking), so a requirements
//   string such as {"name": {"$regex": "(a+)+$"}} cannot stall a lock call for minutes the way
//   it does on backtracking engines (PCRE2, std::regex);
// - it uses bounded memory and no recursion per input character: libstdc++'s std::regex recurses
//   for each character matched and overflows the stack on inputs of a few tens of kilobytes;
// - it is a Debian package (libre2-dev) and compiles a pattern once into an immutable, thread-safe
//   object, which suits "compile once per query, match against every resource".
// The price is Perl syntax that needs backtracking: backreferences (\1) and lookaround ((?=x),
// (?<=x)) are refused with a clear error. docs/inventory-and-requirements.md lists these differences.

#include <string>

#include "src/query/detail.hpp"
#include "src/query/regex_engine.hpp"

namespace gtest_lockable::detail {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// The `x` option. RE2 has no extended mode, so it is done here as Python's re.VERBOSE (which
// py-lockable's matcher uses) does it: whitespace and # comments outside character classes are
// dropped; an escaped character (`\ `, `\#`) and a \Q...\E quote stay as they are.
std::string strip_extended(const std::string& p) {
  std::string out;
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      if (!in_class && p[i + 1] == 'Q') {
        const auto end = p.find("\\E", i + 2);
        const auto stop = end == std::string::npos ? p.size() : end + 2;
        out.append(p, i, stop - i);
        i = stop - 1;
      } else {
        out += c;
        out += p[++i];
      }
      continue;
    }
    if (in_class) {
      const auto posix_end = c == '[' && i + 1 < p.size() && p[i + 1] == ':'
                                 ? p.find(":]", i + 2)
                                 : std::string::npos;  // [[:alpha:] ] keeps its inner ]
      if (posix_end != std::string::npos) {
        out.append(p, i, posix_end + 2 - i);
        i = posix_end + 1;
        continue;
      }
      out += c;
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];  // a leading ] is literal
      continue;
    }
    if (c == '#') {
      const auto newline = p.find('\n', i);
      if (newline == std::string::npos) break;
      i = newline;
      continue;
    }
    if (!is_space(c)) out += c;
  }
  return out;
}

}  // namespace

bool split_slash_form(const std::string& text, std::string& pattern, std::string& flags) {
  // The whole text must read /(.+)/([imsx]{0,4}), as py-lockable's matcher checks it; only the
  // last slash can start the flags, since a later slash is not a flag letter.
  if (text.size() < 3 || text.front() != '/') return false;
  const auto last = text.rfind('/');
  if (last < 2) return false;
  const auto suffix = text.substr(last + 1);
  if (suffix.size() > 4 || suffix.find_first_not_of("imsx") != std::string::npos) return false;
  pattern = text.substr(1, last - 1);
  flags = suffix;
  return true;
}

regex::regex(const std::string& pattern, const std::string& options, std::string_view op,
             const scope& s) {
  bool case_insensitive = false;
  bool dot_matches_newline = false;
  bool multi_line = false;
  bool extended = false;
  for (const char c : options) {
    switch (c) {
      case 'i':
        case_insensitive = true;
        break;
      case 'm':
        multi_line = true;  // RE2's Perl mode has no option for it, only the inline flag
        break;
      case 's':
        dot_matches_newline = true;
        break;
      case 'x':
        extended = true;
        break;
      default:
        fail_at(op, s, "unknown option " + in_quotes(std::string(1, c)) + " (use i, m, s, x)");
    }
  }
  std::string source = extended ? strip_extended(pattern) : pattern;
  if (multi_line) source = "(?m)" + source;
  const regex_engine& engine = load_regex_engine();
  std::string why;
  bool perl_only = false;
  const compiled_regex* compiled =
      engine.compile(source, case_insensitive, dot_matches_newline, why, perl_only);
  if (compiled == nullptr) {
    fail_at(op, s,
            "invalid regex " + in_quotes(pattern) + ": " + why +
                (perl_only ? " (RE2 syntax: no backreferences or lookaround)" : ""));
  }
  re_ = std::shared_ptr<const compiled_regex>(compiled, engine.release);
  search_ = engine.search;
}

bool regex::search(const std::string& text) const { return search_(re_.get(), text); }

}  // namespace gtest_lockable::detail
