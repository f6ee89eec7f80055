// Per-environment state: every Node environment (main thread, each worker) that loads the addon
// gets its own, so nothing is shared across isolates.
#pragma once
#include <napi.h>
#include <cstdint>

namespace authsock {

struct AddonState {
  // [pid, uid, gid] of the last getPeerCredentials call: the hot path writes here instead of
  // building an object, and the JS wrapper reads it back. Off-heap, so the pointer is stable.
  Napi::Reference<Napi::ArrayBuffer> credentialsBuffer;
  uint32_t* credentials = nullptr;
};

}  // namespace authsock
