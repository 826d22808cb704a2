// Health records beside the lock files. Every lock reads its resource's record, so a resource
// without one costs a single failed open. A record is changed under an flock of its file and
// read under a shared one, so a reader never sees half of it; a record that is removed is
// unlinked while locked, and a writer that locked a file that was unlinked meanwhile tries again
// (the lock files' protocol, see docs/design.md).
#include "src/store/lock_folder/health_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gtest_lockable/error.hpp"
#include "src/util/fd_guard.hpp"

namespace gtest_lockable::detail {
namespace {

constexpr std::size_t max_record = 64 * 1024;


std::string read_all(int fd) {
  std::string text;
  char buffer[4096];
  off_t at = 0;
  while (text.size() < max_record) {
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    at += n;
  }
  return text;
}

class folder_health final : public health_records {
 public:
  explicit folder_health(std::string folder)
      : folder_(folder.empty() ? "." : std::move(folder)), dir_(folder_ + "/.lockable-health") {}

  std::string read(const std::string& id) override {
    const std::string path = dir_ + "/" + id;
    fd_guard fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return {};
      fail("cannot read '" + path + "'", errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      fail("cannot read '" + path + "'", EINVAL);
    }
    while (::flock(fd.get(), LOCK_SH) != 0) {
      if (errno != EINTR) fail("cannot flock '" + path + "'", errno);
    }
    return read_all(fd.get());
  }

  std::string update(const std::string& id,
                     const std::function<std::string(const std::string&)>& change) override {
    ensure_dir();
    const std::string path = dir_ + "/" + id;
    for (int attempt = 0; attempt < 8; ++attempt) {
      fd_guard fd(
          ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, file_mode_));
      if (fd.get() < 0) fail("cannot open '" + path + "'", errno);
      while (::flock(fd.get(), LOCK_EX) != 0) {
        if (errno != EINTR) fail("cannot flock '" + path + "'", errno);
      }
      struct stat held {
      }, named{};
      if (::fstat(fd.get(), &held) != 0 || !S_ISREG(held.st_mode)) {
        fail("cannot use '" + path + "'", EINVAL);
      }
      if (::lstat(path.c_str(), &named) != 0 || named.st_ino != held.st_ino ||
          named.st_dev != held.st_dev) {
        continue;  // removed between our open and our flock
      }
      const std::string now = change(read_all(fd.get()));
      if (now.empty()) {
        // Another user's record in a sticky folder cannot be unlinked: emptied, it reads as none.
        if (::unlink(path.c_str()) != 0 && ::ftruncate(fd.get(), 0) != 0) {
          fail("cannot remove '" + path + "'", errno);
        }
        return now;
      }
      if (::ftruncate(fd.get(), 0) != 0 ||
          ::pwrite(fd.get(), now.data(), now.size(), 0) != static_cast<ssize_t>(now.size())) {
        fail("cannot write '" + path + "'", errno);
      }
      return now;
    }
    fail("cannot update '" + path + "'", EAGAIN);
  }

 private:
  [[noreturn]] void fail(const std::string& what, int err) const {
    throw error(errc::lock_store, "health records of lock folder '" + folder_ + "': " + what +
                                      ": " + std::strerror(err));
  }

  // Whoever may lock in the folder may record: the subfolder and its files get the folder's
  // permissions, as the ledger's do.
  void ensure_dir() {
    struct stat lock_folder {};
    if (::stat(folder_.c_str(), &lock_folder) != 0) {
      if (::mkdir(folder_.c_str(), 0777) != 0 && errno != EEXIST) {
        fail("cannot create the lock folder", errno);
      }
      if (::stat(folder_.c_str(), &lock_folder) != 0) fail("cannot use the lock folder", errno);
    }
    const mode_t folder_mode = lock_folder.st_mode & 07777;
    file_mode_ = (folder_mode & S_IWOTH) ? 0666 : (folder_mode & S_IWGRP) ? 0664 : 0644;
    if (::mkdir(dir_.c_str(), 0700) == 0) {
      (void)!::chmod(dir_.c_str(), folder_mode);
    } else if (errno != EEXIST) {
      fail("cannot create '" + dir_ + "'", errno);
    }
    struct stat st {};
    if (::lstat(dir_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      fail("cannot use '" + dir_ + "'", ENOTDIR);
    }
  }

  std::string folder_;
  std::string dir_;
  mode_t file_mode_ = 0644;
};

}  // namespace

std::shared_ptr<health_records> folder_health_records(const std::string& folder) {
  return std::make_shared<folder_health>(folder);
}

}  // namespace gtest_lockable::detail
