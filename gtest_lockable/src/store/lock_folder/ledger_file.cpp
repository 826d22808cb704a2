// The lock folder's ledger file. Concurrent writers append with O_APPEND, each record in one
// write(2), so records never interleave. Rotation renames the file aside; to keep a writer from
// appending to a file that a second rotation is about to unlink, every writer holds a shared
// flock on the file while it writes and checks, once it has it, that the name still means that
// file; a rotator renames only under an exclusive flock that it gets without waiting (else it
// leaves the rotation to the next writer). The folder is `.lockable-ledger` rather than the lock
// folder itself: the lock folder's waiters watch it with inotify, and every close of the ledger
// would wake them.
#include "src/store/lock_folder/ledger_file.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include "gtest_lockable/error.hpp"
#include "src/util/fd_guard.hpp"

namespace gtest_lockable::detail {
namespace {

constexpr const char* current_name = "ledger.jsonl";
constexpr const char* previous_name = "ledger.1.jsonl";


class ledger_file final : public ledger_log {
 public:
  ledger_file(std::string folder, std::uint64_t max_size)
      : folder_(std::move(folder)),
        path_(folder_ + "/.lockable-ledger"),
        // Two files of half the size each: the one written and the one before it.
        rotate_at_(max_size / 2 < 4096 ? 4096 : max_size / 2) {}

  ~ledger_file() override {
    if (dir_fd_ >= 0) ::close(dir_fd_);
  }

  void append(const std::string& line) override {
    std::lock_guard<std::mutex> guard(mutex_);
    for (int attempt = 0; attempt < 200; ++attempt) {
      open_folder(true);
      fd_guard fd(::openat(
          dir_fd_, current_name,
          O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0644));
      if (fd.get() < 0) {
        if (errno == ENOENT) {  // the folder was removed under us
          ::close(dir_fd_);
          dir_fd_ = -1;
          continue;
        }
        fail("cannot open", errno);
      }
      if (::flock(fd.get(), LOCK_SH | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) fail("cannot flock", errno);
        ::sched_yield();  // a rotation is renaming it: the name will mean a new file
        continue;
      }
      struct stat held {
      }, named{};
      if (::fstat(fd.get(), &held) != 0) fail("cannot stat", errno);
      if (!S_ISREG(held.st_mode)) fail("cannot use", EINVAL, "is not a regular file");
      if (::fstatat(dir_fd_, current_name, &named, AT_SYMLINK_NOFOLLOW) != 0 ||
          named.st_ino != held.st_ino || named.st_dev != held.st_dev) {
        continue;  // rotated between our open and our flock
      }
      if (held.st_size == 0 && held.st_uid == ::geteuid() && (held.st_mode & 0777) != file_mode_) {
        (void)!::fchmod(fd.get(), file_mode_);
      }
      // A record torn by a crash or a full disk leaves no newline: end that line first, so that
      // this record is not glued to it (two writers may both do so: an empty line is harmless).
      std::string text;
      const std::string* out = &line;
      char last = '\n';
      if (held.st_size > 0 && ::pread(fd.get(), &last, 1, held.st_size - 1) == 1 && last != '\n') {
        text = "\n" + line;
        out = &text;
      }
      const ssize_t n = ::write(fd.get(), out->data(), out->size());
      if (n != static_cast<ssize_t>(out->size())) fail("cannot write", n < 0 ? errno : ENOSPC);
      if (static_cast<std::uint64_t>(held.st_size) + out->size() >= rotate_at_) rotate(fd.get());
      return;
    }
    fail("cannot write", EAGAIN, "keeps being replaced");
  }

  void read(const std::function<void(std::string_view)>& part,
            std::vector<std::string>& problems) override {
    std::lock_guard<std::mutex> guard(mutex_);
    try {
      if (!open_folder(false)) return;
    } catch (const error& e) {
      problems.push_back(e.what());
      return;
    }
    // Both files are opened under a shared flock of the current one, so that no rotation comes
    // between the two opens: the pair is one consistent view.
    for (int attempt = 0; attempt < 200; ++attempt) {
      fd_guard current(::openat(dir_fd_, current_name,
                                O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
      if (current.get() < 0 && errno != ENOENT) {
        problems.push_back(where(current_name) + ": cannot open: " + reason(errno));
        return;
      }
      if (current.get() >= 0) {
        if (::flock(current.get(), LOCK_SH | LOCK_NB) != 0) {
          ::sched_yield();
          continue;
        }
        struct stat held {
        }, named{};
        if (::fstat(current.get(), &held) != 0 || !S_ISREG(held.st_mode)) {
          problems.push_back(where(current_name) + ": is not a regular file");
          return;
        }
        if (::fstatat(dir_fd_, current_name, &named, AT_SYMLINK_NOFOLLOW) != 0 ||
            named.st_ino != held.st_ino) {
          continue;
        }
      }
      fd_guard previous(::openat(dir_fd_, previous_name,
                                 O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
      if (previous.get() < 0 && errno != ENOENT) {
        problems.push_back(where(previous_name) + ": cannot open: " + reason(errno));
      }
      if (current.get() >= 0) ::flock(current.get(), LOCK_UN);
      read_part(previous.get(), previous_name, part, problems);
      read_part(current.get(), current_name, part, problems);
      return;
    }
    problems.push_back(where(current_name) + ": keeps being replaced");
  }

  std::string describe() const override { return "ledger '" + path_ + "/" + current_name + "'"; }

 private:
  std::string where(const char* name) const { return "ledger '" + path_ + "/" + name + "'"; }

  static std::string reason(int err) {
    return err == ELOOP ? std::string("is a symbolic link") : std::strerror(err);
  }

  [[noreturn]] void fail(const std::string& what, int err, const std::string& why = {}) const {
    throw error(errc::lock_store,
                where(current_name) + ": " + what + ": " + (why.empty() ? reason(err) : why));
  }

  // Opens (and with `create`, makes) the ledger's folder. False when it does not exist and
  // `create` is not set.
  bool open_folder(bool create) {
    if (dir_fd_ >= 0) return true;
    struct stat lock_folder {};
    if (::stat(folder_.c_str(), &lock_folder) != 0) {
      if (!create) return false;
      throw error(errc::lock_store,
                  "ledger '" + path_ + "': cannot use the lock folder: " + std::strerror(errno));
    }
    const mode_t folder_mode = lock_folder.st_mode & 07777;
    // Whoever may lock in the folder may record: a group's folder makes a group's ledger, a
    // world-writable one (/tmp) a world-writable one.
    file_mode_ = (folder_mode & S_IWOTH) ? 0666 : (folder_mode & S_IWGRP) ? 0664 : 0644;
    bool created = false;
    if (create) {
      created = ::mkdir(path_.c_str(), 0700) == 0;
      if (!created && errno != EEXIST) {
        throw error(errc::lock_store,
                    "ledger '" + path_ + "': cannot create: " + std::strerror(errno));
      }
    }
    // O_NOFOLLOW: in a world-writable lock folder the name may be someone else's symbolic link.
    const int fd = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT && !create) return false;
      const int err = errno;
      throw error(errc::lock_store,
                  "ledger '" + path_ + "': cannot open: " +
                      (err == ELOOP || err == ENOTDIR ? std::string("is not a folder")
                                                      : std::strerror(err)));
    }
    if (created) (void)!::fchmod(fd, folder_mode);
    dir_fd_ = fd;
    return true;
  }

  // Renames the full file aside, unless a writer is busy with it (it then rotates after its
  // write) or another rotation was first.
  void rotate(int fd) {
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) return;
    struct stat held {
    }, named{};
    if (::fstat(fd, &held) == 0 &&
        ::fstatat(dir_fd_, current_name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
        named.st_ino == held.st_ino && named.st_dev == held.st_dev) {
      ::renameat(dir_fd_, current_name, dir_fd_, previous_name);
    }
    ::flock(fd, LOCK_UN);
  }

  // Maps the file rather than copying it: a large ledger is read without as much fresh memory
  // (which costs more than the read itself on a VM), and nothing truncates a ledger file.
  void read_part(int fd, const char* name, const std::function<void(std::string_view)>& part,
                 std::vector<std::string>& problems) const {
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      problems.push_back(where(name) + ": is not a regular file");
      return;
    }
    if (st.st_size == 0) return;
    const auto size = static_cast<std::size_t>(st.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (map == MAP_FAILED) {
      problems.push_back(where(name) + ": cannot read: " + std::strerror(errno));
      return;
    }
    try {
      part(std::string_view(static_cast<const char*>(map), size));
    } catch (...) {
      ::munmap(map, size);
      throw;
    }
    ::munmap(map, size);
  }

  std::string folder_;
  std::string path_;
  std::uint64_t rotate_at_;
  std::mutex mutex_;
  int dir_fd_ = -1;
  mode_t file_mode_ = 0644;
};

}  // namespace

std::string folder_ledger_file(const std::string& folder) {
  return folder + "/.lockable-ledger/" + current_name;
}

std::shared_ptr<ledger_log> folder_ledger(const std::string& folder, std::uint64_t max_size) {
  return std::make_shared<ledger_file>(folder, max_size);
}

}  // namespace gtest_lockable::detail
