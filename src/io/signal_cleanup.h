// Temporary files and folders, and child processes, that must not outlive the process when it is
// killed by SIGINT, SIGTERM, SIGHUP or SIGPIPE. A registry of fixed slots that a signal handler
// reads with async-signal-safe calls only (kill, waitpid, unlink, rmdir, openat, getdents64), so
// an interrupted run leaves nothing behind and still dies "killed by SIGINT".
#pragma once
#include <sys/types.h>

#include <string>

namespace slimformer::io {

// Installs the handlers (once; a signal the process inherited as ignored, as under nohup, stays
// ignored) and ignores SIGXFSZ, so a write past `ulimit -f` fails with EFBIG and is reported as
// an error rather than killing the process with a temporary file left. The command-line tool
// calls it at start; library users that own their signals need not.
void install_cleanup_handlers();

// What a handler removes. A slot stays registered until its guard is destroyed or released.
enum class CleanupKind {
  File,         // unlink
  Folder,       // the folder and everything in it
  EmptyFolder,  // rmdir: only while it is still empty
};

class CleanupGuard {
 public:
  CleanupGuard() = default;
  CleanupGuard(const std::string& path, CleanupKind kind);   // registers; silently not when full
  explicit CleanupGuard(pid_t child);                         // SIGKILLed and reaped first
  ~CleanupGuard() { release(); }
  CleanupGuard(CleanupGuard&& other) noexcept : slot_(other.slot_) { other.slot_ = -1; }
  CleanupGuard& operator=(CleanupGuard&& other) noexcept;
  CleanupGuard(const CleanupGuard&) = delete;
  CleanupGuard& operator=(const CleanupGuard&) = delete;

  void release();   // no longer removed on a signal (committed, or removed already)

 private:
  int slot_ = -1;
};

}  // namespace slimformer::io
