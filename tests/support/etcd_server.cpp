#include "etcd_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

namespace gtest_lockable::testing_support {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

std::string base64_decode(const std::string& text) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (char c : text) {
    const auto d = alphabet.find(c);
    if (d == std::string::npos) continue;
    value = (value << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((value >> bits) & 0xff);
    }
  }
  return out;
}

int remaining_ms(steady::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - steady::now());
  return static_cast<int>(std::max<long long>(0, left.count()));
}

}  // namespace

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    fail("bind 127.0.0.1:0");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

steady::time_point after(seconds timeout) {
  return steady::now() + std::chrono::duration_cast<steady::duration>(timeout);
}

child_process::child_process(const std::vector<std::string>& argv, const std::string& log_file) {
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int in[2] = {-1, -1}, out[2] = {-1, -1};
  int log = -1;
  if (log_file.empty()) {
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) fail("pipe");
  } else {
    log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0) fail("open " + log_file);
  }
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) fail("fork");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    if (log >= 0) {
      const int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
      ::dup2(log, 1);
      ::dup2(log, 2);
    } else {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (log >= 0) {
    ::close(log);
  } else {
    ::close(in[0]);
    ::close(out[1]);
    in_ = in[1];
    out_ = out[0];
  }
}

child_process::~child_process() {
  if (in_ >= 0) ::close(in_);
  if (out_ >= 0) ::close(out_);
  if (pid_ > 0) stop(SIGKILL);
}

std::optional<std::string> child_process::read_line(steady::time_point deadline) {
  while (true) {
    const auto eol = buffer_.find('\n');
    if (eol != std::string::npos) {
      std::string line = buffer_.substr(0, eol);
      buffer_.erase(0, eol + 1);
      return line;
    }
    if (out_ < 0) return std::nullopt;
    pollfd pfd{out_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    char chunk[512];
    const ssize_t n = ::read(out_, chunk, sizeof chunk);
    if (n <= 0) return std::nullopt;
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

void child_process::write(const std::string& text) {
  if (in_ < 0 || ::write(in_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    fail("write to child " + std::to_string(pid_));
  }
}

std::optional<int> child_process::wait(steady::time_point deadline) {
  if (pid_ <= 0) return -1;
  // Reaping has no notification we could block on portably; look often until the deadline.
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_ || (done < 0 && errno == ECHILD)) {
      pid_ = -1;
      return status;
    }
    if (steady::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int child_process::stop(int signal, seconds grace) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  if (auto status = wait(after(grace))) return *status;
  ::kill(pid_, SIGKILL);
  return wait(after(seconds(10))).value_or(-1);
}

etcd_snapshot read_all_keys(const std::string& endpoint) {
  httplib::Client client(endpoint);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(5, 0);
  // "AA==" is the key "\0": from the first key to the end of the key space.
  const auto result =
      client.Post("/v3/kv/range", R"({"key":"AA==","range_end":"AA=="})", "application/json");
  if (!result || result->status != 200) {
    throw std::runtime_error("cannot read the keys of etcd at " + endpoint);
  }
  const auto reply = nlohmann::json::parse(result->body);
  etcd_snapshot out;
  out.revision = std::stoll(reply["header"]["revision"].get<std::string>());
  for (const auto& kv : reply.value("kvs", nlohmann::json::array())) {
    out.keys[base64_decode(kv["key"].get<std::string>())] =
        std::stoll(kv.value("lease", std::string("0")));
  }
  return out;
}

bool etcd_cluster::available() { return ::access(executable, X_OK) == 0; }

etcd_cluster::etcd_cluster(int members) : members_(static_cast<std::size_t>(members)) {
  std::string pattern = (std::filesystem::temp_directory_path() / "etcd_test.XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) fail("mkdtemp");
  folder_ = pattern;
  for (auto& m : members_) {
    m.client_port = free_port();
    m.peer_port = free_port();
  }
  try {
    for (int i = 0; i < members; ++i) spawn(i);
    const auto deadline = after(seconds(30));
    for (int i = 0; i < members; ++i) wait_healthy(i, deadline);
  } catch (...) {
    members_.clear();
    std::filesystem::remove_all(folder_);
    throw;
  }
}

etcd_cluster::~etcd_cluster() {
  for (int i = 0; i < static_cast<int>(members_.size()); ++i) stop(i);
  std::error_code ignored;
  std::filesystem::remove_all(folder_, ignored);
}

void etcd_cluster::spawn(int i) {
  std::string cluster;
  for (std::size_t j = 0; j < members_.size(); ++j) {
    cluster += (j ? "," : "") + ("m" + std::to_string(j)) +
               "=http://127.0.0.1:" + std::to_string(members_[j].peer_port);
  }
  const auto& m = members_[static_cast<std::size_t>(i)];
  const std::string client = "http://127.0.0.1:" + std::to_string(m.client_port);
  const std::string peer = "http://127.0.0.1:" + std::to_string(m.peer_port);
  const std::string name = "m" + std::to_string(i);
  // Short heartbeat and election times: a stopped member's place is taken within a second.
  const std::vector<std::string> argv = {executable,
                                         "--name",
                                         name,
                                         "--data-dir",
                                         folder_ + "/" + name,
                                         "--listen-client-urls",
                                         client,
                                         "--advertise-client-urls",
                                         client,
                                         "--listen-peer-urls",
                                         peer,
                                         "--initial-advertise-peer-urls",
                                         peer,
                                         "--initial-cluster",
                                         cluster,
                                         "--initial-cluster-state",
                                         "new",
                                         "--initial-cluster-token",
                                         "gtest_lockable_test",
                                         "--heartbeat-interval",
                                         "50",
                                         "--election-timeout",
                                         "500",
                                         "--logger",
                                         "zap",
                                         "--log-level",
                                         "warn"};
  members_[static_cast<std::size_t>(i)].process =
      std::make_unique<child_process>(argv, folder_ + "/" + name + ".log");
}

void etcd_cluster::wait_healthy(int i, steady::time_point deadline) {
  httplib::Client client("127.0.0.1", members_[static_cast<std::size_t>(i)].client_port);
  client.set_connection_timeout(0, 200000);
  client.set_read_timeout(1, 0);
  while (true) {
    const auto result = client.Get("/health");
    if (result && result->status == 200 && result->body.find("\"true\"") != std::string::npos) {
      return;
    }
    if (steady::now() >= deadline) {
      throw std::runtime_error("etcd member " + std::to_string(i) + " at " + endpoint(i) +
                               " not healthy after 30 s; log:\n" + log_tail(i));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string etcd_cluster::log_tail(int i) const {
  std::ifstream in(folder_ + "/m" + std::to_string(i) + ".log");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

void etcd_cluster::start(int i) {
  spawn(i);
  wait_healthy(i, after(seconds(30)));
}

void etcd_cluster::stop(int i, int signal) {
  auto& process = members_[static_cast<std::size_t>(i)].process;
  if (process) process->stop(signal);
  process.reset();
}

int etcd_cluster::leader() const {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (!members_[i].process) continue;
    httplib::Client client(endpoint(static_cast<int>(i)));
    client.set_connection_timeout(1, 0);
    client.set_read_timeout(5, 0);
    const auto result = client.Post("/v3/maintenance/status", "{}", "application/json");
    if (!result || result->status != 200) continue;
    const auto reply = nlohmann::json::parse(result->body, nullptr, false);
    if (!reply.is_object() || !reply.contains("leader")) continue;
    if (reply["header"].value("member_id", "") == reply.value("leader", "")) {
      return static_cast<int>(i);
    }
  }
  throw std::runtime_error("no etcd member in " + folder_ + " says it leads");
}

std::string etcd_cluster::uri(const std::string& prefix, std::vector<int> order) const {
  if (order.empty()) {
    for (std::size_t i = 0; i < members_.size(); ++i) order.push_back(static_cast<int>(i));
  }
  std::string out = "etcd://";
  for (std::size_t j = 0; j < order.size(); ++j) {
    out += (j ? "," : "") + std::string("127.0.0.1:") +
           std::to_string(members_[static_cast<std::size_t>(order[j])].client_port);
  }
  return out + prefix;
}

std::string etcd_cluster::endpoint(int i) const {
  return "http://127.0.0.1:" + std::to_string(members_[static_cast<std::size_t>(i)].client_port);
}

}  // namespace gtest_lockable::testing_support
