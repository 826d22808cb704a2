// Probes, resets and quarantine. A probe and a reset run while the lock is held, so the failure
// count they update is changed by one holder at a time; `lockable --quarantine` changes it without
// the lock, which `health_records::update` makes safe.
#include "src/health/health.hpp"

#include <unistd.h>

#include <chrono>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/internal/health.hpp"
#include "gtest_lockable/internal/resource_env.hpp"
#include "gtest_lockable/inventory.hpp"
#include "gtest_lockable/requirements.hpp"
#include "src/util/json.hpp"
#include "src/util/time_format.hpp"
#include "src/util/user.hpp"

extern char** environ;

namespace gtest_lockable::detail {
namespace {

using nlohmann::json;

double now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

[[noreturn]] void bad_spec(const std::string& id, const std::string& what) {
  throw error(errc::invalid_inventory,
              "resource '" + id + "': \"" + health_field + "\"" + what +
                  " (give {\"probe\": [\"cmd\", \"arg\"], \"reset\": [...], \"timeout\": "
                  "seconds}; see docs/lab-health.md)");
}

std::vector<std::string> argv_of(const json& value, const std::string& id, const char* key) {
  if (!value.is_array() || value.empty()) {
    bad_spec(id, std::string(".") + key + " is not a non-empty array of strings");
  }
  std::vector<std::string> out;
  for (const auto& part : value) {
    if (!part.is_string() || part.get_ref<const std::string&>().find('\0') != std::string::npos) {
      bad_spec(id, std::string(".") + key + " has an element that is not a string");
    }
    out.push_back(part.get<std::string>());
  }
  if (out.front().empty()) bad_spec(id, std::string(".") + key + " starts with an empty string");
  return out;
}

std::string tail_of(const std::string& output, std::size_t keep = 1000) {
  return printable(output.size() > keep ? output.substr(output.size() - keep) : output);
}

}  // namespace

std::optional<health_spec> health_spec_of(const json& entry, const std::string& id) {
  if (!entry.is_object()) return std::nullopt;
  const auto it = entry.find(health_field);
  if (it == entry.end()) return std::nullopt;
  if (!it->is_object()) bad_spec(id, " is not an object");
  health_spec spec;
  for (const auto& [key, value] : it->items()) {
    if (key == "probe") {
      spec.probe = argv_of(value, id, "probe");
    } else if (key == "reset") {
      spec.reset = argv_of(value, id, "reset");
    } else if (key == "timeout") {
      if (!value.is_number() || !(value.get<double>() > 0) || value.get<double>() > 86400) {
        bad_spec(id, ".timeout is not a number of seconds above 0 and at most 86400");
      }
      spec.timeout = std::chrono::duration<double>(value.get<double>());
    } else {
      bad_spec(id, " has an unknown key '" + key + "'");
    }
  }
  return spec;
}

health_record parse_health_record(const std::string& text) {
  health_record r;
  if (text.empty()) return r;
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return r;
  const auto str = [&j](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const auto num = [&j](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
  };
  const auto flag = [&j](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_boolean() && it->get<bool>();
  };
  const double failures = num("failures");
  r.failures = failures > 0 && failures < 1e6 ? static_cast<int>(failures) : 0;
  r.failed = str("failed");
  r.failed_at = str("failed_at");
  r.output = str("output");
  r.quarantined = flag("quarantined");
  r.manual = flag("manual");
  r.by = str("by");
  r.since = str("since");
  r.since_s = num("since_s");
  r.reason = str("reason");
  r.checked_s = num("checked_s");
  return r;
}

std::string health_record_text(const health_record& r) {
  json j = {{"failures", r.failures}};
  if (!r.failed.empty()) {
    j["failed"] = r.failed;
    j["failed_at"] = r.failed_at;
    j["output"] = r.output;
  }
  if (r.quarantined) {
    j["quarantined"] = true;
    j["manual"] = r.manual;
    j["by"] = r.by;
    j["since"] = r.since;
    j["since_s"] = r.since_s;
    j["reason"] = r.reason;
    if (r.checked_s > 0) j["checked_s"] = r.checked_s;
  }
  return json_text(j) + "\n";
}

std::string health_text(const health_record& r, int quarantine_after) {
  if (r.quarantined) {
    return "quarantined" + std::string(r.manual ? "" : " automatically") + " by " + r.by +
           " since " + r.since + ": " + r.reason;
  }
  if (r.failures > 0) {
    return "failing " + std::to_string(r.failures) + " of " + std::to_string(quarantine_after) +
           ": " + r.failed;
  }
  return "ok";
}

health_record quarantine(health_records& records, const std::string& id, const std::string& reason,
                         const std::string& by) {
  if (reason.empty()) {
    throw error(errc::invalid_argument,
                "--reason is empty: say why '" + id + "' is quarantined, in one line");
  }
  if (reason.size() > max_quarantine_reason) {
    throw error(errc::invalid_argument, "--reason is " + std::to_string(reason.size()) +
                                            " bytes: give at most " +
                                            std::to_string(max_quarantine_reason));
  }
  for (std::size_t i = 0; i < reason.size(); ++i) {
    const auto byte = static_cast<unsigned char>(reason[i]);
    if (byte < 0x20 || byte == 0x7f) {
      throw error(errc::invalid_argument,
                  "--reason has a control character at byte " + std::to_string(i + 1) + " (" +
                      printable(reason.substr(i, 1)) + "): give one line of plain text");
    }
  }
  health_record written;
  records.update(id, [&](const std::string& text) {
    written = parse_health_record(text);
    written.quarantined = true;
    written.manual = true;
    written.by = by;
    written.since = utc_now_iso8601();
    written.since_s = now_s();
    written.reason = reason;
    written.checked_s = 0;
    return health_record_text(written);
  });
  return written;
}

health_record unquarantine(health_records& records, const std::string& id) {
  health_record was;
  records.update(id, [&](const std::string& text) {
    was = parse_health_record(text);
    return was.quarantined ? std::string() : text;
  });
  if (!was.quarantined) {
    throw error(errc::not_held, "'" + id +
                                    "' is not quarantined (lockable --status shows "
                                    "its health): there is nothing to lift");
  }
  return was;
}

check_result run_and_record(health_records* records, const health_policy& policy, const char* which,
                            const std::vector<std::string>& argv, const health_spec& spec,
                            const json& entry, const std::string& id, const std::string& alloc_id) {
  const auto environment =
      internal::merge_environment(environ, internal::resource_variables(entry, id, alloc_id));
  check_result result = run_check(argv, environment, spec.timeout);
  if (records == nullptr) return result;
  const std::string what = std::string(which) + " " + result.summary;
  records->update(id, [&](const std::string& text) {
    health_record r = parse_health_record(text);
    if (result.passed) {
      // A passing check ends an automatic quarantine and the count; a manual one stays.
      if (r.quarantined && r.manual) return text;
      return std::string();
    }
    r.failed = what;
    r.failed_at = utc_now_iso8601();
    r.output = tail_of(result.output_tail);
    if (r.quarantined) {
      r.checked_s = now_s();
      return health_record_text(r);
    }
    ++r.failures;
    if (r.failures >= policy.quarantine_after) {
      r.quarantined = true;
      r.manual = false;
      r.by = user_name() + "@" + policy.host;
      r.since = r.failed_at;
      r.since_s = now_s();
      r.checked_s = r.since_s;
      r.reason = std::string(which) + " failed " + std::to_string(r.failures) +
                 " times in a row, last: " + result.summary;
    }
    return health_record_text(r);
  });
  return result;
}

void reset_task::run() noexcept {
  try {
    if (spec.reset.empty() || pid != static_cast<long>(::getpid())) return;
    const check_result result =
        run_and_record(records.get(), policy, "reset", spec.reset, spec, entry, id, alloc_id);
    if (!result.passed && on_warning) {
      on_warning("reset of " + id + " " + result.summary +
                 (result.output_tail.empty()
                      ? ""
                      : "; its output ends: " + tail_of(result.output_tail, 200)));
    }
  } catch (const std::exception& e) {
    if (on_warning) {
      try {
        on_warning("reset of " + id + " could not be run or recorded: " + e.what());
      } catch (...) {
      }
    }
  } catch (...) {
  }
}

std::vector<health_default> parse_health_defaults(const json& defaults,
                                                  const std::string& source) {
  const auto bad = [&](std::size_t i, const std::string& why) {
    throw error(errc::invalid_argument, "health defaults " + source + ", item " +
                                            std::to_string(i + 1) + ": " + why +
                                            " (each item: {\"match\": requirements, \"probe\": "
                                            "[argv], \"reset\": [argv], \"timeout\": s})");
  };
  if (!defaults.is_array()) {
    throw error(errc::invalid_argument,
                "health defaults " + source +
                    ": not a JSON array of {\"match\", \"probe\", \"reset\", \"timeout\"}");
  }
  std::vector<health_default> out;
  for (std::size_t i = 0; i < defaults.size(); ++i) {
    const json& item = defaults[i];
    if (!item.is_object() || !item.contains("match")) bad(i, "no \"match\"");
    health_default d;
    try {
      const json& match = item["match"];
      d.match = std::make_shared<const query>(
          match.is_string() ? parse_requirements(match.get<std::string>()) : match);
      json spec = item;
      spec.erase("match");
      auto parsed = health_spec_of(json{{health_field, spec}}, "default " + std::to_string(i + 1));
      d.spec = std::move(*parsed);
    } catch (const error& e) {
      bad(i, e.what());
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::optional<health_spec> health_spec_for(const json& entry, const std::string& id,
                                           const health_policy& policy) {
  if (!policy.defaults || (entry.is_object() && entry.contains(health_field))) {
    return health_spec_of(entry, id);
  }
  for (const health_default& d : *policy.defaults) {
    if (d.match->matches(entry)) return d.spec;
  }
  return std::nullopt;
}

bool health_gate::admit(const std::string& id, const json& entry, const std::string& alloc_id,
                        std::string& note) {
  const health_record record = records_ ? parse_health_record(records_->read(id)) : health_record{};
  const std::optional<health_spec> spec = health_spec_for(entry, id, policy_);
  if (record.quarantined) {
    const bool has_check = spec && (!spec->probe.empty() || !spec->reset.empty());
    refusal& r = refused_[id];
    r.quarantined = true;
    r.why = health_text(record, policy_.quarantine_after);
    r.recheckable = !record.manual && has_check;
    r.due_s = std::max(record.since_s, record.checked_s) + policy_.recheck_every.count();
    if (recheck_now_.erase(id) == 0 || !r.recheckable || now_s() < r.due_s) return false;
    r.rechecked = true;
    const bool probe = !spec->probe.empty();
    const check_result result =
        run_and_record(records_.get(), policy_, probe ? "probe" : "reset",
                       probe ? spec->probe : spec->reset, *spec, entry, id, alloc_id);
    if (!result.passed) {
      r.why += "; checked again: " + result.summary;
      return false;
    }
    refused_.erase(id);
    note = std::string(probe ? "probe" : "reset") + " passed in " + seconds_text(result.took, 2) +
           ", ending its automatic quarantine";
    return true;
  }
  if (!spec || spec->probe.empty()) return true;
  const check_result result =
      run_and_record(records_.get(), policy_, "probe", spec->probe, *spec, entry, id, alloc_id);
  if (result.passed) {
    note = "probe passed in " + seconds_text(result.took, 2);
    return true;
  }
  refusal& r = refused_[id];
  r.why = "probe " + result.summary;
  if (records_) {
    const health_record now = parse_health_record(records_->read(id));
    r.quarantined = now.quarantined;
    r.why = now.quarantined
                ? health_text(now, policy_.quarantine_after)
                : "probe " + result.summary + ", failing " + std::to_string(now.failures) + " of " +
                      std::to_string(policy_.quarantine_after);
  }
  r.rechecked = true;  // just probed: not again in this call
  return false;
}

std::vector<std::string> health_gate::excluded() const {
  std::vector<std::string> out;
  for (const auto& [id, r] : refused_) {
    if (recheck_now_.count(id) == 0) out.push_back(id);
  }
  return out;
}

void health_gate::refresh() {
  if (!records_) return;
  for (auto it = refused_.begin(); it != refused_.end();) {
    if (it->second.quarantined && !parse_health_record(records_->read(it->first)).quarantined) {
      it = refused_.erase(it);
    } else {
      ++it;
    }
  }
}

bool health_gate::allow_rechecks() {
  bool any = false;
  const double now = now_s();
  for (auto& [id, r] : refused_) {
    if (r.quarantined && r.recheckable && !r.rechecked && now >= r.due_s) {
      // One chance per call: a recheck that meets the resource busy (a py-lockable job may hold
      // it) must not turn the wait into a loop of passes.
      r.rechecked = true;
      recheck_now_.insert(id);
      any = true;
    }
  }
  return any;
}

std::string health_gate::report() const {
  std::string quarantined, failed;
  std::size_t count = 0;
  for (const auto& [id, r] : refused_) {
    std::string& list = r.quarantined ? quarantined : failed;
    list += (list.empty() ? "" : ", ") + id + " (" + r.why + ")";
    if (r.quarantined) ++count;
  }
  std::string out;
  if (count > 0) {
    out = std::to_string(count) +
          (count == 1 ? " matching resource is quarantined: "
                      : " matching resources are quarantined: ") +
          quarantined;
  }
  if (!failed.empty()) out += (out.empty() ? "" : "; ") + std::string("probe failed: ") + failed;
  return out;
}

}  // namespace gtest_lockable::detail

namespace gtest_lockable::internal {

std::string health_field_problem(const nlohmann::json& entry) {
  try {
    detail::health_spec_of(entry, entry.is_object() && entry.contains("id")
                                      ? resource_id_text(entry)
                                      : std::string("?"));
  } catch (const error& e) {
    return e.what();
  }
  return {};
}

}  // namespace gtest_lockable::internal
