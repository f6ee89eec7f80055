// MySQL packet framing: the incremental decoder core, plain C++ without Node-API so the libFuzzer
// harness links it on its own (packet_binding.cc exposes it to JavaScript). Mirrors the reading
// half of MySQL's sql-common/net_serv.cc (my_net_read and its multi-packet assembly).
//
// Wire format: payload length int<3> little-endian, sequence id int<1>, payload. A physical
// payload of exactly 0xFFFFFF bytes means "continued": the logical payload goes on in the next
// physical packet, and a logical payload that is an exact multiple ends with an empty one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace authsock {

constexpr size_t kPacketHeaderSize = 4;
constexpr size_t kMaxPhysicalPayload = 0xFFFFFF;
constexpr size_t kDefaultMaxPayloadSize = 16 * 1024 * 1024;
// MySQL's own ceiling for max_allowed_packet; also keeps every payload inside a Node Buffer.
constexpr size_t kMaxMaxPayloadSize = 1024 * 1024 * 1024;

// From this capacity on, a pending buffer is an anonymous mapping of its own rather than malloc
// memory, and it is unmapped as soon as its packet is out (see PendingBuffer).
constexpr size_t kPageBackedCapacity = 16 * 1024;

enum class PacketError { kNone, kSequence, kTooLarge, kAllocation };

// The `code` a JavaScript error carries for `error` (nullptr for kNone).
const char* PacketErrorCode(PacketError error);

// One complete logical packet, still in its wire form: `frames` are its physical packets,
// headers included, as validated by the decoder.
struct PacketView {
  uint8_t sequenceId;  // of the first physical packet
  size_t payloadSize;
  const uint8_t* frames;
  size_t framesSize;

  // Copies the payload (the frames without their headers) to `out`, which holds payloadSize bytes.
  void CopyPayloadTo(uint8_t* out) const;
};

// The growable buffer that holds a partial packet. Below kPageBackedCapacity it lives on the
// malloc heap; from there on it is its own mmap'd region, grown with mremap (no copy) and unmapped
// on Release, so its pages go back to the OS at once. Freed malloc memory of that size would stay
// in the process: glibc gives back only the top of its heap, and after the first large free its
// dynamic mmap threshold rises (up to 32 MiB), so later large buffers land in that heap too.
class PendingBuffer {
 public:
  PendingBuffer() = default;
  PendingBuffer(PendingBuffer&& other) noexcept;
  PendingBuffer& operator=(PendingBuffer&& other) noexcept;
  PendingBuffer(const PendingBuffer&) = delete;
  PendingBuffer& operator=(const PendingBuffer&) = delete;
  ~PendingBuffer() { Release(); }

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // The bytes allocated (for a page-backed buffer, mapped), whether used yet or not.
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  bool PageBacked() const { return capacity_ >= kPageBackedCapacity; }

  // Appends [begin, end), growing geometrically; false, with the buffer unchanged, when memory
  // runs out.
  bool Append(const uint8_t* begin, const uint8_t* end);
  void Clear() { size_ = 0; }
  // Frees the memory; the buffer is empty with no capacity.
  void Release();

 private:
  bool Grow(size_t needed);

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

class PacketSink {
 public:
  virtual ~PacketSink() = default;
  // Called for each complete logical packet, in order; `packet` is only valid during the call.
  // Returning false (the sink could not take it) fails the decoder at that packet.
  virtual bool OnPacket(const PacketView& packet) = 0;
};

class PacketDecoderCore {
 public:
  // With strictSequence false, a logical packet may start with any id (it is reported, for a
  // caller that checks ids when it consumes packets rather than when they arrive); the physical
  // packets of one logical packet must count up from its first either way.
  PacketDecoderCore(size_t maxPayloadSize, uint8_t sequenceId, bool strictSequence);

  // Decodes a whole chunk, handing every logical packet it completes to `sink`. Returns kNone,
  // or the error that failed the decoder; once failed, every call returns that error again. The
  // bytes from the start of the failing packet to the end of the chunk stay buffered, so the
  // packets handed out plus Buffered() always reproduce the input exactly.
  PacketError Push(const uint8_t* data, size_t size, PacketSink& sink);

  // Sets the id the next logical packet must start with; a partly received packet is checked
  // again under it on the next Push. No effect once failed.
  void ResetSequence(uint8_t sequenceId);

  // Removes and returns the raw bytes not handed out as packets, exactly as received; the decoder
  // keeps no memory for them.
  PendingBuffer TakeBuffered();

  uint8_t NextSequenceId() const { return nextSequenceId_; }
  size_t BufferedBytes() const { return pending_.size(); }
  // What the decoder holds in memory for its buffered bytes (a caller reports it to its GC).
  size_t BufferedCapacity() const { return pending_.capacity(); }
  PacketError Error() const { return error_; }
  const std::string& ErrorMessage() const { return errorMessage_; }

 private:
  struct ScanResult {
    size_t consumed;
    PacketError error;
    bool complete;
  };

  // Advances the header/payload state machine of the pending logical packet over `data`,
  // stopping at its end or at an error.
  ScanResult Scan(const uint8_t* data, size_t size);
  void RestartScan();
  void ReleasePending();
  PacketError Fail(PacketError error);

  const size_t maxPayloadSize_;
  const bool strictSequence_;
  uint8_t nextSequenceId_;  // the id the next logical packet must (strict) or should start with
  PacketError error_ = PacketError::kNone;
  std::string errorMessage_;

  // Raw bytes of the incomplete logical packet (from its first header on), or after a failure
  // everything from the failing packet on. Grows as needed; a page-backed one is released when
  // its packet is out, so a connection keeps at most a small heap buffer between packets.
  PendingBuffer pending_;
  size_t pendingScanned_ = 0;  // how much of pending_ the scan state below has seen

  // Scan state of the pending logical packet.
  bool started_ = false;  // its first header was accepted
  uint8_t firstSequenceId_ = 0;
  uint8_t header_[kPacketHeaderSize] = {};
  size_t headerFill_ = 0;
  size_t physicalRemaining_ = 0;
  bool continued_ = false;
  size_t logicalSize_ = 0;
  uint8_t scanSequenceId_;
};

}  // namespace authsock
