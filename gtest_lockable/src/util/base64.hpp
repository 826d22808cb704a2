#pragma once

#include <string>
#include <string_view>

namespace gtest_lockable::detail {

/// Standard base64 with padding: etcd's gateway encodes keys and values so, and HTTP Basic
/// credentials are.
std::string base64_encode(std::string_view data);
/// The inverse of `base64_encode`; ignores characters outside the alphabet.
std::string base64_decode(std::string_view text);

}  // namespace gtest_lockable::detail
