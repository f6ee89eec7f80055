// MySQL packet framing: the native incremental decoder, and the encoder.
//
// A packet is a 3-byte little-endian payload length, a 1-byte sequence id, then the payload. A
// logical payload of 0xFFFFFF bytes or more travels in 0xFFFFFF-byte physical packets until one
// is shorter; an exact multiple ends with an empty one. Ids go up by one per physical packet,
// wrapping at 256, and restart at each new command.
import { codedError } from '../errors';
import { native } from '../native';
import type { MysqlPacket, NativePacketDecoder, PacketDecoderOptions } from '../native';

export type { MysqlPacket, PacketDecoderOptions };

export const PACKET_HEADER_SIZE = 4;
export const MAX_PHYSICAL_PAYLOAD = 0xffffff;
export const DEFAULT_MAX_PAYLOAD_SIZE = 16 * 1024 * 1024;
/** The largest maxPayloadSize a decoder takes (1 GiB, MySQL's max_allowed_packet at most). */
export const MAX_MAX_PAYLOAD_SIZE = 1024 * 1024 * 1024;

/** Codes of the errors PacketDecoder.push() throws. */
export type PacketErrorCode = 'ERR_PACKET_SEQUENCE' | 'ERR_PACKET_TOO_LARGE' | 'ERR_PACKET_ALLOCATION';

/**
 * Incremental decoder: push() takes whole socket chunks and returns every logical packet they
 * complete, in one native call per chunk. Partial data waits inside for the next chunk.
 *
 * push() throws (err.code) ERR_PACKET_SEQUENCE when a physical packet carries an unexpected id,
 * ERR_PACKET_TOO_LARGE as soon as a header announces a logical payload over maxPayloadSize, and
 * ERR_PACKET_ALLOCATION when memory runs out; err.packets holds the packets the chunk completed
 * before the failure. A failed decoder throws the same code on every later push, and keeps the
 * bytes from the failing packet on for takeBuffered(). Bad arguments: ERR_INVALID_ARG_TYPE,
 * ERR_INVALID_ARG_VALUE.
 */
export type PacketDecoder = NativePacketDecoder;
export const PacketDecoder = native.PacketDecoder;

/**
 * The packets at the start of `chunk` that need no reassembly: each whole in the chunk, shorter
 * than a full physical packet and within maxPayloadSize. `rest` is where the first other one
 * starts (chunk.length when there is none). The payloads are views of `chunk`, not copies.
 * A connection's handshake and commands are such packets, and taking them here spares a native
 * decoder (and a native call and copy per packet) for every connection; what is left is the
 * decoder's, with its limits and errors.
 */
export function takeWholePackets(chunk: Buffer, maxPayloadSize: number): { packets: MysqlPacket[]; rest: number } {
  const packets: MysqlPacket[] = [];
  let offset = 0;
  while (chunk.length - offset >= PACKET_HEADER_SIZE) {
    const length = chunk[offset] | (chunk[offset + 1] << 8) | (chunk[offset + 2] << 16);
    const end = offset + PACKET_HEADER_SIZE + length;
    if (length >= MAX_PHYSICAL_PAYLOAD || length > maxPayloadSize || end > chunk.length) break;
    packets.push({ sequenceId: chunk[offset + 3], payload: chunk.subarray(offset + PACKET_HEADER_SIZE, end) });
    offset = end;
  }
  return { packets, rest: offset };
}

/** The error PacketDecoder.push() throws. */
export interface PacketDecodeError extends Error {
  code: PacketErrorCode;
  /** Packets the failing chunk completed before the failure, in order. */
  packets: MysqlPacket[];
}

export interface EncodedPacket {
  /** The physical packets, headers included, ready to write. */
  frame: Buffer;
  /** The id the packet after this one carries. */
  nextSequenceId: number;
}

/** How many physical packets carry a logical payload of `payloadLength` bytes. */
export function physicalPacketCount(payloadLength: number): number {
  return Math.floor(payloadLength / MAX_PHYSICAL_PAYLOAD) + 1;
}

/** Frames `payload` as one logical packet whose first physical packet carries `sequenceId`. */
export function encodePacket(payload: Uint8Array, sequenceId: number): EncodedPacket {
  if (!(payload instanceof Uint8Array)) {
    throw codedError('ERR_INVALID_ARG_TYPE', 'payload must be a Buffer or Uint8Array', TypeError);
  }
  if (!Number.isInteger(sequenceId) || sequenceId < 0 || sequenceId > 255) {
    throw codedError('ERR_INVALID_ARG_VALUE', 'sequenceId must be an integer from 0 to 255', RangeError);
  }
  const physicalCount = physicalPacketCount(payload.length);
  const frame = Buffer.allocUnsafe(payload.length + physicalCount * PACKET_HEADER_SIZE);
  let sequence = sequenceId;
  let read = 0;
  let written = 0;
  for (let i = 0; i < physicalCount; i++) {
    const length = Math.min(MAX_PHYSICAL_PAYLOAD, payload.length - read);
    frame[written] = length & 0xff;
    frame[written + 1] = (length >>> 8) & 0xff;
    frame[written + 2] = length >>> 16;
    frame[written + 3] = sequence;
    frame.set(payload.subarray(read, read + length), written + PACKET_HEADER_SIZE);
    written += PACKET_HEADER_SIZE + length;
    read += length;
    sequence = (sequence + 1) & 0xff;
  }
  return { frame, nextSequenceId: sequence };
}
