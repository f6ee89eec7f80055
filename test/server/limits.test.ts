// What the server bounds before a login, from the wire: max_connections with MySQL's extra slot
// for an administrator (1040), the listen backlog, the memory all unauthenticated handshakes may
// hold together (1041), and how long a refused client may keep its connection.
import { execFileSync } from 'child_process';
import fs from 'fs';
import net from 'net';
import path from 'path';

import mariadb from 'mariadb';

import { Accounts } from '../../lib/server/catalog/accounts';
import { encodePacket } from '../../lib/protocol/framing';
import { PacketChannel } from '../../lib/transport/packet-channel';
import { Capability } from '../../lib/protocol/constants';
import { buildHandshakeResponse41, parseHandshakeV10 } from '../../lib/protocol/handshake';
import { isErrPacket, isOkPacket, parseErr } from '../../lib/protocol/responses';
import { AuthServer, createServer } from '../../lib/server/listener';
import { ServerOptions } from '../../lib/server/options';
import { HandshakeError } from '../../lib/server/refusal';
import { scrambleNativePassword } from '../../lib/auth/native-password';
import { lookupUserSync } from '../../lib/peer/users';
import { close, listen, tempDir, TempDir } from '../helpers/sockets';

const me = lookupUserSync(process.getuid!())!.name;
const CLIENT_CAPS = (Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH |
  Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA) >>> 0;

let dir: TempDir;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => dir.remove());

function accounts(): Accounts {
  const list = new Accounts();
  list.create({ user: me, host: 'localhost', plugin: 'auth_socket' });
  list.create({ user: 'carol', host: 'localhost', plugin: 'mysql_native_password', password: 's3cret' });
  return list;
}

let servers = 0;
async function start(options: Partial<ServerOptions>): Promise<{ server: AuthServer; socketPath: string; refusals: HandshakeError[] }> {
  const server = createServer({ accounts: accounts(), ...options });
  const refusals: HandshakeError[] = [];
  server.on('refuse', (error) => refusals.push(error));
  const socketPath = path.join(dir.path, `limits-${++servers}.sock`);
  await listen(server, socketPath);
  return { server, socketPath, refusals };
}

interface Client {
  socket: net.Socket;
  channel: PacketChannel;
  closed: Promise<void>;
}

/** Connects and reads the first packet: the greeting, or an ERR sent in its place. */
async function open(socketPath: string, allowHalfOpen = false): Promise<Client & { first: Buffer }> {
  const socket = net.connect({ path: socketPath, allowHalfOpen });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const channel = new PacketChannel(socket);
  return { socket, channel, closed, first: await channel.read() };
}

async function login(socketPath: string, user: string, allowHalfOpen = false): Promise<{ client: Client; reply: Buffer }> {
  const client = await open(socketPath, allowHalfOpen);
  const greeting = parseHandshakeV10(client.first);
  const authResponse = user === 'carol' ? scrambleNativePassword('s3cret', greeting.authPluginData) : Buffer.alloc(0);
  await client.channel.write(
    buildHandshakeResponse41({
      capabilities: CLIENT_CAPS,
      maxPacketSize: 1 << 24,
      characterSet: 45,
      user,
      authResponse,
      database: null,
      clientPluginName: 'mysql_native_password',
      connectAttributes: null,
    }),
  );
  return { client, reply: await client.channel.read() };
}

/** Waits until the server itself has seen its connections close (its slots are freed on 'close'). */
async function connectionsDownTo(server: net.Server, count: number): Promise<void> {
  for (;;) {
    const live = await new Promise<number>((resolve, reject) => server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
    if (live <= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const TOO_MANY = { errno: 1040, sqlState: '08004', message: 'Too many connections' };

describe('maxConnections (MySQL max_connections)', () => {
  it('refuses past the limit with 1040, keeping one extra slot for an admin account', async () => {
    const { server, socketPath, refusals } = await start({ maxConnections: 2, adminAccounts: [`${me}@localhost`] });
    const held: Client[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const { client, reply } = await login(socketPath, 'carol');
        expect(isOkPacket(reply)).toBe(true);
        held.push(client);
      }
      // The extra slot: an ordinary account is refused once it is known...
      const ordinary = await login(socketPath, 'carol');
      expect(parseErr(ordinary.reply)).toEqual(TOO_MANY);
      await ordinary.client.closed;
      await connectionsDownTo(server, 2);
      // ...an admin account gets in.
      const admin = await login(socketPath, me);
      expect(isOkPacket(admin.reply)).toBe(true);
      held.push(admin.client);
      // Past the extra slot, the ERR comes in place of the greeting, as MySQL's.
      const beyond = await open(socketPath);
      expect(parseErr(beyond.first)).toEqual(TOO_MANY);
      await beyond.closed;
      await connectionsDownTo(server, 3);
      expect(refusals.map((e) => [e.code, e.errno, e.reason])).toEqual([
        ['ERR_TOO_MANY_CONNECTIONS', 1040, 'too-many-connections'],
        ['ERR_TOO_MANY_CONNECTIONS', 1040, 'too-many-connections'],
      ]);
      // Slots come back when their connections close: with one live, an ordinary login fits again.
      for (const leaving of held.splice(0, 2)) leaving.socket.destroy();
      await connectionsDownTo(server, 1);
      const again = await login(socketPath, 'carol');
      expect(isOkPacket(again.reply)).toBe(true);
      held.push(again.client);
    } finally {
      for (const client of held) client.socket.destroy();
      await close(server);
    }
  });

  it('connections refused as too many hold no slot: after a flood the admin still gets the extra one', async () => {
    const { server, socketPath } = await start({ maxConnections: 1, adminAccounts: [`${me}@localhost`] });
    const held: Client[] = [];
    try {
      held.push((await login(socketPath, 'carol')).client);
      // The extra slot taken, then a flood of refused connections that stay half-open.
      const reserved = await open(socketPath);
      held.push(reserved);
      const flood = await Promise.all(Array.from({ length: 10 }, () => open(socketPath, true)));
      for (const client of flood) expect(parseErr(client.first)).toEqual(TOO_MANY);
      held.push(...flood);
      reserved.socket.destroy();
      await connectionsDownTo(server, 11);
      const admin = await login(socketPath, me);
      expect(isOkPacket(admin.reply)).toBe(true);
      held.push(admin.client);
    } finally {
      for (const client of held) client.socket.destroy();
      await close(server);
    }
  });

  it('survives a refused client that resets the connection before reading its 1040', async () => {
    const { server, socketPath } = await start({ maxConnections: 1 });
    const idle = [await open(socketPath), await open(socketPath)];
    try {
      // Reset with the ERR unread: the server's side sees ECONNRESET during its linger.
      // Paused before it connects, so the ERR stays unread in the kernel: closing then resets.
      const refused = net.connect({ path: socketPath, allowHalfOpen: true });
      refused.pause();
      refused.on('error', () => {});
      await new Promise((resolve) => refused.once('connect', resolve));
      await new Promise((resolve) => setTimeout(resolve, 100));
      refused.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Still serving (the test process is the server: an unhandled 'error' would have failed it).
      for (const client of idle) client.socket.destroy();
      await connectionsDownTo(server, 0);
      const after = await login(socketPath, me);
      expect(isOkPacket(after.reply)).toBe(true);
      after.client.socket.destroy();
    } finally {
      for (const client of idle) client.socket.destroy();
      await close(server);
    }
  });

  it('a real client reads the 1040 refusal', async () => {
    const { server, socketPath } = await start({ maxConnections: 1, adminAccounts: [] });
    const first = await login(socketPath, 'carol');
    const second = await login(socketPath, me);
    try {
      expect(isOkPacket(first.reply)).toBe(true);
      expect(parseErr(second.reply)).toEqual(TOO_MANY);
      await connectionsDownTo(server, 1);
      await expect(mariadb.createConnection({ socketPath, user: me })).rejects.toMatchObject({ errno: 1040 });
    } finally {
      first.client.socket.destroy();
      second.client.socket.destroy();
      await close(server);
    }
  });

  it('refuses bad limits at construction', () => {
    for (const maxConnections of [0, -1, 1.5, Number.NaN]) {
      expect(() => createServer({ accounts: accounts(), maxConnections })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
    expect(() => createServer({ accounts: accounts(), adminAccounts: ['root'] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe('listen backlog', () => {
  // ss shows a listening TCP socket's backlog as its Send-Q.
  function backlogOf(port: number): number {
    const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim();
    return Number(line.split(/\s+/)[2]);
  }
  const somaxconn = Number(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));

  it.each([
    ['listen(port, host, cb)', (server: net.Server, done: () => void) => server.listen(0, '127.0.0.1', done)],
    ['listen({ port, host }, cb)', (server: net.Server, done: () => void) => server.listen({ port: 0, host: '127.0.0.1' }, done)],
  ])('%s uses 4096 (capped by somaxconn), not Node\'s 511', async (_form, call) => {
    const server = createServer({ accounts: accounts() });
    await new Promise<void>((resolve) => call(server, resolve));
    try {
      expect(backlogOf((server.address() as net.AddressInfo).port)).toBe(Math.min(4096, somaxconn));
    } finally {
      await close(server);
    }
  });

  // Every form of listen() Node takes, read as Node reads it (net.js): [call, expected backlog].
  const forms: Array<[string, (server: net.Server, done: () => void) => void, number]> = [
    ['listen({ port, host }, 7, cb)', (server, done) => server.listen({ port: 0, host: '127.0.0.1' }, 7, done), 7],
    ['listen({ port, host, backlog: undefined }, cb)', (server, done) => server.listen({ port: 0, host: '127.0.0.1', backlog: undefined }, done), 4096],
    ["listen('0', host, cb): a numeric string is a port", (server, done) => (server.listen as (...args: unknown[]) => net.Server)('0', '127.0.0.1', done), 4096],
    ['listen(port, host, 9, cb)', (server, done) => server.listen(0, '127.0.0.1', 9, done), 9],
  ];
  it.each(forms)('%s', async (_form, call, expected) => {
    const server = createServer({ accounts: accounts() });
    await new Promise<void>((resolve) => call(server, resolve));
    try {
      expect(backlogOf((server.address() as net.AddressInfo).port)).toBe(Math.min(expected, somaxconn));
    } finally {
      await close(server);
    }
  });

  it('a backlog the caller names still wins', async () => {
    const server = createServer({ accounts: accounts() });
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 77 }, resolve));
    try {
      expect(backlogOf((server.address() as net.AddressInfo).port)).toBe(77);
    } finally {
      await close(server);
    }
  });
});

describe('memory held by unauthenticated connections (maxHandshakeMemory)', () => {
  it('refuses with 1041 the connection that would go past the total, and gives the bytes back when they leave', async () => {
    const { server, socketPath, refusals } = await start({ maxHandshakeMemory: 200_000, connectTimeout: 60_000 });
    // Each announces a 64,000-byte response and sends 60,000 bytes of it.
    const partial = encodePacket(Buffer.alloc(64_000, 0x41), 1).frame.subarray(0, 60_004);
    const clients: Array<Client & { first: Buffer }> = [];
    try {
      for (let i = 0; i < 3; i++) {
        const client = await open(socketPath);
        client.socket.write(partial);
        clients.push(client);
      }
      // Three fit (180,000 bytes); the fourth would go past 200,000.
      const fourth = await open(socketPath);
      fourth.socket.write(partial);
      const err = await fourth.channel.read();
      expect(isErrPacket(err)).toBe(true);
      expect(parseErr(err)).toMatchObject({ errno: 1041, sqlState: 'HY000' });
      expect(refusals.at(-1)).toMatchObject({ code: 'ERR_OUT_OF_RESOURCES', reason: 'handshake-memory-budget' });
      // The three are still in their handshake, untouched.
      for (const client of clients) expect(client.socket.destroyed).toBe(false);
      for (const client of clients) client.socket.destroy();
      await connectionsDownTo(server, 0);
      // Their bytes are given back: three partial handshakes fit again, and a login goes through.
      for (let i = 0; i < 3; i++) {
        const client = await open(socketPath);
        client.socket.write(partial);
        clients.push(client);
      }
      const { client, reply } = await login(socketPath, me);
      expect(isOkPacket(reply)).toBe(true);
      client.socket.destroy();
    } finally {
      for (const client of clients) client.socket.destroy();
      await close(server);
    }
  });
});

describe('a refused client that never closes', () => {
  it('is closed about a second after its ERR, not after another connect timeout', async () => {
    const { server, socketPath } = await start({ connectTimeout: 60_000 });
    try {
      // Half-open: the client reads the server's end but keeps its own side open.
      const { client, reply } = await login(socketPath, 'nobody-here', true);
      expect(parseErr(reply).errno).toBe(1045);
      const hungUp = connectionsDownTo(server, 0).then(() => 'closed by the server');
      const stillOpen = new Promise((resolve) => setTimeout(() => resolve('still open after 5 s'), 5_000));
      expect(await Promise.race([hungUp, stillOpen])).toBe('closed by the server');
      client.socket.destroy();
    } finally {
      await close(server);
    }
  });
});
