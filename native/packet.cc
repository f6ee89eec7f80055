// The packet decoder core and its pending buffer (see packet.h).
#include "packet.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace authsock {

static size_t PageSize() {
  static const size_t size = [] {
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? static_cast<size_t>(page) : size_t{4096};
  }();
  return size;
}

static size_t PhysicalLength(const uint8_t* header) {
  return static_cast<size_t>(header[0]) | static_cast<size_t>(header[1]) << 8 |
         static_cast<size_t>(header[2]) << 16;
}

const char* PacketErrorCode(PacketError error) {
  switch (error) {
    case PacketError::kNone: return nullptr;
    case PacketError::kSequence: return "ERR_PACKET_SEQUENCE";
    case PacketError::kTooLarge: return "ERR_PACKET_TOO_LARGE";
    case PacketError::kAllocation: return "ERR_PACKET_ALLOCATION";
  }
  return "ERR_PACKET_ALLOCATION";
}

void PacketView::CopyPayloadTo(uint8_t* out) const {
  // Every physical packet but the last is full, so where the payload lies follows from
  // payloadSize alone: the lengths are not read again from frames that the caller may share.
  size_t copied = 0;
  for (size_t offset = kPacketHeaderSize;; offset += kPacketHeaderSize + kMaxPhysicalPayload) {
    size_t length = std::min(kMaxPhysicalPayload, payloadSize - copied);
    if (offset > framesSize || length > framesSize - offset) return;
    if (length > 0) std::memcpy(out + copied, frames + offset, length);
    copied += length;
    if (length < kMaxPhysicalPayload) return;
  }
}

PendingBuffer::PendingBuffer(PendingBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

PendingBuffer& PendingBuffer::operator=(PendingBuffer&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

bool PendingBuffer::Append(const uint8_t* begin, const uint8_t* end) {
  size_t count = static_cast<size_t>(end - begin);
  if (count == 0) return true;
  if (count > SIZE_MAX - size_) return false;
  if (size_ + count > capacity_ && !Grow(size_ + count)) return false;
  std::memcpy(data_ + size_, begin, count);
  size_ += count;
  return true;
}

bool PendingBuffer::Grow(size_t needed) {
  // Doubling keeps appending amortized linear; the first allocation is just what is needed.
  size_t wanted = capacity_ <= SIZE_MAX / 2 ? std::max(needed, capacity_ * 2) : needed;
  if (wanted < kPageBackedCapacity) {
    void* grown = std::realloc(data_, wanted);
    if (grown == nullptr) return false;
    data_ = static_cast<uint8_t*>(grown);
    capacity_ = wanted;
    return true;
  }
  size_t page = PageSize();
  if (wanted > SIZE_MAX - (page - 1)) return false;
  wanted = (wanted + page - 1) / page * page;
  void* mapped;
  if (PageBacked()) {
    mapped = mremap(data_, capacity_, wanted, MREMAP_MAYMOVE);
  } else {
    mapped = mmap(nullptr, wanted, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped != MAP_FAILED) {
      if (size_ > 0) std::memcpy(mapped, data_, size_);
      std::free(data_);
    }
  }
  if (mapped == MAP_FAILED) return false;
  data_ = static_cast<uint8_t*>(mapped);
  capacity_ = wanted;
  return true;
}

void PendingBuffer::Release() {
  if (PageBacked()) {
    munmap(data_, capacity_);
  } else {
    std::free(data_);
  }
  data_ = nullptr;
  size_ = 0;
  capacity_ = 0;
}

PacketDecoderCore::PacketDecoderCore(size_t maxPayloadSize, uint8_t sequenceId, bool strictSequence)
    : maxPayloadSize_(maxPayloadSize),
      strictSequence_(strictSequence),
      nextSequenceId_(sequenceId),
      scanSequenceId_(sequenceId) {}

void PacketDecoderCore::RestartScan() {
  started_ = false;
  headerFill_ = 0;
  physicalRemaining_ = 0;
  continued_ = false;
  logicalSize_ = 0;
  scanSequenceId_ = nextSequenceId_;
  pendingScanned_ = 0;
}

PacketDecoderCore::ScanResult PacketDecoderCore::Scan(const uint8_t* data, size_t size) {
  size_t used = 0;
  while (used < size) {
    if (headerFill_ < kPacketHeaderSize) {
      size_t take = std::min(kPacketHeaderSize - headerFill_, size - used);
      std::memcpy(header_ + headerFill_, data + used, take);
      headerFill_ += take;
      used += take;
      if (headerFill_ < kPacketHeaderSize) break;
      size_t length = PhysicalLength(header_);
      if (!started_ && !strictSequence_) scanSequenceId_ = header_[3];
      if (header_[3] != scanSequenceId_) {
        errorMessage_ = "packet sequence id " + std::to_string(header_[3]) + ", expected " +
                        std::to_string(scanSequenceId_);
        return {used, PacketError::kSequence, false};
      }
      // logicalSize_ never exceeds the maximum, so the subtraction cannot wrap.
      if (length > maxPayloadSize_ - logicalSize_) {
        errorMessage_ = "packet payload of more than " + std::to_string(maxPayloadSize_) +
                        " bytes (maxPayloadSize)";
        return {used, PacketError::kTooLarge, false};
      }
      if (!started_) {
        started_ = true;
        firstSequenceId_ = header_[3];
      }
      logicalSize_ += length;
      scanSequenceId_ = static_cast<uint8_t>(scanSequenceId_ + 1);
      physicalRemaining_ = length;
      continued_ = length == kMaxPhysicalPayload;
    }
    size_t take = std::min(physicalRemaining_, size - used);
    used += take;
    physicalRemaining_ -= take;
    if (physicalRemaining_ > 0) break;
    if (!continued_) return {used, PacketError::kNone, true};
    headerFill_ = 0;
  }
  return {used, PacketError::kNone, false};
}

void PacketDecoderCore::ReleasePending() {
  if (pending_.PageBacked()) {
    pending_.Release();
  } else {
    pending_.Clear();
  }
}

PacketError PacketDecoderCore::Fail(PacketError error) {
  error_ = error;
  if (error == PacketError::kAllocation) errorMessage_ = "out of memory while decoding packets";
  return error;
}

PacketError PacketDecoderCore::Push(const uint8_t* data, size_t size, PacketSink& sink) {
  if (error_ != PacketError::kNone) return error_;
  const uint8_t* end = data + size;

  // After ResetSequence, a partly received packet is checked again under the new id. It cannot
  // complete here: the same bytes were incomplete before.
  if (pendingScanned_ < pending_.size()) {
    ScanResult result = Scan(pending_.data() + pendingScanned_, pending_.size() - pendingScanned_);
    pendingScanned_ += result.consumed;
    if (result.error != PacketError::kNone) {
      return Fail(pending_.Append(data, end) ? result.error : PacketError::kAllocation);
    }
  }

  size_t offset = 0;
  while (offset < size) {
    // A packet begun in an earlier chunk has its first bytes in pending_.
    bool continuing = !pending_.empty();
    const uint8_t* start = data + offset;
    ScanResult result = Scan(start, size - offset);
    offset += result.consumed;
    if (!result.complete) {
      if (!pending_.Append(start, end)) return Fail(PacketError::kAllocation);
      pendingScanned_ = pending_.size();
      return result.error == PacketError::kNone ? PacketError::kNone : Fail(result.error);
    }

    PacketView packet{firstSequenceId_, logicalSize_, start, result.consumed};
    if (continuing) {
      if (!pending_.Append(start, data + offset)) return Fail(PacketError::kAllocation);
      packet.frames = pending_.data();
      packet.framesSize = pending_.size();
    }
    if (!sink.OnPacket(packet)) {
      // Keep the refused packet and everything after it, as for any other failure.
      pending_.Append(continuing ? data + offset : start, end);
      return Fail(PacketError::kAllocation);
    }
    nextSequenceId_ = scanSequenceId_;
    RestartScan();
    if (continuing) ReleasePending();
  }
  return PacketError::kNone;
}

void PacketDecoderCore::ResetSequence(uint8_t sequenceId) {
  if (error_ != PacketError::kNone) return;
  nextSequenceId_ = sequenceId;
  RestartScan();
}

PendingBuffer PacketDecoderCore::TakeBuffered() {
  PendingBuffer taken = std::move(pending_);
  if (error_ == PacketError::kNone) RestartScan();
  return taken;
}

}  // namespace authsock
