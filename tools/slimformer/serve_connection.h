// The connection handling of `slimformer serve`: cpp-httplib's server, with each connection
// served by our own loop over a socket stream that puts a deadline on reading a whole request.
// cpp-httplib 0.11 times out each read on its own, so a client sending one byte a second
// (slowloris) would hold a thread for as long as it likes; here it is cut off at the deadline.
#pragma once
#include <httplib.h>

#include <atomic>
#include <chrono>

namespace slimcli {

struct ConnectionLimits {
  std::chrono::milliseconds request_read{10000};   // a request's head and body must arrive within this
  std::chrono::milliseconds io{5000};              // one read or write may wait this long
  std::chrono::milliseconds keep_alive_idle{5000}; // an idle kept-alive connection is closed after this
  size_t keep_alive_requests = 100;                // requests per connection
  int listen_backlog = 128;
};

class GuardedServer : public httplib::Server {
 public:
  explicit GuardedServer(ConnectionLimits limits) : limits_(limits) {}
  // bind_to_port, with the backlog of the limits (cpp-httplib's is built in at 5).
  bool bind(const std::string& host, int port);
  // bind_to_any_port likewise: the port picked, or -1.
  int bind_any(const std::string& host);
  // Asks the connection serving the current request (this thread's) to close after answering:
  // for an answer given before the whole body was read.
  static void close_after_answer();

 private:
  bool process_and_close_socket(socket_t sock) override;
  bool stopping() const { return svr_sock_ == INVALID_SOCKET; }
  ConnectionLimits limits_;
};

}  // namespace slimcli
