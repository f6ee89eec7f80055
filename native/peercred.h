// Peer credentials and transport of a connected socket fd, straight from the kernel: the core,
// plain C++ without Node-API (peercred_binding.cc exposes it to JavaScript). The SO_PEERCRED
// read is the one of MySQL's plugin/auth/auth_socket.cc; the peer's pidfd (SO_PEERPIDFD,
// PIDFD_GET_INFO) is used as systemd's src/basic/pidref.c uses it, to pin the process.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace authsock {

// MySQL's enum_vio_protocol values (plugin_auth_common.h).
enum VioProtocol { kVioInvalid = 0, kVioTcp = 1, kVioSocket = 2, kVioPipe = 3, kVioMemory = 4 };

// Why a peer-credential read failed, for the glue to turn into its error: an errno from
// `syscall`, or one of the refusals that have no errno.
struct PeerFailure {
  enum Kind { kNone, kErrno, kNotUnixSocket, kNoPeer, kUnsupported };
  Kind kind = kNone;
  int err = 0;
  const char* syscall = nullptr;
};

struct PeerCredentials {
  uint32_t pid = 0, uid = 0, gid = 0;
};

// The peer's pid, uid and gid (SO_PEERCRED). With verifyTransport, refuses (kNotUnixSocket) a
// socket that is not AF_UNIX: on Linux SO_PEERCRED answers on TCP too.
PeerFailure ReadPeerCredentials(int fd, bool verifyTransport, PeerCredentials& out);

// The peer's supplementary gids (SO_PEERGROUPS). Returns 0, ENOPROTOOPT where the kernel has
// none to give (Linux < 4.13), or the errno.
int ReadPeerGroups(int fd, std::vector<uint32_t>& out);

// The peer's LSM label (SO_PEERSEC: SELinux context, AppArmor profile), trailing NULs removed;
// empty when there is none. Returns 0, ENOPROTOOPT where the kernel has none to give, or the
// errno.
int ReadPeerSecurityLabel(int fd, std::string& out);

// The socket's transport, decided from its address family like MySQL's vio. Returns 0 or the
// errno of getsockname.
int ReadSocketProtocol(int fd, VioProtocol& out);

// A connected AF_UNIX stream pair, close-on-exec. Returns 0 or the errno of socketpair.
int OpenSocketPair(int fds[2]);

// A pidfd for the process that connected (SO_PEERPIDFD, Linux >= 6.5), close-on-exec. Returns 0,
// or the errno: ENOPROTOOPT on a kernel without the option, EINVAL where the peer was already
// reaped (6.5 to 6.15; later kernels hand out a pidfd for it), ENODATA without a peer. On failure
// no fd is left open.
int OpenPeerPidfd(int fd, int& pidfd);

// What PIDFD_GET_INFO (Linux >= 6.13) says of a pidfd's process, in the reader's pid and user
// namespaces: version 0 of the kernel's struct pidfd_info, the fields we use.
struct PidfdInfo {
  uint64_t cgroupId = 0;  // the inode number of its cgroup v2 directory
  bool hasCgroupId = false;
  uint32_t pid = 0, ruid = 0, rgid = 0, euid = 0, egid = 0;
};

// Returns 0, ENOTTY or EINVAL on a kernel without PIDFD_GET_INFO, ESRCH when the process was
// reaped (or its pid or parent is not visible here), or another errno.
int ReadPidfdInfo(int pidfd, PidfdInfo& out);

// Whether the pidfd's process has exited (a zombie counts: it runs no more), by poll(2): a pidfd
// polls readable once its process has exited. Returns 0 or the errno.
int PidfdExited(int pidfd, bool& exited);

}  // namespace authsock
