// Peer credentials for JavaScript: the core (peercred.h) as Node-API functions.
#pragma once
#include <napi.h>

namespace authsock {

void InitPeerCredentials(Napi::Env env, Napi::Object exports);

}  // namespace authsock
