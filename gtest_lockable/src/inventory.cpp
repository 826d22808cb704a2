#include "gtest_lockable/inventory.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>

#include "gtest_lockable/error.hpp"
#include "src/inventory_detail.hpp"
#include "src/json_util.hpp"

namespace gtest_lockable {
namespace {

using nlohmann::json;

// "<id>.pid" must fit in one path component.
constexpr std::size_t max_id_length = NAME_MAX - 4;

// The largest inventory file read. A file system can present a file of any size (a sparse file,
// a device); reading one of many GiB would exhaust memory long before its parse fails.
constexpr std::uint64_t max_file_bytes = 256ULL << 20;

// Levels of objects and arrays in an entry (the entry itself is level 1). Deeper data would
// overflow the stack when an entry is copied, compared or printed, and no lab needs it.
constexpr int max_entry_depth = 100;

std::string single_quoted(const std::string& s) { return "'" + s + "'"; }

// Why `id` cannot be a lock file name, or empty if it can.
std::string unsafe_id_reason(const std::string& id) {
  if (id.empty()) return "is empty";
  if (id == "." || id == "..") return "is '" + id + "'";
  if (id.find('/') != std::string::npos) return "contains '/'";
  if (id.find('\0') != std::string::npos) return "contains a NUL character";
  if (id.size() > max_id_length) {
    return "is longer than " + std::to_string(max_id_length) + " bytes";
  }
  return {};
}

class memory_provider final : public inventory_provider {
 public:
  explicit memory_provider(json entries)
      : inventory_(
            std::make_shared<const inventory>(make_inventory(std::move(entries), "<memory>"))) {}
  std::shared_ptr<const inventory> load() override { return inventory_; }
  std::string describe() const override { return "in-memory inventory"; }

 private:
  std::shared_ptr<const inventory> inventory_;
};

class file_provider final : public inventory_provider {
 public:
  explicit file_provider(std::string path) : path_(std::move(path)) {}

  std::shared_ptr<const inventory> load() override {
    std::lock_guard<std::mutex> guard(mutex_);
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) unreadable(errno);
    const file_version version{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec,
                               st.st_mtim.tv_nsec};
    if (cached_ && version == version_) return cached_;
    std::string text;
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) unreadable(errno);
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw error(errc::invalid_inventory,
                  "cannot read inventory " + single_quoted(path_) + ": not a regular file");
    }
    if (static_cast<std::uint64_t>(st.st_size) > max_file_bytes) {
      ::close(fd);
      too_big();
    }
    text.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (true) {
      if (got > max_file_bytes) {  // it grew while we read it
        ::close(fd);
        too_big();
      }
      if (got == text.size()) text.resize(text.size() + 4096 + text.size() / 2);
      const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        ::close(fd);
        unreadable(err);
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text.resize(got);
    cached_ = std::make_shared<const inventory>(parse_inventory(text, path_));
    version_ = version;
    return cached_;
  }

  std::string describe() const override { return "inventory " + single_quoted(path_); }

 private:
  struct file_version {
    dev_t dev;
    ino_t ino;
    off_t size;
    time_t sec;
    long nsec;
    bool operator==(const file_version& o) const {
      return dev == o.dev && ino == o.ino && size == o.size && sec == o.sec && nsec == o.nsec;
    }
  };

  [[noreturn]] void too_big() const {
    throw error(errc::invalid_inventory, "cannot read inventory " + single_quoted(path_) +
                                             ": larger than " +
                                             std::to_string(max_file_bytes >> 20) + " MiB");
  }

  [[noreturn]] void unreadable(int err) const {
    throw error(errc::invalid_inventory, "cannot read inventory " + single_quoted(path_) + ": " +
                                             std::strerror(err) +
                                             " (give the inventory file with --resources)");
  }

  std::string path_;
  std::mutex mutex_;
  std::shared_ptr<const inventory> cached_;
  file_version version_{};
};

}  // namespace

std::string resource_id_text(const json& resource) {
  const auto it = resource.find("id");
  if (it == resource.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();
  return {};
}

std::vector<std::string> detail::inventory_problems(const json& entries) {
  std::vector<std::string> problems;
  if (!entries.is_array()) {
    problems.push_back("must be a JSON array of resources, got " +
                       std::string(entries.type_name()));
    return problems;
  }
  std::map<std::string, std::vector<std::size_t>> seen;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const json& entry = entries[i];
    const std::string where = "entry " + std::to_string(i);
    if (!entry.is_object()) {
      problems.push_back(where + " is " + entry.type_name() + ", not an object");
      continue;
    }
    if (detail::nests_deeper_than(entry, max_entry_depth)) {
      problems.push_back(where + " nests objects and arrays more than " +
                         std::to_string(max_entry_depth) + " levels deep");
      continue;
    }
    const auto id = entry.find("id");
    if (id == entry.end()) {
      problems.push_back(where + " has no 'id'");
      continue;
    }
    if (!id->is_string() && !id->is_number_integer()) {
      problems.push_back(where + " has an id that is " +
                         (id->is_number() ? std::string("a fraction") : id->type_name()) +
                         " (ids are strings or integers)");
      continue;
    }
    const std::string text = resource_id_text(entry);
    if (const std::string why = unsafe_id_reason(text); !why.empty()) {
      problems.push_back(where + " has id " + detail::json_text(*id) + ", which " + why +
                         " (ids name lock files)");
      continue;
    }
    seen[text].push_back(i);
  }
  std::string repeats;
  for (const auto& [id, where] : seen) {
    if (where.size() < 2) continue;
    repeats += (repeats.empty() ? "" : ", ") + single_quoted(id) + " (entries";
    for (const auto i : where) repeats += " " + std::to_string(i);
    repeats += ")";
  }
  if (!repeats.empty()) problems.push_back("duplicate ids: " + repeats);
  return problems;
}

inventory make_inventory(json entries, std::string origin) {
  const auto problems = detail::inventory_problems(entries);
  if (!problems.empty()) {
    std::string message = "invalid inventory " + single_quoted(origin) + ": ";
    for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
    throw error(errc::invalid_inventory, message);
  }
  inventory inv;
  inv.origin = std::move(origin);
  inv.resources.reserve(entries.size());
  for (auto& entry : entries) inv.resources.push_back(std::move(entry));
  return inv;
}

json detail::parse_inventory_json(const std::string& text, const std::string& origin) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for 1e999
    // nlohmann says "[json.exception.parse_error.101] parse error at line 3, column 5: ...".
    std::string what = e.what();
    const auto pos = what.find("] ");
    if (pos != std::string::npos) what.erase(0, pos + 2);
    throw error(errc::invalid_inventory,
                "invalid inventory " + single_quoted(origin) + ": " + what);
  }
}

inventory parse_inventory(const std::string& text, std::string origin) {
  json entries = detail::parse_inventory_json(text, origin);
  return make_inventory(std::move(entries), std::move(origin));
}

std::unique_ptr<inventory_provider> memory_inventory(json entries) {
  return std::make_unique<memory_provider>(std::move(entries));
}

std::unique_ptr<inventory_provider> file_inventory(std::string path) {
  return std::make_unique<file_provider>(std::move(path));
}

std::unique_ptr<inventory_provider> open_inventory(const std::string& source) {
  if (source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0) {
    return detail::http_inventory(source);
  }
  return file_inventory(source);
}

}  // namespace gtest_lockable
