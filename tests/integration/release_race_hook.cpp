// An LD_PRELOAD library that replays one interleaving of a py-lockable holder's life around a
// locker of ours, for lock_folder_test's release race test. py-lockable releases by close, then
// unlink, then its process may exit. Replayed here:
//
// 1. Our locker looked at the lock file (free) and opened it to take it. Before its flock(), the
//    py-lockable process RACE_HOOK_PID took the file and released it up to the close: the hook
//    writes that PID into RACE_HOOK_PATH just before the locker's flock() of it.
// 2. Our locker, holding the flock, asks whether that PID is alive (kill(pid, 0)). Just before,
//    the py-lockable process finishes its release and exits: the hook unlinks RACE_HOOK_PATH,
//    kills the process and waits until it is a zombie (the test reaps it), then touches
//    RACE_HOOK_FIRED so the test knows the interleaving happened.
//
// A locker that trusted the PID check alone would now hold a file that is no longer the lock file.
// Each step happens once, and only for a descriptor of the path open for reading and writing (the
// locker taking the lock, not one just looking).
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace {

bool planted = false;
bool fired = false;

// Whether `fd` is `path`, open for reading and writing.
bool is_writable(int fd, const char* path) {
  struct stat target {
  }, st{};
  const int flags = ::fcntl(fd, F_GETFL);
  return ::stat(path, &target) == 0 && ::fstat(fd, &st) == 0 && st.st_dev == target.st_dev &&
         st.st_ino == target.st_ino && flags >= 0 && (flags & O_ACCMODE) == O_RDWR;
}

// Whether this process has `path` open for reading and writing.
bool open_for_writing(const char* path) {
  DIR* fds = ::opendir("/proc/self/fd");
  if (fds == nullptr) return false;
  bool found = false;
  while (const dirent* entry = ::readdir(fds)) {
    if (entry->d_name[0] != '.' && is_writable(std::atoi(entry->d_name), path)) found = true;
  }
  ::closedir(fds);
  return found;
}

bool is_zombie_or_gone(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return true;
  char text[512] = {};
  const std::size_t n = std::fread(text, 1, sizeof text - 1, f);
  std::fclose(f);
  const char* close = std::strrchr(text, ')');
  return n == 0 || (close != nullptr && close[1] == ' ' && close[2] == 'Z');
}

}  // namespace

extern "C" int flock(int fd, int operation) {
  using flock_fn = int (*)(int, int);
  static const auto real_flock = reinterpret_cast<flock_fn>(::dlsym(RTLD_NEXT, "flock"));
  const char* target = std::getenv("RACE_HOOK_PID");
  const char* path = std::getenv("RACE_HOOK_PATH");
  if (!planted && target != nullptr && path != nullptr && is_writable(fd, path)) {
    planted = true;
    const std::string line = std::string(target) + "\n";
    const int out = ::open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (out >= 0) {
      (void)!::write(out, line.data(), line.size());
      ::close(out);
    }
  }
  return real_flock(fd, operation);
}

extern "C" int kill(pid_t pid, int sig) {
  using kill_fn = int (*)(pid_t, int);
  static const auto real_kill = reinterpret_cast<kill_fn>(::dlsym(RTLD_NEXT, "kill"));
  const char* target = std::getenv("RACE_HOOK_PID");
  const char* path = std::getenv("RACE_HOOK_PATH");
  const char* marker = std::getenv("RACE_HOOK_FIRED");
  if (!fired && sig == 0 && target != nullptr && path != nullptr && marker != nullptr &&
      pid == std::atoi(target) && open_for_writing(path)) {
    fired = true;
    ::unlink(path);
    real_kill(pid, SIGKILL);
    for (int i = 0; i < 5000 && !is_zombie_or_gone(pid); ++i) {
      const timespec ms{0, 1000000};
      ::nanosleep(&ms, nullptr);
    }
    ::close(::open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  }
  return real_kill(pid, sig);
}
