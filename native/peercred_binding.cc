#include "peercred_binding.h"

#include <cerrno>
#include <string>
#include <vector>

#include "addon.h"
#include "errors.h"
#include "peercred.h"

namespace authsock {

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

static Napi::Error PeerError(Napi::Env env, const PeerFailure& failure) {
  switch (failure.kind) {
    case PeerFailure::kNotUnixSocket:
      return CodedError(env, "ERR_NOT_UNIX_SOCKET",
                        "peer credentials are only trusted on a Unix-domain socket", failure.syscall);
    case PeerFailure::kNoPeer:
      return CodedError(env, "ERR_NO_PEER_CREDENTIALS",
                        "the socket has no connected peer with credentials", failure.syscall);
    case PeerFailure::kUnsupported:
      return CodedError(env, "ERR_PEER_CREDENTIALS_UNSUPPORTED", "this platform has no SO_PEERCRED",
                        failure.syscall);
    case PeerFailure::kErrno:
    case PeerFailure::kNone:
      break;
  }
  return ErrnoError(env, failure.err, failure.syscall);
}

// peerCredentials(fd, verifyTransport) -> undefined, [pid, uid, gid] written to the shared
// Uint32Array. The hot path: plain Node-API, no property names, no object built per call, so a
// call costs one getsockopt (two with verifyTransport) plus the crossing into native code.
static napi_value PeerCredentialsFn(napi_env raw_env, napi_callback_info cb) {
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
  PeerCredentials cred;
  PeerFailure failure = ReadPeerCredentials(fd, verifyTransport, cred);
  if (failure.kind != PeerFailure::kNone) return Throw(PeerError(env, failure));
  uint32_t* out = static_cast<AddonState*>(data)->credentials;
  out[0] = cred.pid;
  out[1] = cred.uid;
  out[2] = cred.gid;
  return nullptr;
}

// peerGroups(fd) -> number[] of the peer's supplementary gids, or undefined where the kernel has
// no SO_PEERGROUPS (Linux < 4.13).
static Napi::Value PeerGroups(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<uint32_t> gids;
  int err = ReadPeerGroups(FdArgument(info), gids);
  if (err == ENOPROTOOPT) return env.Undefined();
  if (err != 0) throw ErrnoError(env, err, "getsockopt");
  Napi::Array out = Napi::Array::New(env, gids.size());
  for (size_t i = 0; i < gids.size(); i++) out.Set(i, Napi::Number::New(env, gids[i]));
  return out;
}

// peerSecurityLabel(fd) -> the peer's LSM label (SELinux context, AppArmor profile), or undefined
// when the kernel has none to give.
static Napi::Value PeerSecurityLabel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string label;
  int err = ReadPeerSecurityLabel(FdArgument(info), label);
  if (err == ENOPROTOOPT) return env.Undefined();
  if (err != 0) throw ErrnoError(env, err, "getsockopt");
  if (label.empty()) return env.Undefined();
  return Napi::String::New(env, label);
}

// socketProtocol(fd) -> VioProtocol, decided from the address family like MySQL's vio.
static Napi::Value SocketProtocol(const Napi::CallbackInfo& info) {
  VioProtocol protocol = kVioInvalid;
  if (int err = ReadSocketProtocol(FdArgument(info), protocol)) {
    throw ErrnoError(info.Env(), err, "getsockname");
  }
  return Napi::Number::New(info.Env(), protocol);
}

// socketPair() -> [fd, fd]: a connected AF_UNIX stream pair (close-on-exec), e.g. to hand one end
// to a child process.
static Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  int fds[2];
  if (int err = OpenSocketPair(fds)) throw ErrnoError(info.Env(), err, "socketpair");
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  out.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return out;
}

// peerPidfd(fd) -> a pidfd (close-on-exec) for the process that connected. Throws the errno of
// getsockopt (ENOPROTOOPT: no SO_PEERPIDFD; EINVAL: peer already reaped, before Linux 6.16).
static Napi::Value PeerPidfd(const Napi::CallbackInfo& info) {
  int pidfd = -1;
  if (int err = OpenPeerPidfd(FdArgument(info), pidfd)) throw ErrnoError(info.Env(), err, "getsockopt");
  return Napi::Number::New(info.Env(), pidfd);
}

// pidfdInfo(pidfd) -> { pid, ruid, rgid, euid, egid, cgroupId?: bigint } from PIDFD_GET_INFO, or
// undefined on a kernel without it (before Linux 6.13). Throws the errno of ioctl (ESRCH: reaped).
static Napi::Value PidfdInfoFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PidfdInfo out;
  int err = ReadPidfdInfo(FdArgument(info), out);
  if (err == ENOTTY || err == EINVAL) return env.Undefined();
  if (err != 0) throw ErrnoError(env, err, "ioctl");
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, out.pid));
  result.Set("ruid", Napi::Number::New(env, out.ruid));
  result.Set("rgid", Napi::Number::New(env, out.rgid));
  result.Set("euid", Napi::Number::New(env, out.euid));
  result.Set("egid", Napi::Number::New(env, out.egid));
  if (out.hasCgroupId) result.Set("cgroupId", Napi::BigInt::New(env, out.cgroupId));
  return result;
}

// pidfdExited(pidfd) -> whether its process has exited (poll readable; zombies included).
static Napi::Value PidfdExitedFn(const Napi::CallbackInfo& info) {
  bool exited = false;
  if (int err = PidfdExited(FdArgument(info), exited)) throw ErrnoError(info.Env(), err, "poll");
  return Napi::Boolean::New(info.Env(), exited);
}

void InitPeerCredentials(Napi::Env env, Napi::Object exports) {
  napi_value fn;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, "peerCredentials", NAPI_AUTO_LENGTH,
                                                      PeerCredentialsFn,
                                                      env.GetInstanceData<AddonState>(), &fn));
  exports.Set("peerCredentials", fn);
  exports.Set("peerGroups", Napi::Function::New(env, PeerGroups, "peerGroups"));
  exports.Set("peerSecurityLabel", Napi::Function::New(env, PeerSecurityLabel, "peerSecurityLabel"));
  exports.Set("socketProtocol", Napi::Function::New(env, SocketProtocol, "socketProtocol"));
  exports.Set("socketPair", Napi::Function::New(env, SocketPair, "socketPair"));
  exports.Set("peerPidfd", Napi::Function::New(env, PeerPidfd, "peerPidfd"));
  exports.Set("pidfdInfo", Napi::Function::New(env, PidfdInfoFn, "pidfdInfo"));
  exports.Set("pidfdExited", Napi::Function::New(env, PidfdExitedFn, "pidfdExited"));
}

}  // namespace authsock
