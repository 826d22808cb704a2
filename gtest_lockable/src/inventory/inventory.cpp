#include "gtest_lockable/inventory.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "gtest_lockable/error.hpp"
#include "src/inventory/detail.hpp"
#include "src/inventory/scan.hpp"
#include "src/util/json.hpp"

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

// Re-reads the file when its size, modification time or inode changes. `load` keeps a parsed
// document; `select` (lock calls) keeps the text and an index of it, so a lock call on a large
// inventory parses only the entries that can match (see inventory_scan.hpp).
class file_provider final : public inventory_provider, public detail::selective_inventory {
 public:
  explicit file_provider(std::string path) : path_(std::move(path)) {}

  std::shared_ptr<const inventory> load() override {
    std::lock_guard<std::mutex> guard(mutex_);
    const file_version version = current_version();
    if (!cached_ || !(version == version_)) {
      cached_ = std::make_shared<const inventory>(parse_inventory(read_text(), path_));
      version_ = version;
    }
    return cached_;
  }

  detail::inventory_selection select(const std::vector<const query*>& queries) override {
    std::shared_ptr<const detail::inventory_index> index;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      const file_version version = current_version();
      if (!index_ || !(version == index_version_)) {
        index_ = std::make_shared<const detail::inventory_index>(
            detail::index_inventory(read_text(), path_));
        index_version_ = version;
      }
      index = index_;
    }
    return {index->size(), detail::select_entries(*index, queries)};
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

  file_version current_version() const {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) unreadable(errno);
    return {st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
  }

  std::string read_text() const {
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) unreadable(errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw error(errc::invalid_inventory,
                  "cannot read inventory " + single_quoted(path_) + ": not a regular file");
    }
    if (static_cast<std::uint64_t>(st.st_size) > max_file_bytes) {
      ::close(fd);
      too_big();
    }
    // Sized from fstat, grown only if the file grew meanwhile: no copy of a large file.
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (true) {
      char more[4096];
      const bool full = got == text.size();
      const ssize_t n =
          full ? ::read(fd, more, sizeof more) : ::read(fd, text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        ::close(fd);
        unreadable(err);
      }
      if (n == 0) break;
      if (got + static_cast<std::size_t>(n) > max_file_bytes) {  // it grew while we read it
        ::close(fd);
        too_big();
      }
      if (full) {
        text.append(more, static_cast<std::size_t>(n));
        text.resize(text.size() + text.size() / 2);
      }
      got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text.resize(got);
    return text;
  }

  [[noreturn]] void unreadable(int err) const {
    throw error(errc::invalid_inventory,
                "cannot read inventory " + single_quoted(path_) + ": " + std::strerror(err),
                setting::resources);
  }

  std::string path_;
  std::mutex mutex_;
  std::shared_ptr<const inventory> cached_;
  file_version version_{};
  std::shared_ptr<const detail::inventory_index> index_;
  file_version index_version_{};
};

}  // namespace

std::string resource_id_text(const json& resource) {
  const auto it = resource.find("id");
  if (it == resource.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();
  return {};
}

std::string detail::entry_problem(std::size_t index, const json& entry) {
  const std::string where = "entry " + std::to_string(index);
  if (!entry.is_object()) return where + " is " + entry.type_name() + ", not an object";
  if (nests_deeper_than(entry, max_entry_depth)) {
    return where + " nests objects and arrays more than " + std::to_string(max_entry_depth) +
           " levels deep";
  }
  const auto id = entry.find("id");
  if (id == entry.end()) return where + " has no 'id'";
  if (!id->is_string() && !id->is_number_integer()) {
    return where + " has an id that is " +
           (id->is_number() ? std::string("a fraction") : id->type_name()) +
           " (ids are strings or integers)";
  }
  if (const std::string why = unsafe_id_reason(resource_id_text(entry)); !why.empty()) {
    return where + " has id " + json_excerpt(*id) + ", which " + why + " (ids name lock files)";
  }
  return {};
}

std::string detail::duplicate_ids_problem(
    std::vector<std::pair<std::string_view, std::size_t>> ids) {
  std::sort(ids.begin(), ids.end());
  std::string repeats;
  for (std::size_t i = 0; i < ids.size();) {
    std::size_t j = i + 1;
    while (j < ids.size() && ids[j].first == ids[i].first) ++j;
    if (j - i > 1) {
      repeats +=
          (repeats.empty() ? "" : ", ") + single_quoted(std::string(ids[i].first)) + " (entries";
      for (std::size_t k = i; k < j; ++k) repeats += " " + std::to_string(ids[k].second);
      repeats += ")";
    }
    i = j;
  }
  return repeats.empty() ? std::string() : "duplicate ids: " + repeats;
}

std::string detail::unsafe_id_reason(std::string_view id) {
  if (id.empty()) return "is empty";
  if (id == "." || id == "..") return "is '" + std::string(id) + "'";
  if (id.find('/') != std::string_view::npos) return "contains '/'";
  if (id.find('\0') != std::string_view::npos) return "contains a NUL character";
  if (id.size() > max_id_length) {
    return "is longer than " + std::to_string(max_id_length) + " bytes";
  }
  return {};
}

void detail::throw_if_problems(const std::string& origin,
                               const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  std::string message = "invalid inventory " + single_quoted(origin) + ": ";
  for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
  throw error(errc::invalid_inventory, message);
}

std::vector<std::string> detail::inventory_problems(const json& entries) {
  std::vector<std::string> problems;
  if (!entries.is_array()) {
    problems.push_back("must be a JSON array of resources, got " +
                       std::string(entries.type_name()));
    return problems;
  }
  std::vector<std::string> texts(entries.size());
  std::vector<std::pair<std::string_view, std::size_t>> ids;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (std::string problem = entry_problem(i, entries[i]); !problem.empty()) {
      problems.push_back(std::move(problem));
      continue;
    }
    texts[i] = resource_id_text(entries[i]);
    ids.emplace_back(texts[i], i);
  }
  if (std::string repeats = duplicate_ids_problem(std::move(ids)); !repeats.empty()) {
    problems.push_back(std::move(repeats));
  }
  return problems;
}

inventory make_inventory(json entries, std::string origin) {
  detail::throw_if_problems(origin, detail::inventory_problems(entries));
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
    throw error(errc::invalid_inventory,
                "invalid inventory " + single_quoted(origin) + ": " + json_error_reason(e));
  }
}

inventory parse_inventory(const std::string& text, std::string origin) {
  json entries = detail::parse_inventory_json(text, origin);
  return make_inventory(std::move(entries), std::move(origin));
}

detail::inventory_selection detail::select_resources(inventory_provider& provider,
                                                     const std::vector<const query*>& queries) {
  if (auto* selective = dynamic_cast<selective_inventory*>(&provider)) {
    return selective->select(queries);
  }
  const auto inv = provider.load();
  return {inv->resources.size(), matching(inv->resources, queries)};
}

bool detail::matches_any(const json& resource, const std::vector<const query*>& queries) {
  return std::any_of(queries.begin(), queries.end(),
                     [&](const query* q) { return q->matches(resource); });
}

std::vector<json> detail::matching(const std::vector<json>& resources,
                                   const std::vector<const query*>& queries) {
  std::vector<json> out;
  for (const auto& resource : resources) {
    if (matches_any(resource, queries)) out.push_back(resource);
  }
  return out;
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
