#include "packet_binding.h"

#include <cmath>
#include <cstdint>

#include "errors.h"
#include "packet.h"

namespace authsock {

static Napi::Error ArgumentError(Napi::Error error, const char* code) {
  error.Set("code", code);
  return error;
}

// An optional integer argument in [0, max]; `fallback` when undefined.
static size_t IntegerArgument(Napi::Env env, Napi::Value value, const char* name, size_t max,
                              size_t fallback) {
  if (value.IsUndefined()) return fallback;
  std::string range = std::string(name) + " must be an integer from 0 to " + std::to_string(max);
  if (!value.IsNumber()) {
    throw ArgumentError(Napi::TypeError::New(env, range), "ERR_INVALID_ARG_TYPE");
  }
  double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= 0 && number <= static_cast<double>(max)) || std::trunc(number) != number) {
    throw ArgumentError(Napi::RangeError::New(env, range), "ERR_INVALID_ARG_VALUE");
  }
  return static_cast<size_t>(number);
}

// Builds the { sequenceId, payload } objects of one push() into a JS array.
class JsPacketSink final : public PacketSink {
 public:
  JsPacketSink(Napi::Env env, Napi::Value sequenceIdKey, Napi::Value payloadKey)
      : env_(env), sequenceIdKey_(sequenceIdKey), payloadKey_(payloadKey),
        packets_(Napi::Array::New(env)) {}

  bool OnPacket(const PacketView& packet) override {
    try {
      Napi::Buffer<uint8_t> payload = Napi::Buffer<uint8_t>::New(env_, packet.payloadSize);
      packet.CopyPayloadTo(payload.Data());
      Napi::Object entry = Napi::Object::New(env_);
      entry.Set(sequenceIdKey_, Napi::Number::New(env_, packet.sequenceId));
      entry.Set(payloadKey_, payload);
      packets_.Set(count_++, entry);
      return true;
    } catch (const Napi::Error&) {
      return false;  // the decoder fails with ERR_PACKET_ALLOCATION
    }
  }

  Napi::Array Packets() const { return packets_; }

 private:
  Napi::Env env_;
  Napi::Value sequenceIdKey_, payloadKey_;
  Napi::Array packets_;
  uint32_t count_ = 0;
};

class PacketDecoder : public Napi::ObjectWrap<PacketDecoder> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PacketDecoder",
                       {InstanceMethod<&PacketDecoder::Push>("push"),
                        InstanceMethod<&PacketDecoder::ResetSequence>("resetSequence"),
                        InstanceMethod<&PacketDecoder::TakeBuffered>("takeBuffered"),
                        InstanceAccessor<&PacketDecoder::NextSequenceId>("nextSequenceId"),
                        InstanceAccessor<&PacketDecoder::BufferedBytes>("bufferedBytes")});
  }

  // new PacketDecoder({ maxPayloadSize = 16 MiB, sequenceId = 0, strictSequence = true } = {})
  explicit PacketDecoder(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<PacketDecoder>(info), core_(CoreFrom(info)) {}

 private:
  static PacketDecoderCore CoreFrom(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Value options = info[0];
    if (options.IsUndefined()) return PacketDecoderCore(kDefaultMaxPayloadSize, 0, true);
    if (!options.IsObject()) {
      throw ArgumentError(Napi::TypeError::New(env, "options must be an object"),
                          "ERR_INVALID_ARG_TYPE");
    }
    Napi::Object object = options.As<Napi::Object>();
    size_t maxPayloadSize = IntegerArgument(env, object.Get("maxPayloadSize"), "maxPayloadSize",
                                            kMaxMaxPayloadSize, kDefaultMaxPayloadSize);
    size_t sequenceId = IntegerArgument(env, object.Get("sequenceId"), "sequenceId", 255, 0);
    Napi::Value strict = object.Get("strictSequence");
    if (!strict.IsUndefined() && !strict.IsBoolean()) {
      throw ArgumentError(Napi::TypeError::New(env, "strictSequence must be a boolean"),
                          "ERR_INVALID_ARG_TYPE");
    }
    bool strictSequence = strict.IsUndefined() || strict.As<Napi::Boolean>().Value();
    return PacketDecoderCore(maxPayloadSize, static_cast<uint8_t>(sequenceId), strictSequence);
  }

  // push(chunk) -> { sequenceId, payload }[]: every packet the chunk completes, in one call.
  // Throws with `code` (and `packets`: those completed before the failure) once failed.
  Napi::Value Push(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw ArgumentError(Napi::TypeError::New(env, "chunk must be a Buffer or Uint8Array"),
                          "ERR_INVALID_ARG_TYPE");
    }
    Napi::Uint8Array chunk = info[0].As<Napi::Uint8Array>();
    // Keys made once per chunk, not once per packet.
    JsPacketSink sink(env, Napi::String::New(env, "sequenceId"), Napi::String::New(env, "payload"));
    PacketError error = core_.Push(chunk.Data(), chunk.ByteLength(), sink);
    ReportMemory(env);
    if (error != PacketError::kNone) {
      Napi::Error failure = CodedError(env, PacketErrorCode(error), core_.ErrorMessage());
      failure.Set("packets", sink.Packets());
      throw failure;
    }
    return sink.Packets();
  }

  // resetSequence(id = 0): a new command starts; the next packet must carry `id`.
  void ResetSequence(const Napi::CallbackInfo& info) {
    core_.ResetSequence(static_cast<uint8_t>(IntegerArgument(info.Env(), info[0], "id", 255, 0)));
  }

  // takeBuffered() -> Buffer: the bytes not returned as packets, exactly as received. The
  // decoder's memory for them is freed here, not when the decoder is collected.
  Napi::Value TakeBuffered(const Napi::CallbackInfo& info) {
    PendingBuffer bytes = core_.TakeBuffered();
    ReportMemory(info.Env());
    if (bytes.empty()) return Napi::Buffer<uint8_t>::New(info.Env(), 0);
    return Napi::Buffer<uint8_t>::Copy(info.Env(), bytes.data(), bytes.size());
  }

  Napi::Value NextSequenceId(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), core_.NextSequenceId());
  }

  Napi::Value BufferedBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(core_.BufferedBytes()));
  }

  // Tells V8 what the core holds outside its heap: to V8 a decoder is otherwise a small object,
  // and one holding a 16 MiB partial packet could wait indefinitely for a collection.
  void ReportMemory(Napi::Env env) {
    int64_t held = static_cast<int64_t>(core_.BufferedCapacity());
    if (held != reported_) Napi::MemoryManagement::AdjustExternalMemory(env, held - reported_);
    reported_ = held;
  }

 public:
  // The core frees its buffer with the decoder; the amount reported for it is given back here.
  // Public: node-addon-api calls it only when it can see it.
  void Finalize(Napi::BasicEnv env) override {
    if (reported_ != 0) Napi::MemoryManagement::AdjustExternalMemory(env, -reported_);
  }

 private:
  PacketDecoderCore core_;
  int64_t reported_ = 0;  // bytes last reported to V8 for core_
};

void InitPackets(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketDecoder", PacketDecoder::Define(env));
}

}  // namespace authsock
