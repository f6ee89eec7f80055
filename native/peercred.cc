#include "peercred.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "addon.h"
#include "errors.h"

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

static int FdArgument(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "fd must be a non-negative integer");
  }
  int32_t fd = info[0].As<Napi::Number>().Int32Value();
  if (fd < 0) throw Napi::TypeError::New(info.Env(), "fd must be a non-negative integer");
  return fd;
}

static napi_value Throw(const Napi::Error& error) {
  error.ThrowAsJavaScriptException();
  return nullptr;
}

// peerCredentials(fd, verifyTransport) -> undefined, [pid, uid, gid] written to the shared
// Uint32Array. The hot path: plain Node-API, no property names, no object built per call, so a
// call costs one getsockopt (two with verifyTransport) plus the crossing into native code.
static napi_value PeerCredentials(napi_env raw_env, napi_callback_info cb) {
  Napi::Env env(raw_env);
  size_t argc = 2;
  napi_value argv[2];
  void* data = nullptr;
  if (napi_get_cb_info(raw_env, cb, &argc, argv, nullptr, &data) != napi_ok) return nullptr;
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(raw_env, argv[0], &fd) != napi_ok || fd < 0) {
    return Throw(Napi::TypeError::New(env, "fd must be a non-negative integer"));
  }
  bool verifyTransport = true;  // anything but an explicit false verifies: fail closed
  if (argc >= 2) {
    bool value = true;
    if (napi_get_value_bool(raw_env, argv[1], &value) == napi_ok) verifyTransport = value;
  }
  if (verifyTransport) {
    int family = AF_UNSPEC;
    if (int err = SocketFamily(fd, &family)) return Throw(ErrnoError(env, err, "getsockname"));
    if (family != AF_UNIX) {
      return Throw(CodedError(env, "ERR_NOT_UNIX_SOCKET",
                              "peer credentials are only trusted on a Unix-domain socket",
                              "getsockname"));
    }
  }
#ifdef SO_PEERCRED
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return Throw(ErrnoError(env, errno, "getsockopt"));
  }
  // A short answer, or the kernel's "no peer" marker (an unconnected socket), is no identity.
  if (len != sizeof cred || cred.uid == static_cast<uid_t>(-1)) {
    return Throw(CodedError(env, "ERR_NO_PEER_CREDENTIALS",
                            "the socket has no connected peer with credentials", "getsockopt"));
  }
  uint32_t* out = static_cast<AddonState*>(data)->credentials;
  out[0] = static_cast<uint32_t>(cred.pid);
  out[1] = static_cast<uint32_t>(cred.uid);
  out[2] = static_cast<uint32_t>(cred.gid);
  return nullptr;
#else
  return Throw(CodedError(env, "ERR_PEER_CREDENTIALS_UNSUPPORTED",
                          "this platform has no SO_PEERCRED", "getsockopt"));
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

// peerGroups(fd) -> number[] of the peer's supplementary gids, or undefined where the kernel has
// no SO_PEERGROUPS (Linux < 4.13).
static Napi::Value PeerGroups(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArgument(info);
#ifdef SO_PEERGROUPS
  std::vector<char> buf(32 * sizeof(gid_t));
  int err = GetGrowingSockopt(fd, SO_PEERGROUPS, buf, 65536 * sizeof(gid_t));
  if (err == ENOPROTOOPT) return env.Undefined();
  if (err != 0) throw ErrnoError(env, err, "getsockopt");
  size_t count = buf.size() / sizeof(gid_t);
  const gid_t* gids = reinterpret_cast<const gid_t*>(buf.data());
  Napi::Array out = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; i++) out.Set(i, Napi::Number::New(env, gids[i]));
  return out;
#else
  (void)fd;
  return env.Undefined();
#endif
}

// peerSecurityLabel(fd) -> the peer's LSM label (SELinux context, AppArmor profile), or undefined
// when the kernel has none to give.
static Napi::Value PeerSecurityLabel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArgument(info);
#ifdef SO_PEERSEC
  std::vector<char> buf(256);
  int err = GetGrowingSockopt(fd, SO_PEERSEC, buf, 65536);
  if (err == ENOPROTOOPT) return env.Undefined();
  if (err != 0) throw ErrnoError(env, err, "getsockopt");
  size_t len = buf.size();
  while (len > 0 && buf[len - 1] == '\0') len--;
  if (len == 0) return env.Undefined();
  return Napi::String::New(env, buf.data(), len);
#else
  (void)fd;
  return env.Undefined();
#endif
}

// socketProtocol(fd) -> VioProtocol, decided from the address family like MySQL's vio.
static Napi::Value SocketProtocol(const Napi::CallbackInfo& info) {
  int family = AF_UNSPEC;
  if (int err = SocketFamily(FdArgument(info), &family)) {
    throw ErrnoError(info.Env(), err, "getsockname");
  }
  return Napi::Number::New(info.Env(), ProtocolOf(family));
}

// socketPair() -> [fd, fd]: a connected AF_UNIX stream pair (close-on-exec), e.g. to hand one end
// to a child process.
static Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw ErrnoError(info.Env(), errno, "socketpair");
  }
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  out.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return out;
}

void InitPeerCredentials(Napi::Env env, Napi::Object exports) {
  napi_value fn;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, "peerCredentials", NAPI_AUTO_LENGTH,
                                                      PeerCredentials,
                                                      env.GetInstanceData<AddonState>(), &fn));
  exports.Set("peerCredentials", fn);
  exports.Set("peerGroups", Napi::Function::New(env, PeerGroups, "peerGroups"));
  exports.Set("peerSecurityLabel", Napi::Function::New(env, PeerSecurityLabel, "peerSecurityLabel"));
  exports.Set("socketProtocol", Napi::Function::New(env, SocketProtocol, "socketProtocol"));
  exports.Set("socketPair", Napi::Function::New(env, SocketPair, "socketPair"));
}

}  // namespace authsock
