#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace gtest_lockable::detail {

using fractional_seconds = std::chrono::duration<double>;

/// Whether a response with `status` is worth retrying: 429, 500, 502, 503 and 504 say the
/// server may answer soon; any other failure status will not change by asking again.
bool retryable_status(int status);

/// The wait a `Retry-After` value asks for: delay-seconds (`120`) or an HTTP-date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`, compared with `now`; a past date is 0). Empty when invalid.
std::optional<fractional_seconds> parse_retry_after(std::string_view value,
                                                    std::chrono::system_clock::time_point now);

/// The wait before retry number `retry` (1 for the first): `base * 2^(retry-1)`, at most `max`,
/// then lowered by up to half at random (`jitter` in [0, 1]) so that many CI hosts that failed
/// together do not retry together.
fractional_seconds backoff_delay(int retry, fractional_seconds base, fractional_seconds max,
                                 double jitter);

/// The reason phrase for `status` (`Not Found`), or empty for an uncommon status. Messages use
/// this rather than the server's phrase, which is untrusted text.
std::string_view status_text(int status);

}  // namespace gtest_lockable::detail
