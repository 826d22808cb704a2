#pragma once

// Who this process runs as, for lock records and for the owner check of `--release`.

#include <pwd.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace gtest_lockable::detail {

/// The name of the effective user, or its number when it has no name.
inline std::string user_name() {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwuid_r(::geteuid(), &entry, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr && found->pw_name != nullptr && *found->pw_name != '\0') {
    return found->pw_name;
  }
  return std::to_string(::geteuid());
}

}  // namespace gtest_lockable::detail
