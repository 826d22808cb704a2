// The one description of every setting of the `lockable` command and the GoogleTest plugin. The
// names and defaults are py-lockable's (for the command) and pytest-lockable's (for the plugin),
// so that their users' scripts and CI set-ups keep working; that is why some defaults differ.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gtest_lockable/env.hpp"
#include "gtest_lockable/error.hpp"
#include "gtest_lockable/internal/settings.hpp"
#include "gtest_lockable/lock_store.hpp"

namespace gtest_lockable::internal {
namespace {

std::string none() { return {}; }

void store_requirements(settings& out, const sourced& value) {
  // Kept as text: the command parses it only in the modes that use it, so that
  // --validate-only can report a bad inventory and bad requirements together.
  out.requirements = value;
}

void store_resources(settings& out, const sourced& value) {
  if (value.value.empty()) {
    throw error(errc::invalid_argument,
                value.source + " is empty: give the inventory file (e.g. resources.json)");
  }
  out.resources = value;
}

void store_timeout(settings& out, const sourced& value) {
  out.timeout = parse_timeout(value.value, value.source);
}

void store_on_unavailable(settings& out, const sourced& value) {
  if (value.value == "fail") {
    out.on_unavailable = unavailable_policy::fail;
  } else if (value.value == "skip") {
    out.on_unavailable = unavailable_policy::skip;
  } else {
    throw error(errc::invalid_argument,
                "invalid value '" + value.value + "' from " + value.source + ": give fail or skip");
  }
}

// A duration that must be above zero, or none when empty (the default).
std::optional<std::chrono::duration<double>> optional_limit(const sourced& value,
                                                            const char* what) {
  if (value.value.empty()) return std::nullopt;
  const auto limit = parse_duration(value.value, what, value.source);
  if (limit.count() <= 0) {
    throw error(errc::invalid_argument, "invalid " + std::string(what) + " '" + value.value +
                                            "' from " + value.source +
                                            ": give a duration above 0 (90s, 15m, 2h), or "
                                            "nothing for none");
  }
  return limit;
}

void store_ledger(settings& out, const sourced& value) {
  if (value.value == "on") {
    out.ledger = true;
  } else if (value.value == "off") {
    out.ledger = false;
  } else {
    throw error(errc::invalid_argument,
                "invalid value '" + value.value + "' from " + value.source + ": give on or off");
  }
}

// A size in bytes with an optional unit: 4096, 512K, 16M, 1G.
void store_ledger_size(settings& out, const sourced& value) {
  const std::string& text = value.value;
  std::uint64_t unit = 1;
  std::string digits = text;
  if (!digits.empty()) {
    const char last = digits.back();
    const std::uint64_t units[] = {1u << 10, 1u << 20, 1u << 30};
    const char* letters = "KMG";
    for (int i = 0; i < 3; ++i) {
      if (last == letters[i] || last == letters[i] + ('a' - 'A')) {
        unit = units[i];
        digits.pop_back();
      }
    }
  }
  const bool plain = !digits.empty() && digits.size() <= 12 &&
                     digits.find_first_not_of("0123456789") == std::string::npos;
  const std::uint64_t bytes = plain ? std::stoull(digits) * unit : 0;
  if (!plain || bytes < 8192 || bytes > (std::uint64_t{1} << 40)) {
    throw error(errc::invalid_argument, "invalid ledger size '" + text + "' from " +
                                            value.source +
                                            ": give bytes from 8K up to 1024G (8192, 512K, 16M, 1G)");
  }
  out.ledger_size = bytes;
}

const std::vector<setting_spec> specs = {
    {"requirements",
     env::requirements,
     {"--requirements", "R", [] { return std::string("{}"); }, nullptr},
     {"--lockable_requirements", "REQUIREMENTS", [] { return std::string("{}"); }, nullptr},
     "requirements of the resource to lock: a JSON object ({\"type\": \"board\"}) or "
     "key=value&key2=value2 (a.b=x nests, true/false are booleans); hostname (this host's "
     "name unless set) and online=true are added unless given, and a null for either removes it",
     store_requirements},
    {"resources",
     env::resources,
     {"--resources", "FILE", [] { return std::string("./resources.json"); }, nullptr},
     {"--lockable_resources", "FILE", [] { return std::string("resources.json"); }, nullptr},
     "the inventory: a JSON array of resources, each with a unique \"id\", in a file or at an "
     "http(s) URI",
     store_resources},
    {"lock_folder",
     env::lock_folder,
     {"--lock-folder", "DIR", [] { return std::string("."); }, nullptr},
     // pytest-lockable's default; computed when needed, as it depends on TMPDIR.
     {"--lockable_lock_folder", "FOLDER", default_lock_folder, nullptr},
     "folder of the <id>.pid lock files, shared with py-lockable on this host; created if "
     "missing; unused with a lock server",
     [](settings& out, const sourced& value) { out.lock_folder = value; }},
    {"lock_server",
     env::lock_server,
     {"--lock-server", "URI", none, nullptr},
     {"--lockable_lock_server", "URI", none, nullptr},
     "keep the locks in etcd instead, to share resources between hosts: "
     "etcd://HOST[:PORT][,...][/PREFIX][?ttl=SECONDS], or etcds://... with ca=, cert=, key=, "
     "user= for TLS and a password (see docs/stores.md); a lock lost while held "
     "(etcd unreachable for longer than the TTL) stops the command or fails the remaining tests",
     [](settings& out, const sourced& value) { out.lock_server = value; }},
    {"timeout",
     env::timeout,
     {"--timeout", "DURATION", [] { return std::string("1"); }, nullptr},
     {"--lockable_timeout", "DURATION", [] { return std::string("10"); }, nullptr},
     "how long to wait for a matching resource to become free, in seconds or with a unit "
     "(10, 0.5, 90s, 15m, 2h); 0 tries once",
     store_timeout},
    {"hostname",
     env::hostname,
     {"--hostname", "NAME", none, "this host's name"},
     {"--lockable_hostname", "NAME", none, "this host's name"},
     "the host name that resources must have (the default \"hostname\" requirement)",
     [](settings& out, const sourced& value) { out.hostname = value; }},
    {"ledger",
     env::ledger,
     {"--ledger", "on|off", [] { return std::string("on"); }, nullptr},
     {"--lockable_ledger", "on|off", [] { return std::string("on"); }, nullptr},
     "record each allocation (who held which resource, when, for how long, and how the command "
     "or the tests ended) in the lock store's usage ledger, which lockable --history and "
     "--stats read (see docs/ledger.md)",
     store_ledger},
    {"ledger_size",
     env::ledger_size,
     {"--ledger-size", "SIZE", [] { return std::string("16M"); }, nullptr},
     {"--lockable_ledger_size", "SIZE", [] { return std::string("16M"); }, nullptr},
     "how many bytes of the newest records the ledger keeps (8K to 1024G, e.g. 512K, 16M, 1G): "
     "two files of half that, the older one replaced when the newer one fills",
     store_ledger_size},
    // The command has no such choice: it exits with a status that says what happened.
    {"on_unavailable",
     env::on_unavailable,
     {nullptr, nullptr, [] { return std::string("fail"); }, nullptr},
     {"--lockable_on_unavailable", "fail|skip", [] { return std::string("fail"); }, nullptr},
     "when no resource matches or the timeout passes: fail every selected test (the program "
     "exits non-zero) or skip them; bad flags or a bad inventory always fail",
     store_on_unavailable},
    {"priority",
     env::priority,
     {"--priority", "N", [] { return std::string("0"); }, nullptr},
     {"--lockable_priority", "N", [] { return std::string("0"); }, nullptr},
     "priority among those waiting for a resource, 0-1000: a freed resource goes to the waiter "
     "whose wait plus one minute per priority point is the longest, so N counts as N minutes of "
     "waiting (first come, first served within one priority; see docs/holds.md)",
     [](settings& out, const sourced& value) {
       out.priority = parse_priority(value.value, value.source);
     }},
    {"max_hold",
     env::max_hold,
     {"--max-hold", "DURATION", none, nullptr},
     {"--lockable_max_hold", "DURATION", none, nullptr},
     "the longest the resource may be held (90s, 15m, 2h): then the command's process group "
     "gets SIGTERM, SIGKILL 5 s later, and lockable exits 124; the plugin fails the running "
     "and remaining tests",
     [](settings& out, const sourced& value) {
       out.max_hold = optional_limit(value, "hold limit");
     }},
    // The command makes holds with --hold --for instead.
    {"hold_on_failure",
     env::hold_on_failure,
     {nullptr, nullptr, none, nullptr},
     {"--lockable_hold_on_failure", "DURATION", none, nullptr},
     "when a test failed, keep the resource held for this long (15m, 2h) after the program "
     "ends, with a note naming the program and the failed tests, as lockable --hold does; "
     "lockable --release ID ends it early",
     [](settings& out, const sourced& value) {
       out.hold_on_failure = optional_limit(value, "hold duration");
     }},
    {"quarantine_after",
     env::quarantine_after,
     {"--quarantine-after", "N", [] { return std::string("3"); }, nullptr},
     {"--lockable_quarantine_after", "N", [] { return std::string("3"); }, nullptr},
     "quarantine a resource after N consecutive failed probes or resets (1-1000): no lock "
     "hands it out until a later check passes, or lockable --unquarantine ID (see "
     "docs/lab-health.md)",
     [](settings& out, const sourced& value) {
       const std::string& text = value.value;
       const bool plain = !text.empty() && text.size() <= 4 &&
                          text.find_first_not_of("0123456789") == std::string::npos;
       const int n = plain ? std::stoi(text) : 0;
       if (n < 1 || n > 1000) {
         throw error(errc::invalid_argument, "invalid value '" + text + "' from " + value.source +
                                                 ": give a whole number of failures from 1 to "
                                                 "1000");
       }
       out.quarantine_after = n;
     }},
    {"recheck_every",
     env::recheck_every,
     {"--recheck-every", "DURATION", [] { return std::string("10m"); }, nullptr},
     {"--lockable_recheck_every", "DURATION", [] { return std::string("10m"); }, nullptr},
     "check an automatically quarantined resource again at most this often (90s, 10m, 1h), "
     "by a lock that would otherwise wait for it: its probe (or its reset when it has no "
     "probe) ends the quarantine when it passes",
     [](settings& out, const sourced& value) {
       out.recheck_every = parse_duration(value.value, "recheck interval", value.source);
     }},
    {"health_defaults",
     env::health_defaults,
     {"--health-defaults", "FILE", none, nullptr},
     {"--lockable_health_defaults", "FILE", none, nullptr},
     "probes and resets for the inventory entries without a health field of their own: a JSON "
     "array of {\"match\": requirements, \"probe\": [argv], \"reset\": [argv], \"timeout\": s}, "
     "the first whose requirements an entry matches applies (see docs/lab-health.md)",
     [](settings& out, const sourced& value) { out.health_defaults = value; }},
};

}  // namespace

const std::vector<setting_spec>& setting_specs() { return specs; }

const front_end_face& face_of(const setting_spec& spec, front_end which) {
  return which == front_end::command ? spec.command : spec.plugin;
}

std::string shown_default(const setting_spec& spec, front_end which) {
  const front_end_face& face = face_of(spec, which);
  if (face.shown != nullptr) return face.shown;
  const std::string value = face.fallback();
  return value.empty() ? "none" : value;
}

}  // namespace gtest_lockable::internal
