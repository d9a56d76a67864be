#include "bench/gnuplot.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

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

}  // namespace

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
  std::string arg0 = gnuplot, arg1 = script;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, gnuplot.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw IoError("cannot start gnuplot '" + gnuplot + "': " + std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw IoError(std::string("waiting for gnuplot: ") + std::strerror(errno));
  }
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
}

DrawingFolder::~DrawingFolder() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void DrawingFolder::write(const std::string& name, const std::string& bytes) const {
  const std::string file = path_ + "/" + name;
  std::ofstream out(file, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) throw IoError("cannot write '" + file + "'");
}

void DrawingFolder::publish(const std::string& name, const std::string& target) const {
  const std::string produced = path_ + "/" + name;
  std::error_code ec;
  if (std::filesystem::file_size(produced, ec) == 0 || ec) throw IoError("gnuplot wrote no figure for '" + target + "'");
  const int fd = open(produced.c_str(), O_RDONLY);   // on disk before it takes the target's name
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  std::filesystem::rename(produced, target, ec);
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
