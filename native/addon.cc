#include "addon.h"

#include "nss_binding.h"
#include "packet_binding.h"
#include "peercred_binding.h"

using namespace authsock;

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* state = new AddonState();
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, 3 * sizeof(uint32_t));
  state->credentialsBuffer = Napi::Persistent(buffer);
  state->credentials = static_cast<uint32_t*>(buffer.Data());
  env.SetInstanceData<AddonState>(state);

  exports.Set("credentials", Napi::Uint32Array::New(env, 3, buffer, 0));
  exports.Set("sourceHash", Napi::String::New(env, AUTH_SOCKET_SOURCE_HASH));
  InitPeerCredentials(env, exports);
  InitNss(env, exports);
  InitPackets(env, exports);
  return exports;
}

NODE_API_MODULE(auth_socket, Init)
