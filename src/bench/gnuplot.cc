#include "bench/gnuplot.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/atomic_file.h"
#include "io/output_place.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"
#include "slimformer/plot.h"

extern char** environ;

namespace slimformer::plot {
namespace {

bool executable(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec) && access(p.c_str(), X_OK) == 0;
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    // gnuplot echoes the failing command, then a line starting with the error; keep the error.
    if (line.find("line ") != std::string::npos && line.find(':') != std::string::npos) return line;
  }
  in.clear();
  in.seekg(0);
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t^") != std::string::npos) return line;
  }
  return "";
}

// gnuplot starts with the default action of the signals this process ignores (SIGXFSZ): past a
// file-size limit it is stopped rather than left to finish a truncated figure.
void default_signals(posix_spawnattr_t* attr) {
  posix_spawnattr_init(attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (const int sig : {SIGXFSZ, SIGPIPE, SIGINT, SIGTERM, SIGHUP}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(attr, &defaults);
  posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF);
}

}  // namespace

std::string first_output_line(const std::string& program, const std::string& arg) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return "";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  default_signals(&attr);
  std::string arg0 = program, arg1 = arg;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, program.c_str(), &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return "";
  }
  io::CleanupGuard child(pid);   // killed with this process, not left running
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  child.release();
  return out.substr(0, out.find_first_of("\r\n"));
}

std::string find_gnuplot() {
  const char* env = std::getenv("SLIMFORMER_GNUPLOT");
  const std::string name = env && *env ? env : "gnuplot";
  if (name.find('/') != std::string::npos) {
    // Made absolute: gnuplot is started in another working folder.
    return executable(name) ? std::filesystem::absolute(name).string() : "";
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    const size_t colon = std::min(dirs.find(':', start), dirs.size());
    const std::string dir = dirs.substr(start, colon - start);
    const std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / name;
    if (executable(candidate)) return std::filesystem::absolute(candidate).string();
    start = colon + 1;
  }
  return "";
}

void run_gnuplot(const std::string& gnuplot, const std::string& dir, const std::string& script) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "gnuplot.err", O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawnattr_t attr;
  default_signals(&attr);
  std::string arg0 = gnuplot, arg1 = script;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, gnuplot.c_str(), &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw IoError("cannot start gnuplot '" + gnuplot + "': " + std::strerror(rc));
  io::CleanupGuard child(pid);   // killed with this process, not left drawing
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw IoError(std::string("waiting for gnuplot: ") + std::strerror(errno));
  }
  child.release();   // reaped: its pid may be reused
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  const std::string why = first_line(dir + "/gnuplot.err");
  throw IoError("gnuplot failed (" +
                (WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                                   : "signal " + std::to_string(WTERMSIG(status))) +
                ")" + (why.empty() ? "" : ": " + why));
}

DrawingFolder::DrawingFolder(const std::string& parent, const std::string& target) {
  const std::string dir = parent.empty() ? "." : parent;
  std::string tmpl = (std::filesystem::path(dir) / ".slimformer-plot-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) {
    throw IoError("cannot write '" + target + "': cannot create a temporary folder in '" + dir + "': " +
                  std::strerror(errno));
  }
  path_ = tmpl;
  guard_ = io::CleanupGuard(path_, io::CleanupKind::Folder);
}

DrawingFolder::~DrawingFolder() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void DrawingFolder::write(const std::string& name, const std::string& bytes) const {
  const std::string file = path_ + "/" + name;
  const int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err = fd < 0 ? errno : 0;
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (err == 0 && left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      err = w == 0 ? ENOSPC : errno;
    } else {
      p += w;
      left -= static_cast<size_t>(w);
    }
  }
  if (fd >= 0 && close(fd) != 0 && err == 0) err = errno;
  if (err != 0) throw IoError("cannot write '" + file + "': " + std::strerror(err));
}

namespace {

// Whether gnuplot finished the figure: a PNG ends with its IEND chunk, an SVG with </svg>. A
// figure cut short by a full disk (gnuplot does not always say so) is never published.
bool complete_figure(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : 0;
  if (size <= 0) return false;
  const std::streamoff tail_size = std::min<std::streamoff>(size, 64);
  std::string tail(static_cast<size_t>(tail_size), '\0');
  in.seekg(size - tail_size);
  in.read(tail.data(), tail_size);
  if (!in) return false;
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".png") {
    static const std::string kEnd("\0\0\0\0IEND\xae\x42\x60\x82", 12);
    return tail.size() >= kEnd.size() && tail.compare(tail.size() - kEnd.size(), kEnd.size(), kEnd) == 0;
  }
  if (ext == ".svg") {
    const size_t end = tail.find_last_not_of(" \t\r\n");
    return end != std::string::npos && end + 1 >= 6 && tail.compare(end + 1 - 6, 6, "</svg>") == 0;
  }
  return true;
}

}  // namespace

void DrawingFolder::publish(const std::string& name, const std::string& target) const {
  const std::string produced = path_ + "/" + name;
  std::error_code ec;
  if (std::filesystem::file_size(produced, ec) == 0 || ec) throw IoError("gnuplot wrote no figure for '" + target + "'");
  if (!complete_figure(produced)) {
    throw IoError("gnuplot wrote an incomplete figure for '" + target + "' (is the disk full?)");
  }
  const io::OutputPlace place = io::output_place(target);
  if (place.in_place) {   // a device or a pipe: its bytes, never a rename over it
    io::AtomicFile out(target);
    const std::string bytes = read_text_file(produced);
    out.write(bytes.data(), bytes.size());
    out.commit();
    return;
  }
  const int fd = open(produced.c_str(), O_RDONLY);   // on disk before it takes the target's name
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  std::filesystem::rename(produced, place.path, ec);   // a symlink's target: the link stays a link
  if (ec) throw IoError("cannot write '" + target + "': " + ec.message());
}

std::string gnuplot_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c != '\r') {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace slimformer::plot
