// What both stores check before they end a hold (lock_store::release_hold).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "gtest_lockable/lock_status.hpp"

namespace gtest_lockable::detail {

/// Throws unless `was`, the held state of resource `id`, is a hold that `user` may end: `not_held`
/// for a running lock (a process holds it), `not_permitted` for another user's hold without
/// `force`.
void check_hold_release(const lock_status& was, const std::string& id, const std::string& user,
                        bool force);

/// The record of a forced release of the hold `was` by `user`, as both stores keep it.
nlohmann::json forced_release_record(const lock_status& was, const std::string& user);

}  // namespace gtest_lockable::detail
