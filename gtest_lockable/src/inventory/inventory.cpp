#include "gtest_lockable/inventory.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/http_inventory.hpp"
#include "src/inventory/scan.hpp"

namespace gtest_lockable {
namespace {

using nlohmann::json;

// The largest inventory file read. A file system can present a file of any size (a sparse file,
// a device); reading one of many GiB would exhaust memory long before its parse fails.
constexpr std::uint64_t max_file_bytes = 256ULL << 20;

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
// inventory parses only the entries that can match (see scan.hpp).
class file_provider final : public inventory_provider {
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

  inventory_selection select(const std::vector<const query*>& queries) override {
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

std::unique_ptr<inventory_provider> memory_inventory(json entries) {
  return std::make_unique<memory_provider>(std::move(entries));
}

std::unique_ptr<inventory_provider> file_inventory(std::string path) {
  return std::make_unique<file_provider>(std::move(path));
}

std::unique_ptr<inventory_provider> open_inventory(const std::string& source) {
  if (source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0) {
    return http_inventory(source, http_options_from_env());
  }
  return file_inventory(source);
}

}  // namespace gtest_lockable
