// The front ends' shared helpers: reading and checking values, messages, help text, and the one
// place that builds a `lockable` from resolved settings.
#include "gtest_lockable/internal/settings.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/requirements.hpp"

namespace gtest_lockable::internal {

std::optional<std::string> env_value(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::chrono::duration<double> parse_duration(std::string_view text, std::string_view what,
                                             std::string_view source) {
  // A number, then at most one unit letter: 90, 0.5, 90s, 15m, 2h.
  std::string number(text);
  double unit = 1;
  constexpr std::pair<char, double> units[] = {{'s', 1}, {'m', 60}, {'h', 3600}};
  for (const auto& [letter, seconds] : units) {
    if (!number.empty() && number.back() == letter) {
      unit = seconds;
      number.pop_back();
      break;
    }
  }
  char* end = nullptr;
  errno = 0;
  const double value = number.empty() ? NAN : std::strtod(number.c_str(), &end) * unit;
  // strtod accepts "nan", "inf" and hexadecimal; only plain finite numbers are durations.
  const bool plain = number.find_first_not_of("0123456789.eE+-") == std::string::npos;
  if (number.empty() || !plain || end == nullptr || *end != '\0' || errno == ERANGE ||
      !std::isfinite(value) || value < 0 || value > 1e9) {
    throw error(errc::invalid_argument,
                "invalid " + std::string(what) + " '" + std::string(text) + "' from " +
                    std::string(source) +
                    ": give seconds from 0 up (10, 0.5) or a number with a unit (90s, 15m, 2h)");
  }
  return std::chrono::duration<double>(value);
}

int parse_priority(std::string_view text, std::string_view source) {
  const std::string digits(text);
  const bool plain = !digits.empty() && digits.size() <= 4 &&
                     digits.find_first_not_of("0123456789") == std::string::npos;
  const int value = plain ? std::atoi(digits.c_str()) : -1;
  if (value < 0 || value > max_priority) {
    throw error(errc::invalid_argument,
                "invalid priority '" + digits + "' from " + std::string(source) +
                    ": give a whole number from 0 (the default) to " +
                    std::to_string(max_priority) + "; a higher one goes first");
  }
  return value;
}

std::chrono::duration<double> parse_timeout(std::string_view text, std::string_view source) {
  return parse_duration(text, "timeout", source);
}

std::string effective_hostname(const settings& s) {
  return s.hostname.value.empty() ? this_hostname() : s.hostname.value;
}

std::string message_of(const error& e, front_end which) {
  // The hint names the option of the front end the user typed, found in the one table.
  const auto option_of = [which](const char* name) -> std::string {
    for (const setting_spec& spec : setting_specs()) {
      if (std::strcmp(spec.name, name) == 0) return face_of(spec, which).option;
    }
    return name;
  };
  std::string text = e.what();
  switch (e.culprit()) {
    case setting::resources:
      return text + " (give the inventory file with " + option_of("resources") + ")";
    case setting::lock_folder:
      return text + " (choose a writable folder with " + option_of("lock_folder") + ")";
    case setting::none:
      break;
  }
  return text;
}

std::string wrap(std::string_view text, std::size_t column, std::size_t first_at,
                 std::size_t width) {
  std::string out;
  std::size_t at = first_at;
  if (at < column) {
    out.append(column - at, ' ');
    at = column;
  }
  bool line_empty = true;
  std::size_t start = 0;
  while (start < text.size()) {
    const bool bracketed = text[start] == '[' && text.find(']', start) != std::string_view::npos;
    std::size_t end = bracketed ? text.find(']', start) + 1 : text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    const std::size_t word = end - start;
    if (!line_empty && at + 1 + word > width) {
      out += '\n';
      out.append(column, ' ');
      at = column;
    } else if (!line_empty) {
      out += ' ';
      ++at;
    }
    out.append(text.substr(start, word));
    at += word;
    line_empty = false;
    start = end + 1;
  }
  out += '\n';
  return out;
}

lockable make_lockable(const settings& s, lockable_hooks hooks) {
  options opts;
  opts.hostname = s.hostname.value;  // empty: the lockable uses this host's name
  opts.resources = s.resources.value;
  std::shared_ptr<lock_store> store =
      open_lock_store(s.lock_folder.value, s.lock_server.value, std::move(hooks.etcd));
  opts.store = hooks.wrap_store ? hooks.wrap_store(std::move(store)) : std::move(store);
  opts.on_wait = std::move(hooks.on_wait);
  opts.on_warning = std::move(hooks.on_warning);
  opts.ledger = s.ledger;
  opts.ledger_size = s.ledger_size;
  opts.quarantine_after = s.quarantine_after;
  opts.recheck_every = s.recheck_every;
  if (!s.health_defaults.value.empty()) {
    const std::string& path = s.health_defaults.value;
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    if (!in) {
      throw error(errc::invalid_argument, "cannot read health defaults '" + path + "' (from " +
                                              s.health_defaults.source +
                                              "): check the path and its permissions");
    }
    opts.health_defaults = nlohmann::json::parse(text.str(), nullptr, false);
    if (opts.health_defaults.is_discarded()) {
      throw error(errc::invalid_argument, "health defaults '" + path + "' (from " +
                                              s.health_defaults.source + ") is not valid JSON");
    }
    opts.health_defaults_source = "'" + path + "'";
  }
  return lockable(std::move(opts));
}

}  // namespace gtest_lockable::internal
