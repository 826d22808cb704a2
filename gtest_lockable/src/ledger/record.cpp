#include "src/ledger/record.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "gtest_lockable/error.hpp"
#include "src/util/json.hpp"

namespace gtest_lockable::detail {
namespace {

using nlohmann::json;

// Records are read back by many tools, and a failed test's name or a requirement can be long.
constexpr std::size_t max_text = 200;
constexpr std::size_t max_failed_names = 20;
constexpr std::size_t max_requirements = 2000;

std::string cut(std::string text, std::size_t limit = max_text) {
  if (text.size() <= limit) return text;
  std::size_t at = limit;
  while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) --at;
  text.resize(at);
  return text + "...";
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// Seconds since the epoch with microseconds: short, and exact enough for a ledger.
std::string time_text(double t) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6f", t);
  return buffer;
}

std::string user_name(uid_t uid) {
  passwd pw{};
  passwd* found = nullptr;
  char buffer[1024];
  if (::getpwuid_r(uid, &pw, buffer, sizeof buffer, &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return {};
}

// A JSON string's text, quotes included.
std::string quoted(const std::string& text) { return json_text(json(text)); }

}  // namespace

void ledger_writer::write(const std::string& line) noexcept {
  std::string warning;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (broken_) return;
    try {
      log_->append(line);
      return;
    } catch (const std::exception& e) {
      broken_ = true;
      warning = e.what();
    } catch (...) {
      broken_ = true;
      warning = "cannot write the ledger";
    }
  }
  if (!warn_) return;
  try {
    warn_("warning: " + warning +
          "; locking goes on without the ledger (LOCKABLE_LEDGER=off turns it off)");
  } catch (...) {
  }
}

std::string ci_job() {
  const auto joined = [](std::initializer_list<const char*> names) {
    std::string out;
    for (const char* name : names) {
      const std::string value = env(name);
      if (value.empty()) continue;
      out += (out.empty() ? "" : "/") + value;
    }
    return out;
  };
  std::string job;
  if (!env("GITHUB_RUN_ID").empty()) {
    job = "github:" + joined({"GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_JOB"});
  } else if (!env("GITLAB_CI").empty() && !env("CI_JOB_ID").empty()) {
    job = "gitlab:" + joined({"CI_PIPELINE_ID", "CI_JOB_ID"});
  } else if (!env("BUILDKITE_JOB_ID").empty()) {
    job = "buildkite:" + joined({"BUILDKITE_BUILD_NUMBER", "BUILDKITE_JOB_ID"});
  } else if (!env("JENKINS_URL").empty() && !env("BUILD_TAG").empty()) {
    job = "jenkins:" + env("BUILD_TAG");
  } else if (!env("CIRCLE_WORKFLOW_JOB_ID").empty()) {
    job = "circleci:" + env("CIRCLE_WORKFLOW_JOB_ID");
  } else if (!env("TF_BUILD").empty() && !env("BUILD_BUILDID").empty()) {
    job = "azure:" + joined({"BUILD_BUILDID", "SYSTEM_JOBID"});
  }
  return cut(job);
}

std::string start_record(const start_fields& f) {
  const uid_t uid = ::getuid();
  std::string line = "{\"v\":1,\"ev\":\"start\",\"alloc_id\":" + quoted(f.alloc_id) +
                     ",\"resource\":" + quoted(f.resource) + ",\"host\":" + quoted(cut(f.host)) +
                     ",\"pid\":" + std::to_string(f.pid) + ",\"uid\":" + std::to_string(uid);
  const std::string user = user_name(uid);
  if (!user.empty()) line += ",\"user\":" + quoted(cut(user));
  const std::string job = ci_job();
  if (!job.empty()) line += ",\"job\":" + quoted(job);
  if (f.requirements.size() <= max_requirements) {
    line += ",\"requirements\":" + f.requirements;
  } else {
    line += ",\"requirements\":" + quoted(cut(f.requirements, max_requirements));
  }
  line += ",\"queued\":" + time_text(f.queued) + ",\"started\":" + time_text(f.started) + "}\n";
  return line;
}

namespace {

std::string end_head(const std::string& alloc_id, const std::string& resource) {
  return "{\"v\":1,\"ev\":\"end\",\"alloc_id\":" + quoted(alloc_id) +
         ",\"resource\":" + quoted(resource) + ",\"ended\":";
}

// The outcome's members and the end of the line.
std::string end_tail(const outcome& r) {
  std::string line;
  if (r.exit_status) line += ",\"exit\":" + std::to_string(*r.exit_status);
  if (r.signal) line += ",\"signal\":" + std::to_string(*r.signal);
  if (r.passed) line += ",\"passed\":" + std::to_string(*r.passed);
  if (r.failed) line += ",\"failed\":" + std::to_string(*r.failed);
  if (r.skipped) line += ",\"skipped\":" + std::to_string(*r.skipped);
  if (!r.failed_tests.empty()) {
    json names = json::array();
    for (std::size_t i = 0; i < r.failed_tests.size() && i < max_failed_names; ++i) {
      names.push_back(cut(r.failed_tests[i]));
    }
    line += ",\"failed_tests\":" + json_text(names);
  }
  return line + "}\n";
}

}  // namespace

std::string end_record(const ledger_entry& e, double ended, double hold, bool lost) {
  std::string line = end_head(e.alloc_id, e.resource) + time_text(ended) + ",\"hold\":" +
                     time_text(hold);
  if (lost) line += ",\"lost\":true";
  return line + end_tail(e.result);
}

void hold_end_parts(const ledger_entry& e, std::string& head, std::string& tail) {
  head = end_head(e.alloc_id, e.resource);
  tail = ",\"as_hold\":true" + end_tail(e.result);
}

std::string hold_end_record(const std::string& head, const std::string& tail, double ended,
                            double hold, const std::string& extra) {
  return head + time_text(ended) + ",\"hold\":" + time_text(hold) + extra + tail;
}

std::string released_hold_record(const std::string& alloc_id, const std::string& resource,
                                 double ended, const std::string& by, bool forced) {
  return end_head(alloc_id, resource) + time_text(ended) + ",\"as_hold\":true,\"released_by\":" +
         quoted(cut(by)) + (forced ? ",\"forced\":true}\n" : "}\n");
}

namespace {

// The scanner below reads what the writer above writes, and refuses anything else that is not
// JSON: a reader must never take garbage for a record.
struct scanner {
  std::string_view s;
  std::size_t i = 0;

  void space() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
  }
  bool string(std::string_view& out, bool& escaped) {
    if (i >= s.size() || s[i] != '"') return false;
    const std::size_t begin = ++i;
    escaped = false;
    while (i < s.size()) {
      // The closing quote, found with memchr; a backslash before it means escapes to step over.
      const void* quote = std::memchr(s.data() + i, '"', s.size() - i);
      if (quote == nullptr) return false;
      const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(quote) - s.data());
      const void* slash = std::memchr(s.data() + i, '\\', end - i);
      if (slash == nullptr) {
        i = end + 1;
        out = s.substr(begin, end - begin);
        return true;
      }
      escaped = true;
      i = static_cast<std::size_t>(static_cast<const char*>(slash) - s.data()) + 2;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (s.substr(i, word.size()) != word) return false;
    i += word.size();
    return true;
  }
  bool number() {
    const std::size_t begin = i;
    if (i < s.size() && s[i] == '-') ++i;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' ||
                            s[i] == 'E' || s[i] == '+' || s[i] == '-')) {
      ++i;
    }
    return i > begin && (s[i - 1] >= '0' && s[i - 1] <= '9');
  }
  // A nested object or array, skipped with its strings; checked again by nlohmann when used.
  bool nested() {
    struct {
      char items[66];
      std::size_t n = 0;
      bool empty() const { return n == 0; }
      std::size_t size() const { return n; }
      char back() const { return items[n - 1]; }
      void push_back(char c) { items[n++] = c; }
      void pop_back() { --n; }
    } open;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"') {
        std::string_view ignored;
        bool escaped = false;
        if (!string(ignored, escaped)) return false;
        continue;
      }
      if (c == '{' || c == '[') {
        if (open.size() > 64) return false;
        open.push_back(c == '{' ? '}' : ']');
      } else if (c == '}' || c == ']') {
        if (open.empty() || open.back() != c) return false;
        open.pop_back();
        if (open.empty()) {
          ++i;
          return true;
        }
      }
      ++i;
    }
    return false;
  }
  bool value(scanned_value& v) {
    if (i >= s.size()) return false;
    const std::size_t begin = i;
    const char c = s[i];
    bool ok = false;
    if (c == '"') {
      v.kind = scanned_value::string;
      if (!string(v.raw, v.escaped)) return false;
      return true;
    }
    if (c == '{' || c == '[') {
      v.kind = scanned_value::nested;
      ok = nested();
    } else if (c == 't' || c == 'f') {
      v.kind = scanned_value::boolean;
      ok = literal(c == 't' ? "true" : "false");
    } else if (c == 'n') {
      v.kind = scanned_value::null;
      ok = literal("null");
    } else {
      v.kind = scanned_value::number;
      ok = number();
    }
    v.raw = s.substr(begin, i - begin);
    return ok;
  }
};

}  // namespace

bool scan_object(std::string_view line,
                 std::vector<std::pair<std::string_view, scanned_value>>& members) {
  members.clear();
  scanner sc{line};
  sc.space();
  if (sc.i >= line.size() || line[sc.i] != '{') return false;
  ++sc.i;
  sc.space();
  if (sc.i < line.size() && line[sc.i] == '}') {
    ++sc.i;
  } else {
    while (true) {
      sc.space();
      std::string_view key;
      bool escaped = false;
      if (!sc.string(key, escaped) || escaped) return false;
      sc.space();
      if (sc.i >= line.size() || line[sc.i] != ':') return false;
      ++sc.i;
      sc.space();
      scanned_value v;
      if (!sc.value(v)) return false;
      members.emplace_back(key, v);
      sc.space();
      if (sc.i < line.size() && line[sc.i] == ',') {
        ++sc.i;
        continue;
      }
      if (sc.i < line.size() && line[sc.i] == '}') {
        ++sc.i;
        break;
      }
      return false;
    }
  }
  sc.space();
  return sc.i == line.size();
}

std::string string_of(const scanned_value& v) {
  if (!v.escaped) return std::string(v.raw);
  const std::string text = "\"" + std::string(v.raw) + "\"";
  const json parsed = json::parse(text, nullptr, false);
  return parsed.is_string() ? parsed.get<std::string>() : std::string();
}

}  // namespace gtest_lockable::detail
