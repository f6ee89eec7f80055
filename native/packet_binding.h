// PacketDecoder for JavaScript: the decoder core (packet.h) as a Node-API class.
#pragma once
#include <napi.h>

namespace authsock {

void InitPackets(Napi::Env env, Napi::Object exports);

}  // namespace authsock
