// One direction of a relay of MySQL packets between two sockets (pgbouncer's sbuf in
// include/sbuf.h: per packet, send or look). Bytes are written on as they arrive, never decoded
// or re-encoded; only each packet's 4-byte header and first bytes are shown to the inspector,
// which may hold a packet back: the pump then stops in front of it and hands over every byte from
// its header on. Backpressure: the source is paused while the destination's buffer is full.
import net from 'net';

import { MAX_PHYSICAL_PAYLOAD, PACKET_HEADER_SIZE as HEADER_SIZE } from '../protocol/framing';

/** A physical packet of this length continues in the next one (MySQL's 16 MiB split). */
const MAX_PHYSICAL = MAX_PHYSICAL_PAYLOAD;
/** How much of each packet's payload the inspector sees, at most. */
export const HEAD_BYTES = 64;

export interface PacketHead {
  /** This physical packet's payload length. */
  length: number;
  sequenceId: number;
  /** Its first min(length, HEAD_BYTES) payload bytes (a view: copy to keep). */
  head: Buffer;
  /** False for the continuation of a packet over 16 MiB: its head is mid-payload. */
  first: boolean;
}

export type Verdict = 'forward' | 'hold';

export class PacketPump {
  // The start of a packet that came in an earlier chunk: not yet inspected, not yet written.
  private carried = Buffer.alloc(0);
  // Payload bytes of the current packet still to pass through unseen.
  private remaining = 0;
  private continues = false;
  private running = false;
  // The destination's buffer is full: the source stays paused until it drains.
  private draining = false;
  private onHeld: ((bytes: Buffer) => void) | null = null;

  constructor(
    private readonly source: net.Socket,
    private readonly destination: net.Socket,
    private readonly inspect: (packet: PacketHead) => Verdict,
    /** After each chunk has been written on. */
    private readonly progressed: () => void = () => {},
    /** The inspector threw: the pump has stopped, and what it pumps cannot go on. */
    private readonly failed: (error: unknown) => void = (error) => {
      throw error;
    },
  ) {}

  /** True when no packet is part-way through: everything inspected has been written on whole. */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.carried.length === 0;
  }

  /**
   * Pumps `initial` and then the source until the inspector holds a packet: resolves with the
   * held packet's bytes and whatever followed them (the source is left paused, with no listener
   * of ours). Stays pending while the sockets close under it.
   */
  run(initial: Buffer): Promise<Buffer> {
    if (this.running) throw new Error('PacketPump.run: already running');
    this.running = true;
    return new Promise<Buffer>((resolve) => {
      this.onHeld = resolve;
      this.source.on('data', this.onData);
      if (initial.length > 0) this.onData(initial);
      if (this.running && !this.draining) this.source.resume();
    });
  }

  /** Stops without holding anything (the session is ending). */
  stop(): void {
    this.source.off('data', this.onData);
    this.destination.off('drain', this.onDrain);
    this.running = false;
    this.draining = false;
    this.onHeld = null;
  }

  private readonly onDrain = (): void => {
    this.draining = false;
    if (this.running) this.source.resume();
  };

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.pump(chunk);
    } catch (error) {
      this.source.pause();
      this.stop();
      this.failed(error);
    }
  };

  private pump(chunk: Buffer): void {
    // Carried bytes are written in front of the chunk once their packet is let through.
    const prefix = this.carried;
    let prefixPassed = prefix.length === 0;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= take;
        offset += take;
        continue;
      }
      const carried = this.carried.length;
      const available = carried + chunk.length - offset;
      const header = available < HEADER_SIZE ? null : this.gather(chunk, offset, HEADER_SIZE);
      const length = header === null ? 0 : header.readUIntLE(0, 3);
      const headLength = Math.min(length, HEAD_BYTES);
      if (header === null || available < HEADER_SIZE + headLength) {
        // An incomplete header or head: keep it for the next chunk, write what came before it.
        this.carried = Buffer.concat([this.carried, chunk.subarray(offset)]);
        return this.flush(prefixPassed ? prefix : null, chunk, offset);
      }
      const packet = this.gather(chunk, offset, HEADER_SIZE + headLength);
      const first = !this.continues;
      if (this.inspect({ length, sequenceId: packet[3], head: packet.subarray(HEADER_SIZE), first }) === 'hold') {
        this.flush(prefixPassed ? prefix : null, chunk, offset);
        const held = Buffer.concat([this.carried, chunk.subarray(offset)]);
        this.carried = Buffer.alloc(0);
        return this.hold(held);
      }
      prefixPassed = true;
      offset += HEADER_SIZE + headLength - carried;
      this.carried = Buffer.alloc(0);
      this.remaining = length - headLength;
      this.continues = length === MAX_PHYSICAL;
    }
    this.flush(prefixPassed ? prefix : null, chunk, chunk.length);
  }

  // The first `size` bytes of the packet that starts with the carried bytes and goes on at chunk[offset].
  private gather(chunk: Buffer, offset: number, size: number): Buffer {
    const carried = this.carried.length;
    if (carried === 0) return chunk.subarray(offset, offset + size);
    if (carried >= size) return this.carried.subarray(0, size);
    return Buffer.concat([this.carried, chunk.subarray(offset, offset + size - carried)]);
  }

  // Writes the let-through bytes: the carried prefix (when its packet passed) and chunk[0, end).
  private flush(prefix: Buffer | null, chunk: Buffer, end: number): void {
    const body = chunk.subarray(0, end);
    const bytes = prefix !== null && prefix.length > 0 ? Buffer.concat([prefix, body]) : body;
    if (bytes.length > 0 && !this.destination.write(bytes) && this.running && !this.draining) {
      this.draining = true;
      this.source.pause();
      this.destination.once('drain', this.onDrain);
    }
    this.progressed();
  }

  private hold(bytes: Buffer): void {
    const resolve = this.onHeld;
    this.source.pause();
    this.stop();
    resolve?.(bytes);
  }
}
