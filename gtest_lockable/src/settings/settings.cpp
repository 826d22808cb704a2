#include "gtest_lockable/settings.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "gtest_lockable/error.hpp"

namespace gtest_lockable {

std::optional<std::string> env_value(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::chrono::duration<double> parse_timeout(std::string_view text, std::string_view source) {
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const double value = copy.empty() ? NAN : std::strtod(copy.c_str(), &end);
  // strtod accepts "nan", "inf" and hexadecimal; only plain finite numbers are timeouts.
  const bool plain = copy.find_first_not_of("0123456789.eE+-") == std::string::npos;
  if (copy.empty() || !plain || end == nullptr || *end != '\0' || errno == ERANGE ||
      !std::isfinite(value) || value < 0 || value > 1e9) {
    throw error(errc::invalid_argument,
                "invalid timeout '" + copy + "' from " + std::string(source) +
                    ": give a number of seconds from 0 up (e.g. 10 or 0.5)");
  }
  return std::chrono::duration<double>(value);
}

}  // namespace gtest_lockable
