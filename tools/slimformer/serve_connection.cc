#include "serve_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace slimcli {
namespace {

using Clock = std::chrono::steady_clock;

thread_local bool t_close_after_answer = false;

// Waits until `sock` has `events` or `timeout` passes; false on timeout or error.
bool wait_for(int sock, short events, std::chrono::milliseconds timeout) {
  pollfd p{sock, events, 0};
  for (;;) {
    const int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, timeout.count())));
    if (r < 0 && errno == EINTR) continue;
    return r > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
  }
}

void address_of(int sock, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  const int r = peer ? ::getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len)
                     : ::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len);
  if (r != 0) return;
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    port = ntohs(a->sin6_port);
  }
  ip = buf;
}

// A buffered socket stream whose reads fail once the current request's deadline has passed.
class DeadlineStream : public httplib::Stream {
 public:
  DeadlineStream(int sock, std::chrono::milliseconds io) : sock_(sock), io_(io) {}
  void set_deadline(Clock::time_point t) { deadline_ = t; }
  bool has_buffered() const { return pos_ < len_; }

  bool is_readable() const override { return has_buffered() || wait_for(sock_, POLLIN, read_wait()); }
  bool is_writable() const override { return wait_for(sock_, POLLOUT, io_); }

  ssize_t read(char* ptr, size_t size) override {
    if (!has_buffered()) {
      if (!is_readable()) return -1;
      ssize_t n;
      do n = ::recv(sock_, buf_, sizeof buf_, 0);
      while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      pos_ = 0;
      len_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, len_ - pos_);
    std::memcpy(ptr, buf_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { address_of(sock_, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address_of(sock_, false, ip, port); }
  socket_t socket() const override { return sock_; }

 private:
  std::chrono::milliseconds read_wait() const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
    return std::clamp(left, std::chrono::milliseconds(0), io_);
  }

  int sock_;
  std::chrono::milliseconds io_;
  Clock::time_point deadline_ = Clock::now();
  char buf_[16384];
  size_t pos_ = 0, len_ = 0;
};

}  // namespace

void GuardedServer::close_after_answer() { t_close_after_answer = true; }

bool GuardedServer::bind(const std::string& host, int port) {
  if (!bind_to_port(host, port)) return false;
  ::listen(svr_sock_, limits_.listen_backlog);   // listen again on a listening socket: a new backlog
  return true;
}

int GuardedServer::bind_any(const std::string& host) {
  const int port = bind_to_any_port(host);
  if (port >= 0) ::listen(svr_sock_, limits_.listen_backlog);
  return port;
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  DeadlineStream strm(sock, limits_.io);
  bool ok = false;
  for (size_t left = limits_.keep_alive_requests; left > 0 && !stopping(); --left) {
    // Wait for the next request in short slices, so that a shutdown does not wait for idle clients.
    const auto idle_until = Clock::now() + limits_.keep_alive_idle;
    bool ready = strm.has_buffered();
    while (!ready && !stopping() && Clock::now() < idle_until) ready = wait_for(sock, POLLIN, std::chrono::milliseconds(50));
    if (!ready || stopping()) break;
    strm.set_deadline(Clock::now() + limits_.request_read);
    t_close_after_answer = false;
    bool closed = false;
    ok = process_request(strm, left == 1, closed, nullptr);
    if (!ok || closed || t_close_after_answer) break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace slimcli
