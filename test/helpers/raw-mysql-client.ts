// A bare MySQL client for protocol tests: logs in with mysql_native_password and capability flags
// of the test's choosing (MariaDB's extended ones too), then writes raw command payloads and
// collects every packet the server sends, parsed by nothing. For commands no connector sends
// (COM_FIELD_LIST, COM_STMT_FETCH, an execute that opens a cursor, COM_STATISTICS, ...).
import crypto from 'crypto';
import net from 'net';

import { Packet, PacketSplitter } from './recording-relay';

export const CLIENT = {
  LONG_PASSWORD: 0x1, // CLIENT_MYSQL for MariaDB: set, the extended flags are not sent
  CONNECT_WITH_DB: 0x8,
  LOCAL_FILES: 0x80,
  PROTOCOL_41: 0x200,
  TRANSACTIONS: 0x2000,
  SECURE_CONNECTION: 0x8000,
  MULTI_STATEMENTS: 1 << 16,
  MULTI_RESULTS: 1 << 17,
  PS_MULTI_RESULTS: 1 << 18,
  PLUGIN_AUTH: 1 << 19,
  SESSION_TRACK: 1 << 23,
  DEPRECATE_EOF: 1 << 24,
} as const;

export interface RawClientOptions {
  socketPath: string;
  user: string;
  password: string;
  database: string;
  capabilities: number;
  /** MariaDB's extended flags (bits 32-63), sent when LONG_PASSWORD is clear. */
  mariadbCapabilities?: number;
}

const sha1 = (...parts: Buffer[]) => crypto.createHash('sha1').update(Buffer.concat(parts)).digest();

/** mysql_native_password: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))). */
function nativeToken(password: string, scramble: Buffer): Buffer {
  const stage1 = sha1(Buffer.from(password));
  const mix = sha1(scramble, sha1(stage1));
  return Buffer.from(stage1.map((byte, i) => byte ^ mix[i]));
}

function frame(payload: Buffer, sequenceId: number): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequenceId;
  return Buffer.concat([header, payload]);
}

export class RawClient {
  /** Every packet since the login, in order. */
  readonly received: Packet[] = [];
  private waiters: Array<() => void> = [];
  private closed = false;

  private constructor(readonly socket: net.Socket) {
    const splitter = new PacketSplitter();
    socket.on('data', (chunk: Buffer) => {
      this.received.push(...splitter.push(chunk));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static async connect(options: RawClientOptions): Promise<RawClient> {
    const socket = net.connect(options.socketPath);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RawClient(socket);
    const greeting = await client.next();
    const payload = greeting.payload;
    let offset = payload.indexOf(0, 1) + 1 + 4;
    const part1 = payload.subarray(offset, offset + 8);
    offset += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
    const scramble = Buffer.concat([part1, payload.subarray(offset, offset + 12)]);
    const response = Buffer.concat([
      Buffer.from(Uint32Array.of(options.capabilities | CLIENT.CONNECT_WITH_DB).buffer),
      Buffer.from(Uint32Array.of(64 * 1024 * 1024).buffer),
      Buffer.of(45),
      Buffer.alloc(19),
      Buffer.from(Uint32Array.of(options.mariadbCapabilities ?? 0).buffer),
      Buffer.from(`${options.user}\0`),
      Buffer.of(20),
      nativeToken(options.password, scramble),
      Buffer.from(`${options.database}\0mysql_native_password\0`),
    ]);
    socket.write(frame(response, 1));
    let answer = await client.next();
    if (answer.payload[0] === 0xfe) {
      // AuthSwitchRequest: plugin name, then the new scramble.
      const nameEnd = answer.payload.indexOf(0, 1);
      const switched = answer.payload.subarray(nameEnd + 1, nameEnd + 21);
      socket.write(frame(nativeToken(options.password, switched), answer.sequenceId + 1));
      answer = await client.next();
    }
    if (answer.payload[0] !== 0x00) throw new Error(`login failed: ${answer.payload.subarray(9).toString()}`);
    client.received.length = 0;
    return client;
  }

  /** Writes each payload as a command (sequence id 0), all at once: a pipelined batch. */
  send(...payloads: Buffer[]): void {
    this.socket.write(Buffer.concat(payloads.map((payload) => frame(payload, 0))));
  }

  /** Resolves once `count` packets have arrived in all (or the socket closed). */
  async until(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for packet ${count}, have ${this.received.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** True once the server closed the connection. */
  get ended(): boolean {
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }

  /** The next packet of the login. */
  private async next(): Promise<Packet> {
    await this.until(1);
    const packet = this.received.shift();
    if (packet === undefined) throw new Error('connection closed during the login');
    return packet;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
