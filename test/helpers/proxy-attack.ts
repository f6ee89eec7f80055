// Tools for attacking the proxy (test/proxy/attack.test.ts): a bare client that logs in over a
// Unix socket with auth_socket (an empty mysql_native_password response: the kernel decides) and
// then writes whatever bytes it likes, reading every packet back unparsed; a fake upstream MySQL
// server on loopback TCP whose every step the test scripts; and small readers of the packets.
import net from 'net';

import { Capability } from '../../lib/protocol/constants';
import { encodePacket } from '../../lib/protocol/framing';
import { buildHandshakeResponse41, buildHandshakeV10 } from '../../lib/protocol/handshake';
import { buildOk } from '../../lib/protocol/responses';
import { Packet, PacketSplitter } from './recording-relay';

/** What the bare client asks for: no DEPRECATE_EOF, so every result set ends with an EOF packet. */
export const ATTACK_CAPABILITIES =
  (Capability.LONG_PASSWORD |
    Capability.LONG_FLAG |
    Capability.PROTOCOL_41 |
    Capability.TRANSACTIONS |
    Capability.SECURE_CONNECTION |
    Capability.MULTI_STATEMENTS |
    Capability.MULTI_RESULTS |
    Capability.LOCAL_FILES |
    Capability.PLUGIN_AUTH |
    Capability.CONNECT_ATTRS |
    Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA) >>>
  0;

export function frame(payload: Buffer, sequenceId: number): Buffer {
  return encodePacket(payload, sequenceId).frame;
}

/** One physical packet exactly as given (a length over 0xffffff is the caller's problem). */
export function physical(payload: Buffer, sequenceId: number): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequenceId & 0xff;
  return Buffer.concat([header, payload]);
}

export const query = (sql: string): Buffer => Buffer.concat([Buffer.of(0x03), Buffer.from(sql)]);

export interface BareLogin {
  socketPath: string;
  user: string;
  capabilities?: number;
  database?: string | null;
  connectAttributes?: Record<string, string> | null;
  /** Bytes written right behind the login response, before the OK (pipelined). */
  pipelined?: Buffer;
}

export class BareClient {
  readonly received: Packet[] = [];
  bytesReceived = 0;
  private splitter = new PacketSplitter();
  private waiters: Array<() => void> = [];
  closed = false;
  /** Set to false to count bytes without cutting them into packets (a huge result). */
  splitting = true;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      if (this.splitting) this.received.push(...this.splitter.push(chunk));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(socketPath: string): Promise<BareClient> {
    const socket = net.connect(socketPath);
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new BareClient(socket));
      });
    });
  }

  /** Logs in; resolves with the client and the login's last packet (OK, or ERR when `allowErr`). */
  static async login(options: BareLogin, allowErr = false): Promise<{ client: BareClient; answer: Packet }> {
    const client = await BareClient.open(options.socketPath);
    await client.until(1);
    const greeting = client.received.shift()!;
    if (greeting.payload[0] !== 10) throw new Error(`no greeting: ${greeting.payload.toString('latin1')}`);
    let capabilities = options.capabilities ?? ATTACK_CAPABILITIES;
    if (options.database) capabilities |= Capability.CONNECT_WITH_DB;
    const response = buildHandshakeResponse41({
      capabilities,
      maxPacketSize: 64 * 1024 * 1024,
      characterSet: 45,
      user: options.user,
      authResponse: Buffer.alloc(0),
      database: options.database ?? null,
      clientPluginName: 'mysql_native_password',
      connectAttributes: options.connectAttributes ?? {},
    });
    client.socket.write(Buffer.concat([frame(response, 1), options.pipelined ?? Buffer.alloc(0)]));
    await client.until(1);
    const answer = client.received.shift();
    if (answer === undefined) throw new Error('connection closed during the login');
    if (answer.payload[0] !== 0x00 && !allowErr) throw new Error(`login failed: ${describe(answer)}`);
    return { client, answer };
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Each payload as a command (sequence 0), in one write. */
  send(...payloads: Buffer[]): void {
    this.socket.write(Buffer.concat(payloads.map((payload) => frame(payload, 0))));
  }

  async until(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for packet ${count}, have ${this.received.length}`);
      await this.sleepUntilWoken(left);
    }
  }

  /** Waits until `predicate` holds (checked on every arrival), or the socket closed, or the time is up. */
  async waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (this.closed) return predicate();
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await this.sleepUntilWoken(left);
    }
    return true;
  }

  /** Resolves true once the peer closed, false when `timeoutMs` passed first. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    return this.waitFor(() => this.closed, timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }

  private sleepUntilWoken(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

// Readers of the packets a BareClient collected (no DEPRECATE_EOF).
export const isOk = (p: Packet | undefined): boolean => p !== undefined && p.payload[0] === 0x00;
export const isErr = (p: Packet | undefined): boolean => p !== undefined && p.payload[0] === 0xff;
export const isEof = (p: Packet | undefined): boolean => p !== undefined && p.payload[0] === 0xfe && p.length < 9;
export const errno = (p: Packet): number => p.payload.readUInt16LE(1);
export const errMessage = (p: Packet): string => p.payload.subarray(9).toString('utf8');

export function describe(p: Packet | undefined): string {
  if (p === undefined) return '(nothing)';
  if (isErr(p)) return `ERR ${errno(p)} ${errMessage(p)}`;
  if (isOk(p)) return 'OK';
  if (isEof(p)) return 'EOF';
  return `packet 0x${p.payload[0]?.toString(16)} of ${p.length} bytes`;
}

function lenenc(buffer: Buffer, offset: number): { value: number | null; next: number } {
  const first = buffer[offset];
  if (first < 0xfb) return { value: first, next: offset + 1 };
  if (first === 0xfb) return { value: null, next: offset + 1 };
  if (first === 0xfc) return { value: buffer.readUInt16LE(offset + 1), next: offset + 3 };
  if (first === 0xfd) return { value: buffer.readUIntLE(offset + 1, 3), next: offset + 4 };
  return { value: Number(buffer.readBigUInt64LE(offset + 1)), next: offset + 9 };
}

/** A text row's cells. */
export function rowCells(p: Packet): Array<string | null> {
  const cells: Array<string | null> = [];
  let offset = 0;
  while (offset < p.payload.length) {
    const { value, next } = lenenc(p.payload, offset);
    if (value === null) {
      cells.push(null);
      offset = next;
    } else {
      cells.push(p.payload.subarray(next, next + value).toString('utf8'));
      offset = next + value;
    }
  }
  return cells;
}

/** One response read from `packets[start]`: OK, ERR, or a text result set (EOF-terminated). */
export type Response = { kind: 'ok' } | { kind: 'err'; errno: number; message: string } | { kind: 'rows'; rows: Array<Array<string | null>> };

/** The response starting at `start`, and where the next one starts; null while it is incomplete. */
export function readResponse(packets: Packet[], start: number): { response: Response; next: number } | null {
  const first = packets[start];
  if (first === undefined) return null;
  if (isOk(first)) return { response: { kind: 'ok' }, next: start + 1 };
  if (isErr(first)) return { response: { kind: 'err', errno: errno(first), message: errMessage(first) }, next: start + 1 };
  // Column count, definitions, EOF, rows, EOF (or ERR).
  let i = start + 1;
  while (i < packets.length && !isEof(packets[i])) i++;
  if (i >= packets.length) return null;
  const rows: Array<Array<string | null>> = [];
  for (i = i + 1; i < packets.length; i++) {
    if (isEof(packets[i])) return { response: { kind: 'rows', rows }, next: i + 1 };
    if (isErr(packets[i])) return { response: { kind: 'err', errno: errno(packets[i]), message: errMessage(packets[i]) }, next: i + 1 };
    rows.push(rowCells(packets[i]));
  }
  return null;
}

/** Every whole response in `packets`, in order. */
export function responses(packets: Packet[]): Response[] {
  const out: Response[] = [];
  let at = 0;
  for (;;) {
    const read = readResponse(packets, at);
    if (read === null) return out;
    out.push(read.response);
    at = read.next;
  }
}

/** Waits until `count` whole responses arrived (or the socket closed / time ran out); returns them. */
export async function collect(client: BareClient, count: number, timeoutMs = 5000): Promise<Response[]> {
  await client.waitFor(() => responses(client.received).length >= count, timeoutMs);
  return responses(client.received);
}

// ---------------------------------------------------------------------------------------------
// A fake upstream: loopback TCP, no TLS, a greeting that offers every flag the proxy relays.

export const FAKE_UPSTREAM_CAPABILITIES =
  (ATTACK_CAPABILITIES |
    Capability.FOUND_ROWS |
    Capability.CONNECT_WITH_DB |
    Capability.NO_SCHEMA |
    Capability.IGNORE_SPACE |
    Capability.INTERACTIVE |
    Capability.PS_MULTI_RESULTS |
    Capability.CAN_HANDLE_EXPIRED_PASSWORDS |
    Capability.SESSION_TRACK |
    Capability.DEPRECATE_EOF) >>>
  0;

export interface FakeUpstreamConnection {
  socket: net.Socket;
  /** Every packet the proxy sent, in order (its login response first). */
  packets: Packet[];
  /** Every byte the proxy sent. */
  bytes: Buffer[];
}

export interface FakeUpstream {
  port: number;
  connections: FakeUpstreamConnection[];
  /** Connections accepted and not yet closed. */
  readonly open: number;
  /** The most open at once. */
  readonly peakOpen: number;
  close(): Promise<void>;
}

/**
 * `script` runs on each accepted connection with a reader of the proxy's next packet; by default
 * the fake greets, takes the login response and answers OK, then answers each COM_QUERY with OK.
 */
export async function fakeUpstream(
  script: (connection: FakeUpstreamConnection, next: () => Promise<Packet>, send: (payload: Buffer, sequenceId: number) => void) => Promise<void> | void = defaultScript,
): Promise<FakeUpstream> {
  const connections: FakeUpstreamConnection[] = [];
  const live = new Set<net.Socket>();
  let peak = 0;
  const server = net.createServer((socket) => {
    live.add(socket);
    peak = Math.max(peak, live.size);
    socket.on('close', () => live.delete(socket));
    socket.on('error', () => undefined);
    const connection: FakeUpstreamConnection = { socket, packets: [], bytes: [] };
    connections.push(connection);
    const splitter = new PacketSplitter();
    const queue: Packet[] = [];
    let wake: (() => void) | null = null;
    socket.on('data', (chunk: Buffer) => {
      connection.bytes.push(chunk);
      for (const packet of splitter.push(chunk)) {
        connection.packets.push(packet);
        queue.push(packet);
      }
      wake?.();
    });
    socket.on('close', () => wake?.());
    const next = async (): Promise<Packet> => {
      while (queue.length === 0) {
        if (socket.destroyed) throw new Error('closed');
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
      return queue.shift()!;
    };
    const send = (payload: Buffer, sequenceId: number) => {
      if (!socket.destroyed) socket.write(frame(payload, sequenceId));
    };
    Promise.resolve(script(connection, next, send)).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections,
    get open() {
      return live.size;
    },
    get peakOpen() {
      return peak;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of live) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function fakeGreeting(send: (payload: Buffer, sequenceId: number) => void, pluginName = 'mysql_native_password'): void {
  send(
    buildHandshakeV10({
      serverVersion: '10.11.99-fake',
      connectionId: 7,
      authPluginData: Buffer.from('abcdefghijklmnopqrst'),
      capabilities: FAKE_UPSTREAM_CAPABILITIES,
      characterSet: 45,
      statusFlags: 2,
      authPluginName: pluginName,
    }),
    0,
  );
}

async function defaultScript(_c: FakeUpstreamConnection, next: () => Promise<Packet>, send: (payload: Buffer, sequenceId: number) => void): Promise<void> {
  fakeGreeting(send);
  await next();
  send(buildOk({ statusFlags: 2 }), 2);
  for (;;) {
    await next();
    send(buildOk({ statusFlags: 2 }), 1);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
