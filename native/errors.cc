#include "errors.h"

#include <cerrno>
#include <cstring>

namespace authsock {

static std::string ErrnoName(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* name = strerrorname_np(err)) return name;
#endif
  return "E" + std::to_string(err);
}

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  std::string code = ErrnoName(err);
  Napi::Error error = Napi::Error::New(env, code + ": " + std::strerror(err) + ", " + syscall);
  error.Set("code", code);
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", syscall);
  return error;
}

Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message,
                       const char* syscall) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", code);
  if (syscall != nullptr) error.Set("syscall", syscall);
  return error;
}

}  // namespace authsock
