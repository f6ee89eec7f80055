// Errors thrown to JavaScript carry Node's usual shape: code, errno (negative, as in Node's
// system errors) and syscall, so callers can branch on err.code.
#pragma once
#include <napi.h>
#include <string>

namespace authsock {

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall);
Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message,
                       const char* syscall = nullptr);

}  // namespace authsock
