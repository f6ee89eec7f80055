// NSS lookups for JavaScript: the core (nss.h) as lookupSync, and as lookup on libuv's pool.
#pragma once
#include <napi.h>

namespace authsock {

void InitNss(Napi::Env env, Napi::Object exports);

}  // namespace authsock
