#include "src/store/lock_folder/queue.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "src/util/time_format.hpp"

namespace gtest_lockable::detail {
namespace {

using system_clock = std::chrono::system_clock;

// "<ns since the epoch, 20 digits>.<pid>.<random>": names sort by the caller's place in line.
std::string ticket_name(system_clock::time_point queued_at) {
  thread_local std::mt19937 random{std::random_device{}()};
  char name[64];
  std::snprintf(name, sizeof name, "%s.%ld.%08x", line_key(queued_at).c_str(),
                static_cast<long>(::getpid()), static_cast<unsigned>(random()));
  return name;
}

long long ns_of(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// The time and PID in a ticket's name; false for a name that is not a ticket's.
bool parse_name(const std::string& name, long long& ns, long& pid) {
  char* end = nullptr;
  ns = std::strtoll(name.c_str(), &end, 10);
  if (end != name.c_str() + 20 || *end != '.') return false;
  pid = std::strtol(end + 1, &end, 10);
  return *end == '.' && pid > 0;
}

std::string read_all(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  return text;
}

}  // namespace

std::string line_key(std::chrono::system_clock::time_point queued_at) {
  if (queued_at == system_clock::time_point{}) queued_at = system_clock::now();
  char key[32];
  std::snprintf(key, sizeof key, "%020lld", std::max(0LL, ns_of(queued_at)));
  return key;
}

queue_ticket::queue_ticket(int folder_fd, int fd, std::string name, std::vector<std::string> ids)
    : folder_fd_(folder_fd),
      fd_(fd),
      name_(std::move(name)),
      ids_(std::move(ids)),
      touched_(std::chrono::steady_clock::now()) {}

// Unlink before close: a reader never sees the ticket named yet unlocked while its owner lives.
queue_ticket::~queue_ticket() {
  ::unlinkat(folder_fd_, name_.c_str(), 0);
  ::close(fd_);
  ::close(folder_fd_);
}

void queue_ticket::touch() {
  const auto now = std::chrono::steady_clock::now();
  if (now - touched_ < std::chrono::milliseconds(ticket_stale_after) / 4) return;
  touched_ = now;
  ::futimens(fd_, nullptr);
}

folder_queue::folder_queue(const std::string& folder) : path_(folder + "/.lockable-queue") {}

folder_queue::~folder_queue() {
  if (folder_fd_ >= 0) ::close(folder_fd_);
}

std::unique_ptr<queue_ticket> folder_queue::join(const std::vector<std::string>& ids, bool keep,
                                                 mode_t mode, const lock_owner& owner) {
  const std::string name = ticket_name(owner.queued_at);
  const std::string hidden = "." + name;  // readers skip it until it is locked and written
  int folder_fd = -1;
  int fd = -1;
  // The last waiter to leave removes the queue folder; one that removes it between our mkdir
  // and our ticket's creation makes us start again.
  for (int attempt = 0; fd < 0 && attempt < 4; ++attempt) {
    if (folder_fd >= 0) ::close(folder_fd);
    const bool created = ::mkdir(path_.c_str(), 0700) == 0;
    if (!created && errno != EEXIST) return nullptr;
    // O_NOFOLLOW: in a world-writable lock folder the name may be someone else's symbolic link.
    folder_fd = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (folder_fd < 0) {
      if (errno == ENOENT) continue;
      return nullptr;
    }
    if (created) ::fchmod(folder_fd, mode & 07777);
    fd = ::openat(folder_fd, hidden.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0644);
    if (fd < 0 && errno != ENOENT) break;
  }
  if (fd < 0) {
    if (folder_fd >= 0) ::close(folder_fd);
    return nullptr;
  }
  // "K" (keeps) or "W" (only waits), then the ids, each ended by a NUL (ids never hold one),
  // then "\x01<priority>.<ns when it began to wait>" and a NUL (no id starts with \x01).
  std::string text(keep ? "K" : "W");
  for (const auto& id : ids) text += id + '\0';
  text += "\x01" + std::to_string(owner.priority) + "." +
          std::to_string(ns_of(system_clock::now())) + '\0';
  const bool ready = ::flock(fd, LOCK_EX | LOCK_NB) == 0 &&
                     ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                     ::renameat(folder_fd, hidden.c_str(), folder_fd, name.c_str()) == 0;
  if (!ready) {
    ::unlinkat(folder_fd, hidden.c_str(), 0);
    ::close(fd);
    ::close(folder_fd);
    return nullptr;
  }
  return std::make_unique<queue_ticket>(folder_fd, fd, name, ids);
}

void folder_queue::leave(std::unique_ptr<queue_ticket> ticket) {
  read();
  std::vector<std::string> next;
  for (const auto& id : ticket->ids()) {
    const auto name = first_waiter(id, false, ticket->name(), std::string());
    if (name && std::find(next.begin(), next.end(), *name) == next.end()) next.push_back(*name);
  }
  ticket.reset();  // gone before the next waiter looks
  for (const auto& name : next) {
    const int fd = ::openat(folder_fd_, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    ::futimens(fd, nullptr);  // raises IN_ATTRIB, which its owner watches
    ::close(fd);
  }
  // The last to leave tidies the lock folder up; with waiters left, rmdir fails (ENOTEMPTY).
  if (next.empty()) ::rmdir(path_.c_str());
}

void folder_queue::read() {
  names_.clear();
  if (folder_fd_ >= 0) ::close(folder_fd_);
  folder_fd_ = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (folder_fd_ < 0) {
    wanted_.clear();
    return;
  }
  const int listing = ::dup(folder_fd_);
  DIR* dir = listing >= 0 ? ::fdopendir(listing) : nullptr;
  if (dir == nullptr) {
    if (listing >= 0) ::close(listing);
    return;
  }
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') names_.emplace_back(entry->d_name);
  }
  ::closedir(dir);
  std::sort(names_.begin(), names_.end());
  for (auto it = wanted_.begin(); it != wanted_.end();) {  // forget tickets that left
    it = std::binary_search(names_.begin(), names_.end(), it->first) ? std::next(it)
                                                                     : wanted_.erase(it);
  }
}

std::optional<holder_info> folder_queue::ahead_of(const std::string& id, const std::string& mine,
                                                  std::string* ticket) {
  const auto name = first_waiter(id, true, std::string(), mine);
  if (!name) return std::nullopt;
  if (ticket != nullptr) *ticket = *name;
  long long ns = 0;
  holder_info waiter;
  parse_name(*name, ns, waiter.pid);
  int priority = 0;
  if (const auto known = wanted_.find(*name); known != wanted_.end()) {
    priority = known->second.priority;
    if (known->second.since_ns > 0) ns = known->second.since_ns;
  }
  waiter.since = iso8601(system_clock::time_point(
      std::chrono::duration_cast<system_clock::duration>(std::chrono::nanoseconds(ns))));
  waiter.note = "free, kept for PID " + std::to_string(waiter.pid) +
                (priority > 0 ? " (priority " + std::to_string(priority) + "), which is ahead in line"
                              : ", which has waited longer");
  return waiter;
}

bool folder_queue::next_after(const std::string& id, const std::string& ticket,
                              const std::string& mine) {
  return !mine.empty() && first_waiter(id, false, ticket, std::string()) == mine;
}

std::optional<std::string> folder_queue::first_waiter(const std::string& id, bool keeping,
                                                      const std::string& after,
                                                      const std::string& before) {
  const auto stale_before = system_clock::now() - ticket_stale_after;
  for (const auto& name : names_) {
    if (!after.empty() && name <= after) continue;
    if (!before.empty() && name >= before) break;
    long long ns = 0;
    long pid = 0;
    if (!parse_name(name, ns, pid)) continue;
    const auto known = wanted_.find(name);
    const auto waits_for = [&](const wanted& w) {
      return (w.keep || !keeping) && std::find(w.ids.begin(), w.ids.end(), id) != w.ids.end();
    };
    if (known != wanted_.end() && !waits_for(known->second)) continue;
    const int fd = ::openat(folder_fd_, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;  // it left meanwhile
    const wanted* w = wanted_by(name, fd);
    struct stat st {};
    // An unlocked ticket's owner is gone: clear it away. A ticket not touched for a while
    // belongs to a stopped process: skip it, it may come back. Only a waiter of the same user
    // counts: another user's may be unable to open a lock file that we can (and would then keep
    // the resource from everyone until it gives up).
    const bool listed = w != nullptr && waits_for(*w);
    const bool live = listed && ::flock(fd, LOCK_SH | LOCK_NB) != 0;
    if (listed && !live) ::unlinkat(folder_fd_, name.c_str(), 0);
    const bool running =
        live && ::fstat(fd, &st) == 0 && st.st_uid == ::geteuid() &&
        system_clock::time_point(std::chrono::seconds(st.st_mtim.tv_sec) +
                                 std::chrono::nanoseconds(st.st_mtim.tv_nsec)) >= stale_before;
    ::close(fd);
    if (running) return name;
  }
  return std::nullopt;
}

const folder_queue::wanted* folder_queue::wanted_by(const std::string& name, int fd) {
  if (const auto known = wanted_.find(name); known != wanted_.end()) return &known->second;
  const std::string text = read_all(fd);
  if (text.empty() || (text[0] != 'K' && text[0] != 'W')) return nullptr;
  wanted w;
  w.keep = text[0] == 'K';
  for (std::size_t start = 1; start < text.size();) {
    const auto end = text.find('\0', start);
    if (end == std::string::npos) break;
    if (text[start] == '\x01') {
      char* rest = nullptr;
      w.priority = static_cast<int>(std::strtol(text.c_str() + start + 1, &rest, 10));
      if (*rest == '.') w.since_ns = std::strtoll(rest + 1, nullptr, 10);
    } else {
      w.ids.push_back(text.substr(start, end - start));
    }
    start = end + 1;
  }
  return &wanted_.emplace(name, std::move(w)).first->second;
}

}  // namespace gtest_lockable::detail
