// The operators that test the value at a path: comparison, element, evaluation and array ones.
// Logical operators ($and $or $nor $not) and field keys are compiled in query.cpp.

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "src/query/detail.hpp"
#include "src/util/json.hpp"

namespace gtest_lockable::detail {
namespace {

// Numbers order with numbers (8 < 8.5), strings with strings (bytewise, i.e. by code point),
// booleans with booleans (false < true). Any other pair, null and arrays and objects included,
// is not ordered: the comparison is false, never an error.
// The outcomes of a comparison that a comparison operator accepts: $gte is `greater | equal`.
constexpr unsigned less = 1;
constexpr unsigned equal = 2;
constexpr unsigned greater = 4;

struct order_test {
  static constexpr bool expand_arrays = true;
  json value;
  unsigned accepts;  // of less, equal, greater
  bool operator()(const json& v) const {
    const bool comparable = (v.is_number() && value.is_number()) ||
                            (v.is_string() && value.is_string()) ||
                            (v.is_boolean() && value.is_boolean());
    if (!comparable) return false;
    const int c = v.is_number() ? compare_numbers(v, value) : v < value ? -1 : value < v ? 1 : 0;
    const unsigned outcome = c == -1 ? less : c == 0 ? equal : c == 1 ? greater : 0;
    return (accepts & outcome) != 0;
  }
};

struct in_test {
  static constexpr bool expand_arrays = true;
  json values;  // an array
  bool operator()(const json& v) const {
    for (const auto& candidate : values) {
      if (same_value(v, candidate)) return true;
    }
    return false;
  }
};

// $exists: any value found at the path, null included, makes the field present.
struct present_test {
  static constexpr bool expand_arrays = false;
  bool operator()(const json&) const { return true; }
};

// The integer in `v` when it fits int64_t.
bool as_int64(const json& v, std::int64_t& out) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
    out = static_cast<std::int64_t>(u);
    return true;
  }
  if (!v.is_number_integer()) return false;
  out = v.get<std::int64_t>();
  return true;
}

// Python's modulo, as py-lockable's matcher computes it: the result takes the divisor's sign
// (-5 % 3 == 1) and floats are not truncated (7.5 % 2 == 1.5). MongoDB truncates to integers
// and keeps the dividend's sign.
struct mod_test {
  static constexpr bool expand_arrays = true;
  json divisor;
  json remainder;
  bool operator()(const json& v) const {
    if (!v.is_number()) return false;
    std::int64_t x = 0;
    std::int64_t d = 0;
    if (as_int64(v, x) && as_int64(divisor, d)) {
      std::int64_t r = d == -1 ? 0 : x % d;  // INT64_MIN % -1 is undefined behaviour
      if (r != 0 && ((r < 0) != (d < 0))) r += d;
      return same_value(json(r), remainder);
    }
    const double dd = divisor.get<double>();
    double r = std::fmod(v.get<double>(), dd);
    if (r != 0 && ((r < 0) != (dd < 0))) r += dd;
    return same_value(json(r), remainder);
  }
};

// A bit per JSON type, from nlohmann's type tag; JSON integers are one type, however stored.
constexpr unsigned bit_of(json::value_t type) { return 1u << static_cast<unsigned>(type); }
constexpr unsigned t_null = bit_of(json::value_t::null);
constexpr unsigned t_bool = bit_of(json::value_t::boolean);
constexpr unsigned t_int =
    bit_of(json::value_t::number_integer) | bit_of(json::value_t::number_unsigned);
constexpr unsigned t_float = bit_of(json::value_t::number_float);
constexpr unsigned t_string = bit_of(json::value_t::string);
constexpr unsigned t_array = bit_of(json::value_t::array);
constexpr unsigned t_object = bit_of(json::value_t::object);

struct type_test {
  static constexpr bool expand_arrays = true;
  unsigned mask;
  bool operator()(const json& v) const { return (mask & bit_of(v.type())) != 0; }
};

struct size_test {
  static constexpr bool expand_arrays = false;
  std::size_t size;
  bool operator()(const json& v) const { return v.is_array() && v.size() == size; }
};

struct elem_match_test {
  static constexpr bool expand_arrays = false;
  node_ptr condition;  // applied to each element as its root
  bool operator()(const json& v) const {
    if (!v.is_array()) return false;
    for (const auto& element : v) {
      if (condition->matches(element)) return true;
    }
    return false;
  }
};

// BSON type names and numbers, as MongoDB and py-lockable's matcher spell them. JSON integers
// are both "int" and "long"; "number" is any number. Booleans are not numbers.
struct type_name {
  const char* name;
  int code;
  unsigned mask;  // 0: a BSON type JSON cannot hold
};
constexpr type_name type_names[] = {
    {"double", 1, t_float},
    {"string", 2, t_string},
    {"object", 3, t_object},
    {"array", 4, t_array},
    {"binData", 5, 0},
    {"undefined", 6, 0},
    {"objectId", 7, 0},
    {"bool", 8, t_bool},
    {"date", 9, 0},
    {"null", 10, t_null},
    {"regex", 11, 0},
    {"dbPointer", 12, 0},
    {"javascript", 13, 0},
    {"symbol", 14, 0},
    {"javascriptWithScope", 15, 0},
    {"int", 16, t_int},
    {"timestamp", 17, 0},
    {"long", 18, t_int},
    {"decimal", 19, 0},
    {"minKey", -1, 0},
    {"maxKey", 127, 0},
    {"number", 0, t_int | t_float},
};

unsigned type_mask(const json& name, const scope& s) {
  for (const auto& t : type_names) {
    const bool hit = name.is_string() ? name.get_ref<const std::string&>() == t.name
                                      : name.is_number_integer() && t.code != 0 &&
                                            name.get<std::int64_t>() == t.code;
    if (!hit) continue;
    if (t.mask == 0) fail_at("$type", s, "JSON has no " + in_quotes(t.name) + " type");
    return t.mask;
  }
  fail_at("$type", s,
          "unknown type " +
              (name.is_string() ? in_quotes(name.get_ref<const std::string&>()) : type_of(name)) +
              " (use string, number, int, long, double, bool, object, array or null)");
}

node_ptr compile_type(const json& arg, const scope& s) {
  if (!arg.is_array()) return make_field(s, type_test{type_mask(arg, s)});
  if (arg.empty()) fail_at("$type", s, "needs a type name or a non-empty array of them");
  unsigned mask = 0;
  for (const auto& name : arg) mask |= type_mask(name, s);
  return make_field(s, type_test{mask});
}

node_ptr compile_mod(const json& arg, const scope& s) {
  if (!arg.is_array() || arg.size() != 2) {
    fail_at("$mod", s,
            "needs [divisor, remainder], got " +
                (arg.is_array() ? "an array of " + std::to_string(arg.size()) : type_of(arg)));
  }
  if (!arg[0].is_number() || !arg[1].is_number()) {
    fail_at("$mod", s, "divisor and remainder must be numbers, got " + json_excerpt(arg));
  }
  if (compare_numbers(arg[0], json(0)) == 0) fail_at("$mod", s, "divisor is zero");
  return make_field(s, mod_test{arg[0], arg[1]});
}

node_ptr compile_regex(const json& arg, const json& object, const scope& s) {
  if (!arg.is_string()) fail_at("$regex", s, "needs a string, got " + type_of(arg));
  std::string pattern = arg.get<std::string>();
  std::string flags;
  const bool slash_form = split_slash_form(arg.get_ref<const std::string&>(), pattern, flags);
  const auto options = object.find("$options");
  if (options != object.end()) {
    if (!options->is_string()) {
      fail_at("$options", s, "needs a string of the letters i, m, s, x, got " + type_of(*options));
    }
    if (slash_form && !flags.empty()) {
      fail_at("$regex", s, "options given twice, in \"/pattern/flags\" and in $options");
    }
    flags = options->get<std::string>();
  }
  return make_field(s, regex_test{regex(pattern, flags, "$regex", s)});
}

const char* const supported_operators =
    "$eq $ne $gt $gte $lt $lte $in $nin $and $or $nor $not $exists $type $regex $options $mod "
    "$all $elemMatch $size $comment";

}  // namespace

int compare_numbers(const json& a, const json& b) {
  if (a.is_number_float() || b.is_number_float()) {
    const double x = a.get<double>();
    const double y = b.get<double>();
    if (std::isnan(x) || std::isnan(y)) return 2;
    return x < y ? -1 : y < x ? 1 : 0;
  }
  // Both integers, stored signed or unsigned: order by sign first, then by magnitude.
  const bool a_negative = !a.is_number_unsigned() && a.get<std::int64_t>() < 0;
  const bool b_negative = !b.is_number_unsigned() && b.get<std::int64_t>() < 0;
  if (a_negative != b_negative) return a_negative ? -1 : 1;
  if (a_negative) {
    const auto x = a.get<std::int64_t>();
    const auto y = b.get<std::int64_t>();
    return x < y ? -1 : y < x ? 1 : 0;
  }
  const auto x = a.get<std::uint64_t>();
  const auto y = b.get<std::uint64_t>();
  return x < y ? -1 : y < x ? 1 : 0;
}

bool same_value(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return compare_numbers(a, b) == 0;
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!same_value(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      const auto other = b.find(it.key());
      if (other == b.end() || !same_value(*it, *other)) return false;
    }
    return true;
  }
  return a == b;
}

node_ptr compile_operator(const std::string& op, const json& arg, const json& object,
                          const scope& s) {
  if (op == "$eq") return make_field(s, equals_test{arg});
  if (op == "$ne") return negate(make_field(s, equals_test{arg}));
  if (op == "$gt") return make_field(s, order_test{arg, greater});
  if (op == "$gte") return make_field(s, order_test{arg, greater | equal});
  if (op == "$lt") return make_field(s, order_test{arg, less});
  if (op == "$lte") return make_field(s, order_test{arg, less | equal});
  if (op == "$in" || op == "$nin") {
    if (!arg.is_array()) fail_at(op, s, "needs an array, got " + type_of(arg));
    auto node = make_field(s, in_test{arg});
    return op == "$in" ? std::move(node) : negate(std::move(node));
  }
  if (op == "$exists") {
    if (!arg.is_boolean()) fail_at(op, s, "needs true or false, got " + type_of(arg));
    auto node = make_field(s, present_test{});
    return arg.get<bool>() ? std::move(node) : negate(std::move(node));
  }
  if (op == "$type") return compile_type(arg, s);
  if (op == "$regex") return compile_regex(arg, object, s);
  if (op == "$options") {
    if (!object.contains("$regex")) fail_at(op, s, "needs $regex beside it");
    return nullptr;  // read by compile_regex
  }
  if (op == "$mod") return compile_mod(arg, s);
  if (op == "$size") {
    if (!arg.is_number_integer() || (!arg.is_number_unsigned() && arg.get<std::int64_t>() < 0)) {
      fail_at(op, s, "needs a non-negative integer, got " + type_of(arg));
    }
    return make_field(s, size_test{arg.get<std::size_t>()});
  }
  if (op == "$all") {
    // As py-lockable's matcher: each element is a condition on the field, so an object element
    // ({"$elemMatch": ...} or fields) is a condition object and [] matches everything.
    if (!arg.is_array()) fail_at(op, s, "needs an array, got " + type_of(arg));
    node_list all;
    for (const auto& element : arg) {
      all.push_back(element.is_object() ? compile_object(element, s)
                                        : make_field(s, equals_test{element}));
    }
    return all_of(std::move(all));
  }
  if (op == "$elemMatch") {
    if (!arg.is_object()) fail_at(op, s, "needs an object, got " + type_of(arg));
    const scope element{{}, s.where.empty() ? op : s.where + "." + op};
    return make_field(s, elem_match_test{compile_object(arg, element)});
  }
  fail("unknown operator " + in_quotes(op) + (s.where.empty() ? "" : " at " + in_quotes(s.where)) +
       " (supported: " + supported_operators + ")");
}

}  // namespace gtest_lockable::detail
