#pragma once

// Every environment variable the library, the `lockable` command and the GoogleTest plugin read
// or set, in one place. One environment configures both front ends; a command-line option or
// flag wins over its variable, and a variable that is set but empty counts as unset.

namespace gtest_lockable::env {

// Settings of both front ends.
inline constexpr const char* requirements = "LOCKABLE_REQUIREMENTS";  ///< JSON or key=value&...
inline constexpr const char* resources = "LOCKABLE_RESOURCES";        ///< File path or URI.
inline constexpr const char* lock_folder = "LOCKABLE_LOCK_FOLDER";    ///< Lock folder.
inline constexpr const char* lock_server = "LOCKABLE_LOCK_SERVER";    ///< etcd://HOST:PORT/...
/// The etcd user's password, when the lock server URI names a `user=` and no `password_file=`.
inline constexpr const char* lock_server_password = "LOCKABLE_LOCK_SERVER_PASSWORD";
inline constexpr const char* timeout = "LOCKABLE_TIMEOUT";            ///< Seconds.
inline constexpr const char* hostname = "LOCKABLE_HOSTNAME";          ///< Host name.
/// Whether allocations are recorded in the usage ledger: on or off (docs/ledger.md).
inline constexpr const char* ledger = "LOCKABLE_LEDGER";
/// How many bytes of records the ledger keeps: 16M, 512K, ...
inline constexpr const char* ledger_size = "LOCKABLE_LEDGER_SIZE";
/// The plugin's policy when no resource can be had: fail or skip.
inline constexpr const char* on_unavailable = "LOCKABLE_ON_UNAVAILABLE";
/// Priority among waiters, 0-1000: higher goes first.
inline constexpr const char* priority = "LOCKABLE_PRIORITY";
/// Longest a command (or a test program) may hold its resource: a duration.
inline constexpr const char* max_hold = "LOCKABLE_MAX_HOLD";
/// The plugin: keep the resource as a hold for this long when a test failed.
inline constexpr const char* hold_on_failure = "LOCKABLE_HOLD_ON_FAILURE";
/// After how many consecutive failed probes or resets a resource is quarantined.
inline constexpr const char* quarantine_after = "LOCKABLE_QUARANTINE_AFTER";
/// How often a quarantined resource may be checked again.
inline constexpr const char* recheck_every = "LOCKABLE_RECHECK_EVERY";
/// A file of probes and resets for inventory entries by requirement (`--health-defaults`).
inline constexpr const char* health_defaults = "LOCKABLE_HEALTH_DEFAULTS";

// How http(s) inventories are fetched (`http_options_from_env()`, see docs/http.md).
inline constexpr const char* http_token = "LOCKABLE_HTTP_TOKEN";  ///< Bearer token.
inline constexpr const char* ca_file = "LOCKABLE_CA_FILE";        ///< PEM file of trusted CAs.
inline constexpr const char* http_insecure = "LOCKABLE_HTTP_INSECURE";  ///< 1: no TLS verify.
inline constexpr const char* http_retries = "LOCKABLE_HTTP_RETRIES";    ///< Retries, 0-100.
inline constexpr const char* http_connect_timeout = "LOCKABLE_HTTP_CONNECT_TIMEOUT";  ///< Seconds.
inline constexpr const char* http_timeout = "LOCKABLE_HTTP_TIMEOUT";  ///< Read timeout, seconds.

// Where the run-time modules are, when they are not found in the usual places.
inline constexpr const char* http_module = "LOCKABLE_HTTP_MODULE";  ///< libgtest_lockable_http.so
inline constexpr const char* regex_module =
    "LOCKABLE_REGEX_MODULE";  ///< libgtest_lockable_regex.so

// What the `lockable` command gives the command it runs, besides the resource's fields.
inline constexpr const char* resource_id = "LOCKABLE_RESOURCE_ID";      ///< The resource's id.
inline constexpr const char* resource_info = "LOCKABLE_RESOURCE_INFO";  ///< Its entry, as JSON.
inline constexpr const char* alloc_id = "LOCKABLE_ALLOC_ID";            ///< The allocation id.

/// Internal: through it a test program hands its resource to its threadsafe-style death-test
/// children, which re-run the test body but must not lock.
inline constexpr const char* death_test_resource = "GTEST_LOCKABLE_RESOURCE_INFO";

}  // namespace gtest_lockable::env
