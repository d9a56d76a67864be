#include "io/signal_cleanup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace slimformer::io {
namespace {

constexpr int kSlots = 64;
constexpr size_t kPathMax = 4096;
enum State : int { kFree = 0, kFilling = 1, kActive = 2 };

// Filled before it is marked active and read by the handler only while active: the handler never
// sees a half-written path.
struct Slot {
  std::atomic<int> state{kFree};
  CleanupKind kind = CleanupKind::File;
  pid_t child = 0;
  char path[kPathMax] = {};
};
Slot g_slots[kSlots];

int claim_slot() {
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (g_slots[i].state.compare_exchange_strong(expected, kFilling)) return i;
  }
  return -1;   // full: that path is left to the ordinary cleanup alone
}

// linux_dirent64, as getdents64 fills it (opendir/readdir allocate: not for a handler).
struct Dirent64 {
  uint64_t ino;
  int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[1];
};

// Everything inside the folder `name` (relative to `parent_fd`), with syscalls only. Entries are
// removed while listing, so the listing restarts until a pass finds nothing left.
void empty_folder_at(int parent_fd, const char* name, int depth) {
  const int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  alignas(8) char buf[4096];
  for (int pass = 0; pass < 64; ++pass) {
    bool removed = false;
    lseek(fd, 0, SEEK_SET);
    for (;;) {
      const long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
      if (n <= 0) break;
      for (long off = 0; off < n;) {
        const auto* d = reinterpret_cast<const Dirent64*>(buf + off);
        off += d->reclen;
        if (std::strcmp(d->name, ".") == 0 || std::strcmp(d->name, "..") == 0) continue;
        if (unlinkat(fd, d->name, 0) == 0) {
          removed = true;
        } else if (depth < 16) {   // a folder (EISDIR/EPERM): empty it, then remove it
          empty_folder_at(fd, d->name, depth + 1);
          removed = unlinkat(fd, d->name, AT_REMOVEDIR) == 0 || removed;
        }
      }
    }
    if (!removed) break;
  }
  close(fd);
}

void on_signal(int sig) {
  const int saved_errno = errno;
  // Children first: a drawing program still running would write into a folder being removed.
  for (Slot& s : g_slots) {
    if (s.state.load(std::memory_order_acquire) == kActive && s.child > 0) {
      kill(s.child, SIGKILL);
      while (waitpid(s.child, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
  for (const CleanupKind kind : {CleanupKind::File, CleanupKind::Folder, CleanupKind::EmptyFolder}) {
    for (Slot& s : g_slots) {
      if (s.state.load(std::memory_order_acquire) != kActive || s.child > 0 || s.kind != kind) continue;
      if (kind == CleanupKind::File) unlink(s.path);
      if (kind == CleanupKind::Folder) empty_folder_at(AT_FDCWD, s.path, 0);
      if (kind != CleanupKind::File) rmdir(s.path);
    }
  }
  // The default action now, so the exit status still says which signal ended the run. The signal
  // is blocked inside its handler: it is delivered, and kills, when the handler returns.
  signal(sig, SIG_DFL);
  raise(sig);
  errno = saved_errno;
}

}  // namespace

void install_cleanup_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) {
      struct sigaction old {};
      if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;   // nohup, background jobs
      struct sigaction sa {};
      sa.sa_handler = on_signal;
      sigfillset(&sa.sa_mask);   // one cleanup at a time
      sigaction(sig, &sa, nullptr);
    }
    signal(SIGXFSZ, SIG_IGN);   // past `ulimit -f`: EFBIG from write(), reported and cleaned up
  });
}

CleanupGuard::CleanupGuard(const std::string& path, CleanupKind kind) {
  if (path.empty() || path.size() >= kPathMax) return;
  slot_ = claim_slot();
  if (slot_ < 0) return;
  Slot& s = g_slots[slot_];
  s.kind = kind;
  s.child = 0;
  std::memcpy(s.path, path.c_str(), path.size() + 1);
  s.state.store(kActive, std::memory_order_release);
}

CleanupGuard::CleanupGuard(pid_t child) {
  if (child <= 0) return;
  slot_ = claim_slot();
  if (slot_ < 0) return;
  Slot& s = g_slots[slot_];
  s.child = child;
  s.path[0] = '\0';
  s.state.store(kActive, std::memory_order_release);
}

CleanupGuard& CleanupGuard::operator=(CleanupGuard&& other) noexcept {
  if (this != &other) {
    release();
    slot_ = other.slot_;
    other.slot_ = -1;
  }
  return *this;
}

void CleanupGuard::release() {
  if (slot_ < 0) return;
  g_slots[slot_].state.store(kFree, std::memory_order_release);
  slot_ = -1;
}

}  // namespace slimformer::io
