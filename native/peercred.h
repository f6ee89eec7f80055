// Peer credentials and transport of a connected socket fd, straight from the kernel.
#pragma once
#include <napi.h>

namespace authsock {

// MySQL's enum_vio_protocol values (plugin_auth_common.h).
enum VioProtocol { kVioInvalid = 0, kVioTcp = 1, kVioSocket = 2, kVioPipe = 3, kVioMemory = 4 };

void InitPeerCredentials(Napi::Env env, Napi::Object exports);

}  // namespace authsock
