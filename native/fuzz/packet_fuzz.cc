// libFuzzer target for the packet decoder core. The input picks the decoder's settings, how the
// rest is cut into chunks, and where ResetSequence, TakeBuffered and a refusing sink strike.
// Whatever happens, the packets handed out (re-encoded: framing is canonical) and the bytes taken
// back must reproduce exactly what was pushed, payloads must respect the limit, a failed decoder
// must keep failing with the same error, and a decoder with nothing buffered must hold no
// page-backed memory (TakeBuffered: none at all).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../packet.h"

using authsock::PacketDecoderCore;
using authsock::PacketError;
using authsock::PacketView;

#define CHECK(condition)                                                \
  do {                                                                  \
    if (!(condition)) {                                                 \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                     \
    }                                                                   \
  } while (0)

namespace {

// Built a second time with PACKET_FUZZ_CONTINUED, every input starts with a full 0xFFFFFF-byte
// physical packet, so the fuzzed bytes continue a logical payload across the continuation
// boundary. That costs 16 MiB per run, so it is a target of its own rather than a mode the fast
// one would keep picking.
#ifdef PACKET_FUZZ_CONTINUED
constexpr bool kContinued = true;
#else
constexpr bool kContinued = false;
#endif

// The test oracle's encoder: 0xFFFFFF-byte physical packets until a shorter one.
void AppendFrames(const std::vector<uint8_t>& payload, uint8_t sequenceId, std::vector<uint8_t>& out) {
  size_t offset = 0;
  for (;;) {
    size_t length = std::min(payload.size() - offset, authsock::kMaxPhysicalPayload);
    out.push_back(length & 0xff);
    out.push_back((length >> 8) & 0xff);
    out.push_back((length >> 16) & 0xff);
    out.push_back(sequenceId++);
    out.insert(out.end(), payload.begin() + offset, payload.begin() + offset + length);
    offset += length;
    if (length < authsock::kMaxPhysicalPayload) return;
  }
}

// Deterministic choices drawn from the input.
class Choices {
 public:
  Choices(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return used_ < size_ ? data_[used_++] : 0; }
  const uint8_t* Rest() const { return data_ + used_; }
  size_t RestSize() const { return size_ - used_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t used_ = 0;
};

class RecordingSink : public authsock::PacketSink {
 public:
  RecordingSink(size_t maxPayloadSize, std::vector<uint8_t>& output)
      : maxPayloadSize_(maxPayloadSize), output_(output) {}

  // Refuses the packet after `count` more have been taken (0: never refuse).
  void RefuseAfter(size_t count) { refuseAfter_ = count; }

  bool OnPacket(const PacketView& packet) override {
    if (refuseAfter_ > 0 && --refuseAfter_ == 0) return false;
    CHECK(packet.payloadSize <= maxPayloadSize_);
    static std::vector<uint8_t> payload;  // reused across runs, like the buffers below
    payload.resize(packet.payloadSize);
    packet.CopyPayloadTo(payload.data());
    size_t before = output_.size();
    AppendFrames(payload, packet.sequenceId, output_);
    // The view's frames are the packet's exact wire bytes.
    CHECK(output_.size() - before == packet.framesSize);
    CHECK(std::equal(packet.frames, packet.frames + packet.framesSize, output_.begin() + before));
    return true;
  }

 private:
  size_t maxPayloadSize_;
  std::vector<uint8_t>& output_;
  size_t refuseAfter_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Choices choices(data, size);
  uint8_t mode = choices.Byte();
  uint8_t sequenceId = choices.Byte();
  uint8_t limit = choices.Byte();
  size_t maxPayloadSize = kContinued ? authsock::kMaxPhysicalPayload + limit * 16u : limit * 4u;

  // Reused across runs: in the continued target they hold 16 MiB.
  static std::vector<uint8_t> stream, output;
  output.clear();
  size_t prefix = kContinued ? authsock::kPacketHeaderSize + authsock::kMaxPhysicalPayload : 0;
  if (kContinued && stream.size() < prefix) {
    stream.assign(prefix, 0);
    stream[0] = stream[1] = stream[2] = 0xff;
  }
  if (kContinued) stream[3] = sequenceId;
  stream.resize(prefix);
  stream.insert(stream.end(), choices.Rest(), choices.Rest() + choices.RestSize());

  PacketDecoderCore decoder(maxPayloadSize, sequenceId, (mode & 8) == 0);
  RecordingSink sink(maxPayloadSize, output);
  if (mode & 1) sink.RefuseAfter(1 + (mode >> 5));

  PacketError failure = PacketError::kNone;
  size_t offset = 0;
  size_t pushed = 0;  // the decoder took stream[0, pushed)
  uint8_t step = mode;
  while (offset < stream.size()) {
    step = static_cast<uint8_t>(step * 31 + 7);
    // Small chunks; in the continued target one chunk runs up to a little before the boundary.
    // With mode bit 16 a small chunk comes first, so the pending buffer starts on the heap and
    // moves to pages as it grows.
    bool head = kContinued && offset + 97 < prefix && !(offset == 0 && (mode & 16));
    size_t length = head ? prefix - step % 97 - offset : 1 + step % 97;
    length = std::min(length, stream.size() - offset);
    const uint8_t* chunk = stream.data() + offset;
    offset += length;
    PacketError error = decoder.Push(chunk, length, sink);
    if (failure != PacketError::kNone) {
      CHECK(error == failure);  // stays failed, and takes nothing more
      continue;
    }
    pushed = offset;
    if (error != PacketError::kNone) {
      CHECK(decoder.Error() == error && !decoder.ErrorMessage().empty());
      failure = error;
      continue;
    }
    CHECK(decoder.BufferedCapacity() >= decoder.BufferedBytes());
    if (decoder.BufferedBytes() == 0) CHECK(decoder.BufferedCapacity() < authsock::kPageBackedCapacity);
    if ((mode & 2) && step % 13 == 0) decoder.ResetSequence(step);
    if ((mode & 4) && step % 17 == 0) {
      authsock::PendingBuffer taken = decoder.TakeBuffered();
      CHECK(decoder.BufferedBytes() == 0 && decoder.BufferedCapacity() == 0);
      output.insert(output.end(), taken.data(), taken.data() + taken.size());
    }
  }
  authsock::PendingBuffer rest = decoder.TakeBuffered();
  CHECK(decoder.BufferedCapacity() == 0);
  output.insert(output.end(), rest.data(), rest.data() + rest.size());
  CHECK(output.size() == pushed && std::equal(output.begin(), output.end(), stream.begin()));
  return 0;
}
