// The lock folder: py-lockable's `<folder>/<id>.pid` protocol (see docs/design.md), with its races
// closed. A lock is an flock(2) on the file; the file's first line is the holder's PID, the second
// a JSON object with the host, allocation id and start time (py-lockable reads only the first).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "gtest_lockable/error.hpp"
#include "gtest_lockable/lock_store.hpp"
#include "src/store/lock_folder/health_file.hpp"
#include "src/store/lock_folder/hold_keeper.hpp"
#include "src/store/lock_folder/ledger_file.hpp"
#include "src/store/lock_folder/queue.hpp"
#include "src/store/lock_folder/watch.hpp"
#include "src/store/hold_release.hpp"
#include "src/util/fd_guard.hpp"
#include "src/util/json.hpp"
#include "src/util/time_format.hpp"

namespace gtest_lockable {
namespace {

using detail::fd_guard;

using clock = std::chrono::steady_clock;

std::string errno_text(int err) { return std::strerror(err); }


// A zombie (killed, not yet reaped by its parent) holds no descriptors and so no lock: dead.
bool is_zombie(long pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  fd_guard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return false;
  char buffer[512];
  const ssize_t n = ::read(fd.get(), buffer, sizeof buffer - 1);
  if (n <= 0) return false;
  buffer[n] = '\0';
  // "pid (comm) S ...": the state follows the last ')' (comm may contain parentheses).
  const char* close = std::strrchr(buffer, ')');
  return close != nullptr && close[1] == ' ' && close[2] == 'Z';
}

bool pid_alive(long pid) {
  if (pid <= 0 || pid > INT32_MAX) return false;
  const bool exists = ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
  return exists && !is_zombie(pid);
}

// What a lock file says about its holder. `pid` is 0 when the file is empty, -1 when its first
// line is not a PID.
holder_info read_holder(int fd) {
  char buffer[4096];
  ssize_t n;
  do {
    n = ::pread(fd, buffer, sizeof buffer - 1, 0);
  } while (n < 0 && errno == EINTR);
  holder_info holder;
  if (n <= 0) return holder;
  const std::string text(buffer, static_cast<std::size_t>(n));
  const auto eol = text.find('\n');
  const std::string first = text.substr(0, eol);
  char* end = nullptr;
  errno = 0;
  const long pid = std::strtol(first.c_str(), &end, 10);
  holder.pid = (first.empty() || *end != '\0' || errno != 0 || pid <= 0) ? -1 : pid;
  if (first.empty()) holder.pid = 0;
  if (eol != std::string::npos) {
    const auto details = nlohmann::json::parse(text.substr(eol + 1), nullptr, false);
    // Anyone who can write the folder can write this line: take only strings from it.
    const auto text_field = [&details](const char* key) {
      const auto it = details.find(key);
      return it != details.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (details.is_object()) {
      holder.host = text_field("host");
      holder.alloc_id = text_field("alloc_id");
      holder.since = text_field("since");
      holder.user = text_field("user");
      holder.hold_until = text_field("hold_until");
      holder.hold_note = text_field("note");
    }
  }
  return holder;
}

class folder_lock final : public lock_handle {
 public:
  folder_lock(int fd, std::string path) : fd_(fd), path_(std::move(path)), owner_(::getpid()) {}
  ~folder_lock() override { release(); }

  // Unlink before close: a waiter that opens the path after the unlink gets a new file, and one
  // that opened the old file sees (after its flock) that the path no longer names it.
  // In a sticky folder another user's file cannot be unlinked: empty it instead, so that it reads
  // as free rather than as held by our (live) PID. A forked child (a fast-style death test, a
  // fork without exec) shares the open file: only the process that took the lock removes the
  // file, the others just close their copy.
  void release() noexcept override {
    if (fd_ < 0) return;
    struct stat held {
    }, named{};
    if (::getpid() == owner_ && ::fstat(fd_, &held) == 0 && ::lstat(path_.c_str(), &named) == 0 &&
        held.st_dev == named.st_dev && held.st_ino == named.st_ino &&
        ::unlink(path_.c_str()) != 0) {
      (void)!::ftruncate(fd_, 0);
    }
    ::close(fd_);
    fd_ = -1;
  }

  int descriptor() const noexcept override { return fd_; }

  /// Closes this process's descriptor without releasing: another process (a hold's keeper)
  /// shares the lock and releases it.
  void detach() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  std::string path_;
  pid_t owner_;
};

class folder_store final : public lock_store {
 public:
  explicit folder_store(std::string folder)
      : folder_(folder.empty() ? "." : std::move(folder)), queue_(folder_), watch_(folder_) {}

  std::vector<std::unique_ptr<lock_handle>> try_lock_all(const std::vector<std::string>& ids,
                                                         const lock_owner& owner,
                                                         std::vector<lock_status>& busy) override {
    ensure_folder();
    // A caller in line leaves a resource to those ahead of it; one that has not waited yet, to
    // every waiter; one that could not join the queue, to nobody.
    std::string mine;
    bool defer = true;
    {
      std::lock_guard<std::mutex> guard(places_mutex_);
      const auto place = places_.find(owner.alloc_id);
      if (place != places_.end()) {
        defer = place->second != nullptr;
        if (defer) mine = place->second->name();
      } else if (owner.queued_at != std::chrono::system_clock::time_point{}) {
        mine = detail::line_key(owner.queued_at);  // those ahead of where it would stand
      }
    }
    std::unique_lock<std::mutex> reading(queue_mutex_, std::defer_lock);
    if (defer) {
      reading.lock();
      queue_.read();
    }
    std::vector<std::unique_ptr<lock_handle>> held;
    held.reserve(ids.size());
    for (const auto& id : ids) {
      lock_status status;
      status.resource_id = id;
      std::unique_ptr<lock_handle> lock;
      std::string ahead;
      if (auto waiter = defer ? queue_.ahead_of(id, mine, &ahead) : std::nullopt) {
        status.state = lock_state::held;
        status.holder = std::move(*waiter);
        // Its owner may die before taking it: the waiter it would wake on leaving watches that.
        const std::string ahead_path = queue_.path() + "/" + ahead;
        if (!watch_.watches_departure(ahead_path) && queue_.next_after(id, ahead, mine)) {
          watch_.watch_departure(ahead_path);
        }
      } else {
        lock = try_lock(id, owner, status);
        if (!lock) watch_.saw_holder();
      }
      if (!lock) {
        busy.push_back(std::move(status));
        return {};  // releases the ones taken so far: all or nothing
      }
      held.push_back(std::move(lock));
    }
    return held;
  }

  std::unique_ptr<wait_ticket> enqueue(const std::vector<std::string>& ids, bool keep,
                                       const lock_owner& owner) override {
    ensure_folder();
    auto ticket = queue_.join(ids, keep, folder_mode_, owner);
    if (ticket) {
      watch_.start();
      watch_.watch_ticket(queue_.path() + "/" + ticket->name());
    }
    return std::make_unique<place_in_line>(*this, owner.alloc_id, std::move(ticket));
  }

  void prepare_wait() override {
    ensure_folder();
    watch_.start();
  }

  void wait(clock::time_point deadline) override {
    touch_tickets();
    watch_.wait(deadline);
  }

  lock_status status(const std::string& id) override {
    lock_status status;
    status.resource_id = id;
    probe(id, status);
    if (status.state == lock_state::held) note_if_orphaned(status.holder);
    return status;
  }

  void explain(std::vector<lock_status>& busy) override {
    for (auto& status : busy) {
      if (status.state == lock_state::held) note_if_orphaned(status.holder);
    }
  }

  std::string describe() const override { return "lock folder '" + folder_ + "'"; }

  void hold(lock_handle& lock, const std::string& id, const lock_owner& owner,
            const hold_request& hold) override {
    auto* mine = dynamic_cast<folder_lock*>(&lock);
    if (mine == nullptr || mine->descriptor() < 0) {
      throw error(errc::lock_store, describe() + " cannot hold '" + id + "': not a lock it holds");
    }
    char* absolute = ::realpath(folder_.c_str(), nullptr);
    if (absolute == nullptr) folder_error("cannot resolve", errno);
    detail::hold_keeper_plan plan;
    plan.folder = absolute;
    std::free(absolute);
    plan.lock_fd = mine->descriptor();
    plan.lock_name = id + ".pid";
    plan.request_name = detail::release_request_name(id, owner.alloc_id);
    plan.until = hold.until;
    if (!hold.ledger_head.empty()) {
      plan.ledger_path = detail::folder_ledger_file(plan.folder);
      plan.ledger_head = hold.ledger_head;
      plan.ledger_tail = hold.ledger_tail;
      plan.started = hold.started;
    }
    const nlohmann::json details = {{"host", owner.host},
                                    {"alloc_id", owner.alloc_id},
                                    {"since", detail::utc_now_iso8601()},
                                    {"user", hold.user},
                                    {"hold_until", detail::iso8601(hold.until)},
                                    {"note", hold.note}};
    plan.record = detail::json_text(details) + "\n";
    detail::start_hold_keeper(plan);
    mine->detach();
  }

  lock_status release_hold(const std::string& id, const std::string& user, bool force) override {
    const lock_status was = status(id);
    if (was.state != lock_state::held) {
      throw error(errc::not_held, "'" + id + "' is not held (" + describe() +
                                      "): there is no hold to release");
    }
    detail::check_hold_release(was, id, user, force);
    // The keeper watches the folder for this request, and checks for it once a quarter second
    // when it cannot watch.
    const std::string request =
        folder_ + "/" + detail::release_request_name(id, was.holder.alloc_id);
    fd_guard fd(::open(request.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                       0644));
    if (fd.get() < 0) folder_error("cannot write '" + request + "'", errno);
    const std::string text = user + (force ? " force\n" : "\n");
    (void)!::write(fd.get(), text.data(), text.size());
    fd.reset();
    const auto deadline = clock::now() + std::chrono::seconds(5);
    bool released = false;
    while (!released && clock::now() < deadline) {
      const lock_status now = status(id);
      released = now.state != lock_state::held || now.holder.alloc_id != was.holder.alloc_id;
      if (!released) ::usleep(5000);
    }
    ::unlink(request.c_str());
    if (!released) {
      throw error(errc::lock_store, "the keeper of the hold of '" + id + "' (PID " +
                                        std::to_string(was.holder.pid) +
                                        ") did not end it within 5 s; is it stopped?");
    }
    if (force && was.holder.user != user) record_forced_release(was, user);
    return was;
  }

  std::shared_ptr<ledger_log> ledger(std::uint64_t max_size) override {
    std::lock_guard<std::mutex> guard(places_mutex_);
    if (!ledger_) ledger_ = detail::folder_ledger(folder_, max_size);
    return ledger_;
  }

  std::shared_ptr<health_records> health() override {
    std::lock_guard<std::mutex> guard(places_mutex_);
    if (!health_) health_ = detail::folder_health_records(folder_);
    return health_;
  }

 private:
  // One line per forced release, appended whole, readable by whoever shares the folder.
  void record_forced_release(const lock_status& was, const std::string& user) {
    const std::string path = folder_ + "/.lockable-forced-releases";
    fd_guard fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (fd.get() < 0) return;
    const nlohmann::json entry = detail::forced_release_record(was, user);
    const std::string line = detail::json_text(entry) + "\n";
    (void)!::write(fd.get(), line.data(), line.size());
  }

  // A caller's place in line: registered with the store until destroyed.
  class place_in_line final : public wait_ticket {
   public:
    place_in_line(folder_store& store, std::string alloc_id,
                  std::unique_ptr<detail::queue_ticket> ticket)
        : store_(store), alloc_id_(std::move(alloc_id)), ticket_(std::move(ticket)) {
      std::lock_guard<std::mutex> guard(store_.places_mutex_);
      store_.places_[alloc_id_] = ticket_.get();
    }
    ~place_in_line() override {
      {
        std::lock_guard<std::mutex> guard(store_.places_mutex_);
        store_.places_.erase(alloc_id_);
      }
      if (ticket_) {
        std::lock_guard<std::mutex> guard(store_.queue_mutex_);
        try {
          store_.queue_.leave(std::move(ticket_));
        } catch (...) {  // out of memory: the ticket is gone, its successor finds out by polling
        }
      }
    }

   private:
    folder_store& store_;
    std::string alloc_id_;
    std::unique_ptr<detail::queue_ticket> ticket_;
  };

  void touch_tickets() {
    std::lock_guard<std::mutex> guard(places_mutex_);
    for (const auto& [alloc_id, ticket] : places_) {
      if (ticket != nullptr) ticket->touch();
    }
  }

  std::string path_of(const std::string& id) const { return folder_ + "/" + id + ".pid"; }

  [[noreturn]] void folder_error(const std::string& what, int err) const {
    throw error(errc::lock_store, "lock folder '" + folder_ + "': " + what + ": " + errno_text(err),
                setting::lock_folder);
  }

  void ensure_folder() {
    if (folder_ready_) return;
    struct stat st {};
    if (::stat(folder_.c_str(), &st) != 0) {
      // mkdir -p, as py-lockable creates the folder when missing.
      for (std::size_t pos = 1; pos <= folder_.size(); ++pos) {
        if (pos != folder_.size() && folder_[pos] != '/') continue;
        const std::string prefix = folder_.substr(0, pos);
        if (::mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST)
          folder_error("cannot create", errno);
      }
      if (::stat(folder_.c_str(), &st) != 0) folder_error("cannot create", errno);
    }
    if (!S_ISDIR(st.st_mode)) folder_error("cannot use", ENOTDIR);
    // py-lockable's files are 0644. In a folder a group shares, the group must be able to take
    // over a stale file, so lock files there are group-writable.
    file_mode_ = (st.st_mode & S_IWGRP) ? 0664 : 0644;
    folder_mode_ = st.st_mode & 07777;
    if (::access(folder_.c_str(), W_OK | X_OK) != 0) folder_error("cannot write", errno);
    folder_ready_ = true;
  }

  // Fills `status` from a read-only look at the lock file. Returns true when the resource looks
  // free or stale. Read-only, so that the close does not raise IN_CLOSE_WRITE for other waiters.
  bool probe(const std::string& id, lock_status& status) {
    status.resource_id = id;
    const std::string path = path_of(id);
    fd_guard fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) {
      if (errno == ENOENT) {
        status.state = lock_state::free;
        return true;
      }
      return unusable(status, path, errno == ELOOP ? "is a symbolic link" : errno_text(errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return unusable(status, path, "is not a regular file");
    }
    const bool locked = ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0;
    status.holder = read_holder(fd.get());
    if (locked || (status.holder.pid > 0 && status.holder.pid != ::getpid() &&
                   pid_alive(status.holder.pid))) {
      status.state = lock_state::held;
      return false;
    }
    status.state = status.holder.pid == 0 ? lock_state::free : lock_state::stale;
    return true;
  }

  // A held lock whose PID has ended: `lockable` was killed while the command it started (which
  // inherited the lock) runs on. Said, so that nobody goes looking for that PID. Only for
  // messages: a look does not need it (a held file with a dead PID is locked, or was a moment ago).
  static void note_if_orphaned(holder_info& holder) {
    if (!holder.note.empty() || holder.pid <= 0 || holder.pid == ::getpid() ||
        pid_alive(holder.pid)) {
      return;
    }
    const std::string pid = std::to_string(holder.pid);
    holder.note = "held by a process that PID " + pid + " started; PID " + pid + " has ended";
  }

  bool unusable(lock_status& status, const std::string& path, const std::string& why) {
    status.state = lock_state::held;
    status.holder = {};
    status.holder.note = "lock file '" + path + "' " + why + "; remove it";
    return false;
  }

  std::unique_ptr<lock_handle> try_lock(const std::string& id, const lock_owner& owner,
                                        lock_status& status) {
    if (!probe(id, status)) return nullptr;
    const std::string path = path_of(id);
    for (int attempt = 0; attempt < 8; ++attempt) {
      fd_guard fd(::open(
          path.c_str(),
          O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0666));
      if (fd.get() < 0) {
        if (errno == ENOENT) {  // the folder was removed under us
          folder_ready_ = false;
          ensure_folder();
          continue;
        }
        const int err = errno;
        if (err == ELOOP) return unusable(status, path, "is a symbolic link"), nullptr;
        // EACCES for a file that is not there: the folder refuses new files (its mode changed
        // since we checked it, or a file system refuses even root). Not the file's fault.
        struct stat st {};
        if (err == EACCES && ::lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
          folder_error("cannot create '" + path + "'", err);
        }
        if (err == EACCES || err == EISDIR || err == ENXIO) {
          return unusable(status, path, errno_text(err)), nullptr;
        }
        folder_error("cannot open '" + path + "'", err);
      }
      if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) folder_error("cannot flock '" + path + "'", errno);
        status.state = lock_state::held;
        status.holder = read_holder(fd.get());
        return nullptr;
      }
      struct stat held {
      }, named{};
      if (::fstat(fd.get(), &held) != 0) folder_error("cannot stat '" + path + "'", errno);
      if (!S_ISREG(held.st_mode)) return unusable(status, path, "is not a regular file"), nullptr;
      // py-lockable releases by close-then-unlink: a live PID in an unlocked file is a holder.
      status.holder = read_holder(fd.get());
      if (status.holder.pid > 0 && status.holder.pid != ::getpid() &&
          pid_alive(status.holder.pid)) {
        status.state = lock_state::held;
        return nullptr;
      }
      // The file we locked may have been released and unlinked between our open and our flock.
      // Checked after the PID: a py-lockable holder unlinks after its close and only then exits,
      // so once its PID is dead, its unlink (if any) is done and shows here.
      if (::lstat(path.c_str(), &named) != 0 || held.st_dev != named.st_dev ||
          held.st_ino != named.st_ino) {
        continue;
      }
      write_owner(fd.get(), path, owner, held);
      return std::make_unique<folder_lock>(fd.release(), path);
    }
    status.state = lock_state::held;
    status.holder.note = "lock file '" + path + "' keeps changing";
    return nullptr;
  }

  // `st` is the file as locked. An empty file is not truncated: on ext4, truncating a file to
  // zero makes its close flush the data just written (auto_da_alloc), which took 2-4 ms per
  // release on a busy disk; the chmod is skipped too when the mode is already right.
  void write_owner(int fd, const std::string& path, const lock_owner& owner,
                   const struct stat& st) {
    const nlohmann::json details = {
        {"host", owner.host}, {"alloc_id", owner.alloc_id}, {"since", detail::utc_now_iso8601()}};
    const std::string text = std::to_string(::getpid()) + "\n" + detail::json_text(details) + "\n";
    if (((st.st_mode & 07777) != file_mode_ && ::fchmod(fd, file_mode_) != 0) ||
        (st.st_size != 0 && ::ftruncate(fd, 0) != 0) ||
        ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      const int err = errno;
      ::unlink(path.c_str());  // the caller's guard closes `fd`
      folder_error("cannot write '" + path + "'", err);
    }
  }

  std::string folder_;
  bool folder_ready_ = false;
  mode_t file_mode_ = 0644;
  mode_t folder_mode_ = 0755;
  std::mutex queue_mutex_;  // for queue_, read and asked by one look at a time
  detail::folder_queue queue_;
  detail::folder_watch watch_;
  std::mutex places_mutex_;
  // The waiters in line through this store, by allocation id: their ticket, or null when they
  // could not join the queue (they then wait as if there were none).
  std::unordered_map<std::string, detail::queue_ticket*> places_;
  std::shared_ptr<ledger_log> ledger_;  // guarded by places_mutex_
  std::shared_ptr<health_records> health_;  // guarded by places_mutex_
};

}  // namespace

std::unique_ptr<lock_store> lock_folder_store(std::string folder) {
  return std::make_unique<folder_store>(std::move(folder));
}

}  // namespace gtest_lockable
