// A recording pass-through for ResponseTracker tests: a Unix-socket server that forwards each
// client to a real MySQL/MariaDB server unchanged, cuts both directions into logical packets,
// and after the handshake feeds a ResponseTracker the way the proxy does, recording what it said
// after every packet. Backpressure is kept (a paused client pauses the upstream), so a client in
// the middle of a big result really is in the middle of it.
import net from 'net';
import path from 'path';

import { ResponseTracker } from '../../lib/proxy/response-tracker';
import { close, listen, tempDir } from './sockets';

const CLIENT_MYSQL = 0x1;
const MAX_PHYSICAL = 0xffffff;

export interface Packet {
  sequenceId: number;
  /** Whole logical payload length (continuations joined). */
  length: number;
  /** The whole payload, continuations joined. */
  payload: Buffer;
}

/** Cuts a byte stream into logical packets; a 0xffffff-byte physical packet continues in the next. */
export class PacketSplitter {
  private buffered: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  private firstSequenceId = -1;

  push(chunk: Buffer): Packet[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const packets: Packet[] = [];
    while (this.buffered.length >= 4) {
      const length = this.buffered.readUIntLE(0, 3);
      if (this.buffered.length < 4 + length) break;
      if (this.firstSequenceId < 0) this.firstSequenceId = this.buffered[3];
      this.parts.push(this.buffered.subarray(4, 4 + length));
      this.buffered = this.buffered.subarray(4 + length);
      if (length === MAX_PHYSICAL) continue;
      const payload = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
      packets.push({ sequenceId: this.firstSequenceId, length: payload.length, payload });
      this.parts = [];
      this.firstSequenceId = -1;
    }
    return packets;
  }

  /** Nothing is waiting for more bytes. */
  get atBoundary(): boolean {
    return this.buffered.length === 0 && this.parts.length === 0;
  }
}

export type RelayEvent =
  | { from: 'client'; command: number; understood: boolean }
  | { from: 'server'; first: number; length: number; idle: boolean; pending: number };

/** One client's leg through the relay. */
export class RecordedConnection {
  tracker: ResponseTracker | undefined;
  capabilities = 0;
  mariadbCapabilities = 0;
  readonly events: RelayEvent[] = [];
  /** What the tracker threw: must stay empty. */
  readonly errors: unknown[] = [];
  readonly fromServer = new PacketSplitter();
  readonly fromClient = new PacketSplitter();
  private serverCapabilities = 0;
  private serverExtended = 0;
  private phase: 'greeting' | 'response' | 'auth' | 'command' = 'greeting';

  /** Server events since the index given. */
  serverEvents(since = 0): Array<Extract<RelayEvent, { from: 'server' }>> {
    return this.events.slice(since).filter((e): e is Extract<RelayEvent, { from: 'server' }> => e.from === 'server');
  }

  serverPacket(packet: Packet): void {
    const first = packet.length === 0 ? -1 : packet.payload[0];
    if (this.phase === 'greeting') {
      this.readGreeting(packet.payload);
      this.phase = 'response';
    } else if (this.phase === 'auth' || this.phase === 'response') {
      // The login ends with the server's OK (0x00); until then packets are the auth exchange.
      if (first === 0x00) {
        this.tracker = new ResponseTracker(this.capabilities, this.mariadbCapabilities);
        this.phase = 'command';
      }
    } else {
      const tracker = this.tracker!;
      try {
        tracker.serverPacket(packet.payload.subarray(0, 64), packet.length);
      } catch (error) {
        this.errors.push(error);
      }
      this.events.push({ from: 'server', first, length: packet.length, idle: tracker.idle, pending: tracker.pending });
    }
  }

  clientPacket(packet: Packet): void {
    if (this.phase === 'response') {
      // HandshakeResponse41: capability flags first; MariaDB's extended ones end the 23-byte filler.
      const clientCapabilities = packet.payload.readUInt32LE(0);
      this.capabilities = clientCapabilities & this.serverCapabilities;
      const extended = (clientCapabilities & CLIENT_MYSQL) === 0 && (this.serverCapabilities & CLIENT_MYSQL) === 0;
      this.mariadbCapabilities = extended ? packet.payload.readUInt32LE(28) & this.serverExtended : 0;
      this.phase = 'auth';
      return;
    }
    if (this.phase !== 'command') return;
    const tracker = this.tracker!;
    try {
      if (tracker.awaitingLocalInfile) {
        if (packet.length === 0) tracker.localInfileSent();
        return;
      }
      if (packet.sequenceId !== 0) return;
      const understood = tracker.command(packet.payload.subarray(0, 64), packet.length);
      this.events.push({ from: 'client', command: packet.payload[0], understood });
    } catch (error) {
      this.errors.push(error);
    }
  }

  /** HandshakeV10: the server's capability flags, and MariaDB's extended ones in the reserved bytes. */
  private readGreeting(payload: Buffer): void {
    const versionEnd = payload.indexOf(0, 1);
    let offset = versionEnd + 1 + 4 + 8 + 1;
    const low = payload.readUInt16LE(offset);
    offset += 2 + 1 + 2;
    const high = payload.readUInt16LE(offset);
    this.serverCapabilities = (low | (high << 16)) >>> 0;
    offset += 2 + 1 + 6;
    this.serverExtended = (this.serverCapabilities & CLIENT_MYSQL) === 0 ? payload.readUInt32LE(offset) : 0;
  }
}

export interface RecordingRelay {
  socketPath: string;
  connections: RecordedConnection[];
  close(): Promise<void>;
}

/** Relays every client of a Unix socket in a temp dir to `upstream` (a TCP port on 127.0.0.1 or a socket path). */
export async function startRecordingRelay(upstream: { port: number } | { socketPath: string }): Promise<RecordingRelay> {
  const dir = tempDir('response-tracker-relay-');
  const socketPath = path.join(dir.path, 'relay.sock');
  const connections: RecordedConnection[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const recorded = new RecordedConnection();
    connections.push(recorded);
    const target = 'port' in upstream ? net.connect(upstream.port, '127.0.0.1') : net.connect(upstream.socketPath);
    sockets.add(client).add(target);
    const pipe = (from: net.Socket, to: net.Socket, splitter: PacketSplitter, take: (packet: Packet) => void) => {
      from.on('data', (chunk: Buffer) => {
        // Fed before forwarded: once the client has a byte, the tracker has seen its packet.
        for (const packet of splitter.push(chunk)) take(packet);
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
      from.on('close', () => sockets.delete(from));
    };
    pipe(target, client, recorded.fromServer, (packet) => recorded.serverPacket(packet));
    pipe(client, target, recorded.fromClient, (packet) => recorded.clientPacket(packet));
  });
  await listen(server, socketPath);
  return {
    socketPath,
    connections,
    async close() {
      for (const socket of sockets) socket.destroy();
      await close(server);
      dir.remove();
    },
  };
}
