#include "src/http/retry.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

namespace gtest_lockable::detail {

bool retryable_status(int status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::optional<fractional_seconds> parse_retry_after(std::string_view value,
                                                    std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return fractional_seconds(1e9);  // "forever"; the caller caps it
    return fractional_seconds(std::stod(std::string(value)));
  }
  // IMF-fixdate, the only date form senders may use (RFC 9110, 5.6.7).
  const std::string text(value);
  char weekday[4] = {};
  char month_name[4] = {};
  int day = 0, year = 0, hour = 0, minute = 0, second = 0, used = 0;
  if (std::sscanf(text.c_str(), "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", weekday, &day,
                  month_name, &year, &hour, &minute, &second, &used) != 7 ||
      used != static_cast<int>(text.size())) {
    return std::nullopt;
  }
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto month = std::find_if(std::begin(months), std::end(months),
                                  [&](const char* m) { return std::strcmp(m, month_name) == 0; });
  if (month == std::end(months) || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = static_cast<int>(month - std::begin(months));
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t at = ::timegm(&tm);
  if (at == static_cast<std::time_t>(-1)) return std::nullopt;
  const fractional_seconds wait = std::chrono::system_clock::from_time_t(at) - now;
  return std::max(wait, fractional_seconds(0));
}

fractional_seconds backoff_delay(int retry, fractional_seconds base, fractional_seconds max,
                                 double jitter) {
  const double doubled = base.count() * std::ldexp(1.0, std::clamp(retry, 1, 60) - 1);
  const double capped = std::min(doubled, max.count());
  return fractional_seconds(capped * (1.0 - 0.5 * std::clamp(jitter, 0.0, 1.0)));
}

std::string_view status_text(int status) {
  switch (status) {
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 410:
      return "Gone";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return {};
  }
}

}  // namespace gtest_lockable::detail
