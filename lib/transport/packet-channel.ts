// PacketChannel: MySQL packets over a net.Socket, one logical packet per read(), with the
// connection's sequence counter. Both handshakes (server and client) are built on it.
//
// Reads never act on more than was asked for: socket data is only decoded while a read waits
// (the socket is paused otherwise); a packet's sequence id is checked against the channel's
// counter when it is read, not when it is decoded (a chunk may already hold the next command,
// which restarts at 0); and whatever the channel took from the socket but did not hand out comes
// back byte-exact from detach(), so a server can authenticate and then pass every later byte on
// untouched.
import net from 'net';

import { codedError, type CodedError } from '../errors';
import {
  DEFAULT_MAX_PAYLOAD_SIZE,
  encodePacket,
  MAX_MAX_PAYLOAD_SIZE,
  PacketDecoder,
  physicalPacketCount,
  takeWholePackets,
  type MysqlPacket,
  type PacketDecodeError,
} from '../protocol/framing';

/** An allowance of bytes shared by several channels (the server's unauthenticated connections). */
export interface MemoryBudget {
  /** Takes `bytes` from the allowance, or answers false when that would go past it. */
  take(bytes: number): boolean;
  give(bytes: number): void;
}

export interface PacketChannelOptions {
  /** Largest logical payload read() accepts, in bytes (default 16 MiB). */
  maxPayloadSize?: number;
  /** Rejects a read() that waits longer than this with ERR_PACKET_TIMEOUT (default: no limit). */
  timeoutMs?: number;
  /**
   * Charged with what the channel holds from the socket and has not handed out; when it refuses
   * more, reads fail with ERR_MEMORY_BUDGET. Given back on detach() and when the socket closes.
   */
  budget?: MemoryBudget;
  /** Id of the first packet, either way (default 0): a channel opened inside TLS continues the handshake's count. */
  sequenceId?: number;
}

/** Codes a PacketChannel rejects with, besides the decoder's (see PacketDecoder). */
export type PacketChannelErrorCode =
  | 'ERR_CONNECTION_CLOSED'
  | 'ERR_PACKET_TIMEOUT'
  | 'ERR_PACKET_SEQUENCE'
  | 'ERR_CHANNEL_BUSY'
  | 'ERR_CHANNEL_DETACHED'
  | 'ERR_MEMORY_BUDGET';

interface PendingRead {
  resolve(payload: Buffer): void;
  reject(error: CodedError): void;
  timer: NodeJS.Timeout | undefined;
}

export class PacketChannel {
  // Made on the first chunk that needs reassembly (takeWholePackets() takes the rest): most
  // connections never need one.
  private decoder: PacketDecoder | null = null;
  private readonly maxPayloadSize: number;
  private readonly timeoutMs: number | undefined;
  // Decoded packets not read yet: packets[head..].
  private packets: MysqlPacket[] = [];
  private head = 0;
  // Chunks that arrived while no read waited, not given to the decoder.
  private readonly undecoded: Buffer[] = [];
  // Why reads fail once the queued packets are used up: the decoder failed (nothing more is
  // decoded), or the connection is gone (what already arrived is still read).
  private decodeFailure: CodedError | null = null;
  // Made into an error only when a read is rejected with it: most channels see their socket close
  // with no read waiting, and capturing an Error's stack costs microseconds per connection.
  private closed: (() => CodedError) | null = null;
  private waiting: PendingRead | null = null;
  private sequence = 0;
  private attached = true;
  private budget: MemoryBudget | undefined;
  // Bytes in `undecoded`; what is charged to the budget for them and the decoder's buffer.
  private undecodedBytes = 0;
  private charged = 0;

  private readonly onData = (chunk: Buffer): void => {
    if (
      this.waiting === null ||
      this.decodeFailure !== null ||
      this.head < this.packets.length ||
      this.undecoded.length > 0
    ) {
      this.undecoded.push(chunk);
      this.undecodedBytes += chunk.length;
    } else {
      this.decode(chunk);
    }
    if (this.budget !== undefined) this.charge(this.budget);
    this.serve();
  };

  private readonly onEnd = (): void => this.close(closedError);

  private readonly onError = (error: Error): void =>
    this.close(() => {
      const failure = codedError('ERR_CONNECTION_CLOSED', `the connection failed: ${error.message}`);
      failure.cause = error;
      return failure;
    });

  constructor(
    readonly socket: net.Socket,
    options: PacketChannelOptions = {},
  ) {
    const { maxPayloadSize = DEFAULT_MAX_PAYLOAD_SIZE, timeoutMs, sequenceId = 0 } = options;
    if (typeof maxPayloadSize !== 'number') {
      throw codedError('ERR_INVALID_ARG_TYPE', `maxPayloadSize must be an integer from 0 to ${MAX_MAX_PAYLOAD_SIZE}`, TypeError);
    }
    if (!(Number.isInteger(maxPayloadSize) && maxPayloadSize >= 0 && maxPayloadSize <= MAX_MAX_PAYLOAD_SIZE)) {
      throw codedError('ERR_INVALID_ARG_VALUE', `maxPayloadSize must be an integer from 0 to ${MAX_MAX_PAYLOAD_SIZE}`, RangeError);
    }
    if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      throw codedError('ERR_INVALID_ARG_VALUE', 'timeoutMs must be a positive number', RangeError);
    }
    if (!(Number.isInteger(sequenceId) && sequenceId >= 0 && sequenceId <= 255)) {
      throw codedError('ERR_INVALID_ARG_VALUE', 'sequenceId must be an integer from 0 to 255', RangeError);
    }
    this.sequence = sequenceId;
    this.maxPayloadSize = maxPayloadSize;
    this.timeoutMs = timeoutMs;
    this.budget = options.budget;
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
    // Only read from the socket while a read() waits.
    socket.pause();
    if (socket.destroyed || socket.readableEnded) this.onEnd();
  }

  /** Id of the next packet, in either direction. */
  get sequenceId(): number {
    return this.sequence;
  }

  /**
   * The next logical packet's payload. Rejects (err.code) with the decoder's codes
   * (ERR_PACKET_SEQUENCE, ERR_PACKET_TOO_LARGE, ...), ERR_PACKET_SEQUENCE when the packet does
   * not carry the channel's next id, ERR_CONNECTION_CLOSED, ERR_PACKET_TIMEOUT, ERR_CHANNEL_BUSY
   * (a read already waits) and ERR_CHANNEL_DETACHED.
   */
  read(): Promise<Buffer> {
    if (!this.attached) return Promise.reject(detachedError());
    if (this.waiting !== null) {
      return Promise.reject(codedError('ERR_CHANNEL_BUSY', 'a read is already waiting on this channel'));
    }
    return new Promise<Buffer>((resolve, reject) => {
      this.waiting = { resolve, reject, timer: undefined };
      this.decodeUndecoded();
      this.serve();
      if (this.waiting === null) return;
      if (this.timeoutMs !== undefined) {
        this.waiting.timer = setTimeout(() => {
          this.settle().reject(codedError('ERR_PACKET_TIMEOUT', `no packet within ${this.timeoutMs} ms`));
        }, this.timeoutMs);
      }
      this.socket.resume();
    });
  }

  /** Sends `payload` as one logical packet with the channel's next id. */
  write(payload: Buffer): Promise<void> {
    if (!this.attached) return Promise.reject(detachedError());
    if (this.socket.destroyed || !this.socket.writable) {
      return Promise.reject(codedError('ERR_CONNECTION_CLOSED', 'the connection is closed'));
    }
    const { frame, nextSequenceId } = encodePacket(payload, this.sequence);
    this.sequence = nextSequenceId;
    return new Promise<void>((resolve, reject) => {
      this.socket.write(frame, (error) => {
        if (error == null) return resolve();
        const failure = codedError('ERR_CONNECTION_CLOSED', `the write failed: ${error.message}`);
        failure.cause = error;
        reject(failure);
      });
    });
  }

  /** A new command starts: ids restart at 0 in both directions. */
  resetSequence(): void {
    this.sequence = 0;
  }

  /**
   * Stops listening and returns, byte-exact, everything taken from the socket but not read: the
   * unread packets (framing is canonical, so re-encoding gives the bytes back) and the undecoded
   * rest. The socket is left paused with its later data unread (the next owner listens, then
   * calls resume()), and without the channel's 'error' listener: the next owner attaches its
   * own. A waiting read rejects with ERR_CHANNEL_DETACHED. Once the socket has ended, the bytes
   * of a packet it left incomplete are gone: they can never complete.
   */
  detach(): Buffer {
    if (!this.attached) throw detachedError();
    this.attached = false;
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    this.socket.pause();
    if (this.waiting !== null) this.settle().reject(detachedError());
    const parts: Buffer[] = [];
    for (let i = this.head; i < this.packets.length; i++) {
      const { payload, sequenceId } = this.packets[i];
      parts.push(encodePacket(payload, sequenceId).frame);
    }
    if (this.decoder !== null) parts.push(this.decoder.takeBuffered());
    parts.push(...this.undecoded);
    this.packets = [];
    this.head = 0;
    this.undecoded.length = 0;
    this.undecodedBytes = 0;
    this.releaseBudget();
    return Buffer.concat(parts);
  }

  // Charges the budget up to the most the channel has held (a handshake is short: its high-water
  // mark is kept until the channel lets go). Past the budget, reads fail and the owner refuses.
  private charge(budget: MemoryBudget): void {
    const held = (this.decoder?.bufferedBytes ?? 0) + this.undecodedBytes;
    if (held <= this.charged) return;
    if (budget.take(held - this.charged)) {
      this.charged = held;
    } else if (this.decodeFailure === null) {
      this.decodeFailure = codedError('ERR_MEMORY_BUDGET', 'the connections in their handshake hold all the memory allowed to them');
    }
  }

  private releaseBudget(): void {
    this.budget?.give(this.charged);
    this.budget = undefined;
    this.charged = 0;
  }

  private decode(chunk: Buffer): void {
    // Whole packets need no decoder, unless one already holds the start of a packet.
    if (this.decoder === null || this.decoder.bufferedBytes === 0) {
      const { packets, rest } = takeWholePackets(chunk, this.maxPayloadSize);
      this.queue(packets);
      if (rest === chunk.length) return;
      chunk = chunk.subarray(rest);
      this.decoder ??= new PacketDecoder({ maxPayloadSize: this.maxPayloadSize, strictSequence: false });
    }
    try {
      this.queue(this.decoder.push(chunk));
    } catch (error) {
      const failure = error as PacketDecodeError;
      this.queue(failure.packets ?? []);
      this.decodeFailure = failure;
    }
  }

  private queue(decoded: MysqlPacket[]): void {
    if (decoded.length === 0) return;
    if (this.head === this.packets.length) {
      this.packets = decoded;
      this.head = 0;
    } else {
      this.packets.push(...decoded);
    }
  }

  // Feeds chunks that arrived while nobody read, one at a time, until a packet is complete.
  private decodeUndecoded(): void {
    let used = 0;
    while (used < this.undecoded.length && this.head === this.packets.length && this.decodeFailure === null) {
      this.decode(this.undecoded[used++]);
    }
    for (let i = 0; i < used; i++) this.undecodedBytes -= this.undecoded[i].length;
    this.undecoded.splice(0, used);
  }

  // Settles the waiting read if there is a packet or a failure for it.
  private serve(): void {
    if (this.waiting === null) return;
    if (this.head < this.packets.length) {
      const packet = this.packets[this.head];
      if (packet.sequenceId !== this.sequence) {
        // Left in the queue so that detach() still returns its bytes.
        this.settle().reject(
          codedError('ERR_PACKET_SEQUENCE', `packet sequence id ${packet.sequenceId}, expected ${this.sequence}`),
        );
        return;
      }
      // Drop the queue's hold on payloads once all are read.
      if (++this.head === this.packets.length) {
        this.packets.length = 0;
        this.head = 0;
      }
      this.sequence = (packet.sequenceId + physicalPacketCount(packet.payload.length)) & 0xff;
      this.settle().resolve(packet.payload);
    } else if (this.decodeFailure !== null) {
      this.settle().reject(this.decodeFailure);
    } else if (this.closed !== null && this.undecoded.length === 0) {
      this.settle().reject(this.closed());
    }
  }

  private settle(): PendingRead {
    const pending = this.waiting as PendingRead;
    this.waiting = null;
    clearTimeout(pending.timer);
    this.socket.pause();
    return pending;
  }

  private close(failure: () => CodedError): void {
    this.closed ??= failure;
    // Nothing more arrives: an incomplete packet can never complete, so its bytes (up to 16 MiB
    // in the decoder's own pages) are freed now, not whenever V8 collects the channel; and what
    // is held no longer counts against the live connections.
    if (this.undecoded.length === 0) this.decoder?.takeBuffered();
    this.releaseBudget();
    this.serve();
  }
}

function closedError(): CodedError {
  return codedError('ERR_CONNECTION_CLOSED', 'the connection was closed');
}

function detachedError(): CodedError {
  return codedError('ERR_CHANNEL_DETACHED', 'the channel was detached from its socket');
}
