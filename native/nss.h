// passwd / group lookups through NSS (getpwuid_r and friends), sync and off the event loop.
#pragma once
#include <napi.h>

namespace authsock {

void InitNss(Napi::Env env, Napi::Object exports);

}  // namespace authsock
