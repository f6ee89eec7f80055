// The peer-credential core (see peercred.h).
#include "peercred.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>

// SO_PEERPIDFD (Linux 6.5) is 77 in asm-generic/socket.h, which x86, arm, arm64, riscv, s390,
// powerpc, alpha and mips all follow; parisc and sparc number it otherwise, so they go without.
// Older system headers lack it although the running kernel may have it: define it ourselves.
#if !defined(SO_PEERPIDFD) && defined(__linux__) && !defined(__hppa__) && !defined(__sparc__)
#define SO_PEERPIDFD 77
#endif

namespace authsock {

// getsockname() is how MySQL tells SOCKET from TCP; SO_PEERCRED cannot be used for that because
// on Linux it succeeds on a TCP socket too (with uid 4294967295).
static int SocketFamily(int fd, int* family) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return errno;
  *family = addr.ss_family;
  return 0;
}

static VioProtocol ProtocolOf(int family) {
  switch (family) {
    case AF_UNIX: return kVioSocket;
    case AF_INET:
    case AF_INET6: return kVioTcp;
    default: return kVioInvalid;
  }
}

PeerFailure ReadPeerCredentials(int fd, bool verifyTransport, PeerCredentials& out) {
  if (verifyTransport) {
    int family = AF_UNSPEC;
    if (int err = SocketFamily(fd, &family)) return {PeerFailure::kErrno, err, "getsockname"};
    if (family != AF_UNIX) return {PeerFailure::kNotUnixSocket, 0, "getsockname"};
  }
#ifdef SO_PEERCRED
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return {PeerFailure::kErrno, errno, "getsockopt"};
  }
  // A short answer, or the kernel's "no peer" marker (an unconnected socket), is no identity.
  if (len != sizeof cred || cred.uid == static_cast<uid_t>(-1)) {
    return {PeerFailure::kNoPeer, 0, "getsockopt"};
  }
  out.pid = static_cast<uint32_t>(cred.pid);
  out.uid = static_cast<uint32_t>(cred.uid);
  out.gid = static_cast<uint32_t>(cred.gid);
  return {};
#else
  (void)fd;
  (void)out;
  return {PeerFailure::kUnsupported, 0, "getsockopt"};
#endif
}

// Reads a variable-length socket option, growing the buffer when the kernel says ERANGE (it then
// reports the size it needs). Returns 0, or the errno.
static int GetGrowingSockopt(int fd, int option, std::vector<char>& buf, size_t limit) {
  for (;;) {
    socklen_t len = static_cast<socklen_t>(buf.size());
    if (getsockopt(fd, SOL_SOCKET, option, buf.data(), &len) == 0) {
      buf.resize(len);
      return 0;
    }
    int err = errno;
    if (err != ERANGE) return err;
    size_t wanted = len > buf.size() ? len : buf.size() * 2;
    if (wanted > limit) return ERANGE;
    buf.resize(wanted);
  }
}

int ReadPeerGroups(int fd, std::vector<uint32_t>& out) {
#ifdef SO_PEERGROUPS
  std::vector<char> buf(32 * sizeof(gid_t));
  if (int err = GetGrowingSockopt(fd, SO_PEERGROUPS, buf, 65536 * sizeof(gid_t))) return err;
  size_t count = buf.size() / sizeof(gid_t);
  const gid_t* gids = reinterpret_cast<const gid_t*>(buf.data());
  out.assign(gids, gids + count);
  return 0;
#else
  (void)fd;
  (void)out;
  return ENOPROTOOPT;
#endif
}

int ReadPeerSecurityLabel(int fd, std::string& out) {
#ifdef SO_PEERSEC
  std::vector<char> buf(256);
  if (int err = GetGrowingSockopt(fd, SO_PEERSEC, buf, 65536)) return err;
  size_t len = buf.size();
  while (len > 0 && buf[len - 1] == '\0') len--;
  out.assign(buf.data(), len);
  return 0;
#else
  (void)fd;
  (void)out;
  return ENOPROTOOPT;
#endif
}

int ReadSocketProtocol(int fd, VioProtocol& out) {
  int family = AF_UNSPEC;
  if (int err = SocketFamily(fd, &family)) return err;
  out = ProtocolOf(family);
  return 0;
}

int OpenSocketPair(int fds[2]) {
  return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0 ? errno : 0;
}

int OpenPeerPidfd(int fd, int& pidfd) {
#ifdef SO_PEERPIDFD
  int value = -1;
  socklen_t len = sizeof value;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &value, &len) != 0) return errno;
  if (len != sizeof value || value < 0) return EPROTO;
  // The kernel opens it O_CLOEXEC; a pidfd leaked into a spawned program would keep the peer's
  // struct pid and let that program signal it, so check rather than trust, and never leak it.
  int flags = fcntl(value, F_GETFD);
  if (flags < 0 || (!(flags & FD_CLOEXEC) && fcntl(value, F_SETFD, flags | FD_CLOEXEC) != 0)) {
    int err = errno;
    close(value);
    return err;
  }
  pidfd = value;
  return 0;
#else
  (void)fd;
  (void)pidfd;
  return ENOPROTOOPT;
#endif
}

// Version 0 of the kernel's struct pidfd_info (include/uapi/linux/pidfd.h, Linux 6.13), declared
// here because system headers trail the kernel, and never taken from them: a newer header's
// longer struct would change the size encoded in the request. The kernel takes any size from
// version 0's 64 bytes up and copies what both sides know.
struct PidfdInfoV0 {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  uint32_t spare0[1];
};
static_assert(sizeof(PidfdInfoV0) == 64, "PIDFD_INFO_SIZE_VER0 is 64 bytes");
static const unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfoV0);  // PIDFS_IOCTL_MAGIC, 11
static const uint64_t kPidfdInfoPid = 1u << 0;
static const uint64_t kPidfdInfoCreds = 1u << 1;
static const uint64_t kPidfdInfoCgroupId = 1u << 2;

int ReadPidfdInfo(int pidfd, PidfdInfo& out) {
  PidfdInfoV0 info{};
  info.mask = kPidfdInfoPid | kPidfdInfoCreds | kPidfdInfoCgroupId;
  if (ioctl(pidfd, kPidfdGetInfo, &info) != 0) return errno;
  // The kernel always answers with the pid and credentials; without them it is not this ioctl.
  if ((info.mask & (kPidfdInfoPid | kPidfdInfoCreds)) != (kPidfdInfoPid | kPidfdInfoCreds)) return EPROTO;
  out.pid = info.pid;
  out.ruid = info.ruid;
  out.rgid = info.rgid;
  out.euid = info.euid;
  out.egid = info.egid;
  out.hasCgroupId = (info.mask & kPidfdInfoCgroupId) != 0;
  out.cgroupId = info.cgroupid;
  return 0;
}

int PidfdExited(int pidfd, bool& exited) {
  pollfd p{pidfd, POLLIN, 0};
  int ready;
  do {
    ready = poll(&p, 1, 0);
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) return errno;
  if (p.revents & POLLNVAL) return EBADF;
  exited = ready > 0 && (p.revents & (POLLIN | POLLHUP)) != 0;
  return 0;
}

}  // namespace authsock
