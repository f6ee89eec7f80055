// Reading and writing one payload: MySQL's int<n>, length-encoded integers and strings, NUL-ended
// strings (the primitives of every message, as in MySQL's mysys/pack.cc and sql-common/net_serv.cc).
// Every read past the end, bad length or invalid UTF-8 is ERR_MALFORMED_PACKET, never a guess.
import { isUtf8 } from 'buffer';

import { codedError, CodedError } from '../errors';

/** Text-protocol NULL: the byte that stands for a NULL value in a row. */
const NULL_VALUE = 0xfb;

/** A payload that does not parse: the message carries what was wrong, `code` is ERR_MALFORMED_PACKET. */
export function malformedPacket(message: string): CodedError {
  return codedError('ERR_MALFORMED_PACKET', message);
}

/** Sequential reader over one payload; every read past the end throws ERR_MALFORMED_PACKET. */
export class PayloadReader {
  private offset = 0;

  constructor(
    private readonly payload: Buffer,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.payload.length - this.offset;
  }

  // Where the next `length` bytes start, once they are known to be there; read in place, not
  // through a Buffer of their own.
  private advance(length: number): number {
    if (length > this.remaining) throw malformedPacket(`${this.what}: truncated`);
    const start = this.offset;
    this.offset += length;
    return start;
  }

  private take(length: number): Buffer {
    const start = this.advance(length);
    return this.payload.subarray(start, start + length);
  }

  int1(): number {
    return this.payload[this.advance(1)];
  }

  int2(): number {
    return this.payload.readUInt16LE(this.advance(2));
  }

  int3(): number {
    return this.payload.readUIntLE(this.advance(3), 3);
  }

  int4(): number {
    return this.payload.readUInt32LE(this.advance(4));
  }

  /** Length-encoded integer; NULL (0xfb) and 0xff are not integers here. */
  lenencInt(): number {
    const first = this.int1();
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.int2();
    if (first === 0xfd) return this.int3();
    if (first === 0xfe) {
      const value = this.payload.readBigUInt64LE(this.advance(8));
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw malformedPacket(`${this.what}: length out of range`);
      return Number(value);
    }
    throw malformedPacket(`${this.what}: bad length-encoded integer 0x${first.toString(16)}`);
  }

  bytes(length: number): Buffer {
    return this.take(length);
  }

  lenencBytes(): Buffer {
    return this.take(this.lenencInt());
  }

  lenencString(): string {
    const length = this.lenencInt();
    return this.decode(this.advance(length), length);
  }

  /** A NUL-terminated string; the NUL must be there. */
  nulString(): string {
    const end = this.payload.indexOf(0, this.offset);
    if (end < 0) throw malformedPacket(`${this.what}: unterminated string`);
    const start = this.offset;
    this.offset = end + 1;
    return this.decode(start, end - start);
  }

  rest(): Buffer {
    return this.take(this.remaining);
  }

  restString(): string {
    const length = this.remaining;
    return this.decode(this.advance(length), length);
  }

  /** Text-protocol value: a length-encoded string, or null for 0xfb. */
  nullableLenencString(): string | null {
    if (this.remaining > 0 && this.payload[this.offset] === NULL_VALUE) {
      this.offset++;
      return null;
    }
    return this.lenencString();
  }

  end(): void {
    if (this.remaining !== 0) throw malformedPacket(`${this.what}: ${this.remaining} unexpected trailing bytes`);
  }

  // Strings on the wire must be valid UTF-8: a lossy decode could turn two different byte strings
  // into the same name. Checked, then decoded: a fatal TextDecoder cost more than the rest of a
  // response's parse. ASCII, what names and connect attributes nearly always are, is valid
  // UTF-8 and reads the same as latin1: a loop here spares the two native calls.
  private decode(start: number, length: number): string {
    const payload = this.payload;
    const end = start + length;
    for (let i = start; i < end; i++) {
      if (payload[i] > 0x7f) {
        const bytes = payload.subarray(start, end);
        if (!isUtf8(bytes)) throw malformedPacket(`${this.what}: string is not valid UTF-8`);
        return bytes.toString('utf8');
      }
    }
    return payload.toString('latin1', start, end);
  }
}

/**
 * Builds one payload in one growing buffer: a field is written where it goes, not allocated on
 * its own and joined at the end (a greeting has a dozen fields, and every login builds one).
 */
export class PayloadWriter {
  private buffer = Buffer.allocUnsafe(128);
  private length = 0;

  int1(value: number): this {
    this.room(1);
    this.buffer[this.length++] = value & 0xff;
    return this;
  }

  int2(value: number): this {
    this.room(2);
    this.length = this.buffer.writeUInt16LE(value & 0xffff, this.length);
    return this;
  }

  int3(value: number): this {
    this.room(3);
    this.length = this.buffer.writeUIntLE(value & 0xffffff, this.length, 3);
    return this;
  }

  int4(value: number): this {
    this.room(4);
    this.length = this.buffer.writeUInt32LE(value >>> 0, this.length);
    return this;
  }

  lenencInt(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw codedError('ERR_INVALID_ARG_VALUE', `length-encoded integer out of range: ${value}`, RangeError);
    }
    if (value < 0xfb) return this.int1(value);
    if (value <= 0xffff) return this.int1(0xfc).int2(value);
    if (value <= 0xffffff) return this.int1(0xfd).int3(value);
    this.int1(0xfe).room(8);
    this.length = this.buffer.writeBigUInt64LE(BigInt(value), this.length);
    return this;
  }

  bytes(data: Uint8Array): this {
    this.room(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
    return this;
  }

  zeros(length: number): this {
    this.room(length);
    this.buffer.fill(0, this.length, (this.length += length));
    return this;
  }

  lenencBytes(data: Buffer | string): this {
    return typeof data === 'string' ? this.lenencInt(Buffer.byteLength(data, 'utf8')).string(data) : this.lenencInt(data.length).bytes(data);
  }

  nullableLenencString(value: string | null): this {
    return value === null ? this.int1(NULL_VALUE) : this.lenencBytes(value);
  }

  /** A NUL-terminated string; a NUL inside would cut it short on the other side, so it is refused. */
  nulString(value: string): this {
    if (value.includes('\0')) {
      throw codedError('ERR_INVALID_ARG_VALUE', 'a NUL-terminated protocol string must not contain NUL', TypeError);
    }
    return this.string(value).int1(0);
  }

  string(value: string): this {
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair's 4 for its 2).
    this.room(value.length * 3);
    this.length += this.buffer.write(value, this.length, 'utf8');
    return this;
  }

  /** The payload: its own memory, the writer's spare room cut off. */
  finish(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }

  // Makes room for `bytes` more, doubling the buffer (at least to what is needed).
  private room(bytes: number): this {
    const needed = this.length + bytes;
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    return this;
  }
}
