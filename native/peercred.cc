// The peer-credential core (see peercred.h).
#include "peercred.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>

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

}  // namespace authsock
