// createServer({ tls }): the SSLRequest, TLS on the same socket, the login and the session inside
// it; caching_sha2_password's full authentication sending the password only inside TLS (a TCP
// pass-through records every byte on the wire and the password's bytes never show), plain TCP
// getting RSA or a refusal, never the password; and the real mariadb CLI and mysql2 over TLS.
import { execFile } from 'child_process';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';
import tls from 'tls';
import { promisify } from 'util';

import mysql from 'mysql2/promise';

import { cachingSha2Password } from '../../lib/client/plugins/caching-sha2-password';
import { ClientConnection, connect, ConnectOptions } from '../../lib/client/connect';
import { declareClientPlugin } from '../../lib/client/plugin';
import { CR_OK } from '../../lib/auth/vio';
import { PERFORM_FULL_AUTHENTICATION } from '../../lib/auth/caching-sha2';
import { Accounts } from '../../lib/server/catalog/accounts';
import { AuthServer, createServer } from '../../lib/server/listener';
import { HandshakeError } from '../../lib/server/refusal';
import { Capability } from '../../lib/protocol/constants';
import { buildHandshakeResponse41, buildSslRequest, parseHandshakeV10 } from '../../lib/protocol/handshake';
import { isErrPacket, parseErr } from '../../lib/protocol/responses';
import { PacketChannel } from '../../lib/transport/packet-channel';
import { queryRows } from '../helpers/client-session';
import { close, listen, tempDir, TempDir } from '../helpers/sockets';
import { makeTestCertificates, TestCertificates } from '../helpers/tls-certs';

jest.setTimeout(30_000);

const me = os.userInfo().username;
const PASSWORD = 'pässword-only-inside-TLS';
const passwordBytes = Buffer.from(PASSWORD, 'utf8');

let certs: TestCertificates;
let ca: Buffer;
let accounts: Accounts;
let server: AuthServer;
let port: number;
let dir: TempDir;
let socketPath: string;
let plainServer: AuthServer;
let plainPort: number;
const refusals: HandshakeError[] = [];
let accountCount = 0;

/** A caching_sha2_password account nobody logged in to yet: its first login is a full authentication. */
function freshSha2Account(): string {
  const user = `sha2_${++accountCount}`;
  accounts.create({ user, host: '%', plugin: 'caching_sha2_password', password: PASSWORD });
  return user;
}

beforeAll(async () => {
  certs = makeTestCertificates();
  ca = fs.readFileSync(certs.ca);
  accounts = new Accounts();
  accounts.create({ user: 'native', host: '%', plugin: 'mysql_native_password', password: PASSWORD });
  accounts.create({ user: 'simple', host: '%', plugin: 'auth_simple', authenticationString: PASSWORD });
  accounts.create({ user: me, host: 'localhost', plugin: 'auth_socket' });
  server = createServer({ accounts, tls: { key: fs.readFileSync(certs.serverKey), cert: fs.readFileSync(certs.serverCert) }, connectTimeout: 2_000 });
  server.on('refuse', (error) => refusals.push(error));
  await listen(server, { port: 0, host: '127.0.0.1' });
  port = (server.address() as net.AddressInfo).port;
  dir = tempDir();
  socketPath = path.join(dir.path, 'mysqld.sock');
  const onSocket = createServer({ accounts, tls: { key: fs.readFileSync(certs.serverKey), cert: fs.readFileSync(certs.serverCert) } });
  await listen(onSocket, socketPath);
  plainServer = createServer({ accounts });
  plainServer.on('refuse', (error) => refusals.push(error));
  await listen(plainServer, { port: 0, host: '127.0.0.1' });
  plainPort = (plainServer.address() as net.AddressInfo).port;
  extraServers.push(onSocket);
});

const extraServers: AuthServer[] = [];
const open: ClientConnection[] = [];
const relays: Relay[] = [];

afterEach(() => {
  for (const connection of open.splice(0)) connection.socket.destroy();
  for (const relay of relays.splice(0)) relay.close();
  refusals.length = 0;
});

afterAll(async () => {
  await Promise.all([close(server), close(plainServer), ...extraServers.map(close)]);
  dir?.remove();
  certs?.remove();
});

/** A TCP pass-through that keeps every byte each way, as they went over the wire. */
interface Relay {
  port: number;
  toServer(): Buffer;
  toClient(): Buffer;
  close(): void;
}

async function recordingRelay(targetPort: number): Promise<Relay> {
  const toServer: Buffer[] = [];
  const toClient: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const [from, to, record] of [
      [client, upstream, toServer],
      [upstream, client, toClient],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk) => {
        record.push(chunk);
        to.write(chunk);
      });
      from.on('error', () => {});
      from.on('close', () => to.destroy());
    }
  });
  await listen(relay, { port: 0, host: '127.0.0.1' });
  const result: Relay = {
    port: (relay.address() as net.AddressInfo).port,
    toServer: () => Buffer.concat(toServer),
    toClient: () => Buffer.concat(toClient),
    close: () => {
      for (const socket of sockets) socket.destroy();
      relay.close();
    },
  };
  relays.push(result);
  return result;
}

/** caching_sha2_password's client plugin, recording what it writes (inside whatever transport). */
function recordingSha2(writes: Buffer[]) {
  return declareClientPlugin({
    name: 'caching_sha2_password',
    author: 'test',
    description: 'records writes',
    version: [1, 0, 0],
    license: 'MIT',
    authenticate(vio, handle) {
      const write = vio.writePacket.bind(vio);
      vio.writePacket = (data: Buffer) => {
        writes.push(Buffer.from(data));
        return write(data);
      };
      return cachingSha2Password.authenticate(vio, handle);
    },
  });
}

async function login(options: Partial<ConnectOptions>): Promise<ClientConnection> {
  const connection = await connect({ host: '127.0.0.1', port, user: 'native', password: PASSWORD, timeout: 5_000, ...options });
  open.push(connection);
  return connection;
}

// What a client sent on the wire: the SSLRequest (a 32-byte packet with CLIENT_SSL), then only
// TLS records (the first a handshake record, 0x16), and the password's bytes nowhere.
function expectOnlyTlsAfterSslRequest(wire: Buffer): void {
  expect(wire.readUIntLE(0, 3)).toBe(32);
  expect(wire.readUInt32LE(4) & Capability.SSL).toBe(Capability.SSL);
  expect(wire[36]).toBe(0x16);
  expect(wire.indexOf(passwordBytes)).toBe(-1);
}

describe('caching_sha2_password full authentication', () => {
  it('over TLS sends the password in cleartext, and only inside TLS', async () => {
    const relay = await recordingRelay(port);
    const writes: Buffer[] = [];
    const user = freshSha2Account();
    const connection = await login({ port: relay.port, user, sslMode: 'VERIFY_IDENTITY', ssl: { ca }, plugins: [recordingSha2(writes)] });
    expect(connection.tls).toBe(true);
    expect(connection.plugin).toBe('caching_sha2_password');
    // The plugin did send the password as typed (full authentication, not the cache's fast path)...
    expect(writes).toContainEqual(Buffer.concat([passwordBytes, Buffer.of(0)]));
    // ... and the wire never carried it.
    expectOnlyTlsAfterSslRequest(relay.toServer());
    expect(relay.toClient().indexOf(passwordBytes)).toBe(-1);
    // The session runs inside TLS too.
    expect(await queryRows(connection, 'SELECT CURRENT_USER()')).toEqual([[`${user}@%`]]);
  });

  it('over plain TCP refuses without the server key: no password on the wire', async () => {
    const relay = await recordingRelay(port);
    const writes: Buffer[] = [];
    const error = await login({ port: relay.port, user: freshSha2Account(), sslMode: 'DISABLED', plugins: [recordingSha2(writes)] }).catch((e) => e);
    expect(error).toMatchObject({ code: 'ERR_AUTH_PLUGIN_FAILED', message: expect.stringMatching(/public key/) });
    expect(writes.some((write) => write.indexOf(passwordBytes) >= 0)).toBe(false);
    expect(relay.toServer().indexOf(passwordBytes)).toBe(-1);
  });

  it('over plain TCP with getServerPublicKey uses RSA: logged in, no password on the wire', async () => {
    const relay = await recordingRelay(plainPort);
    const writes: Buffer[] = [];
    const user = freshSha2Account();
    const connection = await login({
      port: relay.port,
      user,
      pluginOptions: { getServerPublicKey: true },
      plugins: [recordingSha2(writes)],
    });
    expect(connection.tls).toBe(false);
    expect(writes[writes.length - 1].length).toBe(256); // RSA-2048 ciphertext
    expect(writes.some((write) => write.indexOf(passwordBytes) >= 0)).toBe(false);
    expect(relay.toServer().indexOf(passwordBytes)).toBe(-1);
  });

  it('the server takes a cleartext password inside TLS and refuses it over plain TCP (is_tls_established)', async () => {
    const cleartext = declareClientPlugin({
      name: 'caching_sha2_password',
      author: 'test',
      description: 'always sends the password as typed',
      version: [1, 0, 0],
      license: 'MIT',
      async authenticate(vio, handle) {
        await vio.readPacket();
        await vio.writePacket(Buffer.alloc(32)); // a wrong scramble: full authentication follows
        const verdict = await vio.readPacket();
        expect(verdict).toEqual(Buffer.of(PERFORM_FULL_AUTHENTICATION));
        await vio.writePacket(Buffer.concat([Buffer.from(handle.password), Buffer.of(0)]));
        return CR_OK;
      },
    });
    const inside = await login({ user: freshSha2Account(), sslMode: 'REQUIRED', plugins: [cleartext] });
    expect(inside.tls).toBe(true);
    await expect(login({ port: plainPort, user: freshSha2Account(), plugins: [cleartext] })).rejects.toMatchObject({ code: 'ERR_SERVER_ERROR', errno: 1045 });
    expect(refusals.map((refusal) => refusal.reason)).toEqual(['malformed-password']);
  });
});

describe('the TLS session', () => {
  it('PREFERRED over TCP gets TLS; the login says so; the session answers inside it', async () => {
    const logins: boolean[] = [];
    const onLogin = (connection: { tls: boolean }) => logins.push(connection.tls);
    server.on('login', onLogin);
    try {
      const connection = await login({});
      expect(connection.tls).toBe(true);
      expect(connection.capabilities & Capability.SSL).toBe(Capability.SSL);
      expect(await queryRows(connection, 'SELECT CURRENT_USER()')).toEqual([['native@%']]);
    } finally {
      server.off('login', onLogin);
    }
    expect(logins).toEqual([true]);
  });

  it('a refusal inside TLS reaches the client as its ERR', async () => {
    await expect(login({ password: 'wrong', sslMode: 'REQUIRED' })).rejects.toMatchObject({ code: 'ERR_SERVER_ERROR', errno: 1045 });
    await until(() => refusals.length > 0);
    expect(refusals[0]).toMatchObject({ code: 'ERR_ACCESS_DENIED', errno: 1045 });
  });

  it('auth_socket still knows the peer over TLS on a Unix socket', async () => {
    const connection = await login({ host: undefined, port: undefined, socketPath, user: me, password: undefined, sslMode: 'REQUIRED' });
    expect(connection.tls).toBe(true);
    expect(await queryRows(connection, 'SELECT CURRENT_USER(), @@external_user')).toEqual([[`${me}@localhost`, me]]);
  });

  it('a cleartext plugin over TLS still needs enableCleartextPlugin, as MySQL', async () => {
    await expect(login({ user: 'simple', sslMode: 'REQUIRED' })).rejects.toMatchObject({ code: 'ERR_PLUGIN_NOT_ENABLED', errno: 2059 });
    const connection = await login({ user: 'simple', sslMode: 'REQUIRED', enableCleartextPlugin: true });
    expect(connection.plugin).toBe('auth_simple');
  });

  it('a client that rejects our certificate gets 2026; we see it go away after the handshake', async () => {
    await expect(login({ sslMode: 'VERIFY_CA', ssl: { ca: fs.readFileSync(certs.otherCa) } })).rejects.toMatchObject({ code: 'ERR_SSL_CONNECTION', errno: 2026 });
    await until(() => refusals.length > 0);
    // Node's client checks the chain once TLS is up, then hangs up: nothing failed on our side.
    expect(refusals[0]).toMatchObject({ code: 'ERR_CONNECTION_CLOSED', errno: null });
  });

  it('a failed TLS handshake is ERR_SSL_CONNECTION on our side, with no ERR sent in clear', async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    const channel = new PacketChannel(socket);
    parseHandshakeV10(await channel.read());
    await channel.write(buildSslRequest(Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION, 1 << 24, 45));
    const received: Buffer[] = [];
    channel.detach();
    socket.on('data', (chunk) => received.push(chunk));
    socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    await until(() => refusals.length > 0);
    expect(refusals[0]).toMatchObject({ code: 'ERR_SSL_CONNECTION', reason: 'tls-handshake-failed', errno: null, message: expect.stringMatching(/^the TLS handshake failed: /) });
    // At most a TLS alert went back (record type 0x15), never an ERR packet.
    const answer = Buffer.concat(received);
    expect(answer.length === 0 || answer[0] === 0x15).toBe(true);
  });

  it('a client that asks for TLS and goes silent is dropped at connect_timeout', async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    const channel = new PacketChannel(socket);
    parseHandshakeV10(await channel.read());
    await channel.write(buildSslRequest(Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION, 1 << 24, 45));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await closed;
    expect(refusals[0]).toMatchObject({ code: 'ERR_CONNECT_TIMEOUT' });
  });

  it('refuses CLIENT_SSL without an SSLRequest, and an SSLRequest where no TLS is offered', async () => {
    const response = (capabilities: number) =>
      buildHandshakeResponse41({ capabilities, maxPacketSize: 1 << 24, characterSet: 45, user: 'native', authResponse: Buffer.alloc(0), database: null, clientPluginName: null, connectAttributes: null });
    const base = Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION;
    for (const [target, packet] of [
      [port, response(base | Capability.SSL)],
      [plainPort, buildSslRequest(base, 1 << 24, 45)],
    ] as const) {
      const socket = net.connect(target, '127.0.0.1');
      socket.on('error', () => {});
      const channel = new PacketChannel(socket);
      const greeting = parseHandshakeV10(await channel.read());
      expect(greeting.capabilities & Capability.SSL).toBe(target === port ? Capability.SSL : 0);
      await channel.write(packet);
      const answer = await channel.read();
      expect(isErrPacket(answer) && parseErr(answer)).toMatchObject({ errno: 1043 });
      socket.destroy();
    }
    expect(refusals.map((refusal) => refusal.reason)).toEqual(['tls-not-offered', 'tls-not-offered']);
  });
});

describe('other clients over TLS', () => {
  it('the mariadb CLI (--ssl --ssl-ca --ssl-verify-server-cert) logs in with caching_sha2_password; the wire shows TLS only', async () => {
    const relay = await recordingRelay(port);
    const user = freshSha2Account();
    const { stdout } = await promisify(execFile)('mariadb', [
      '--no-defaults',
      '--protocol=TCP',
      '-h127.0.0.1',
      `-P${relay.port}`,
      '--ssl',
      `--ssl-ca=${certs.ca}`,
      '--ssl-verify-server-cert',
      `-u${user}`,
      `-p${PASSWORD}`,
      '-N',
      '-e',
      'SELECT CURRENT_USER()',
    ]);
    expect(stdout.trim()).toBe(`${user}@%`);
    expectOnlyTlsAfterSslRequest(relay.toServer());
  });

  it('mysql2 with ssl logs in with caching_sha2_password and queries; the wire shows TLS only', async () => {
    const relay = await recordingRelay(port);
    const user = freshSha2Account();
    const db = await mysql.createConnection({ host: '127.0.0.1', port: relay.port, user, password: PASSWORD, ssl: { ca } });
    try {
      const [rows] = await db.query('SELECT CURRENT_USER() AS who');
      expect(rows).toEqual([{ who: `${user}@%` }]);
    } finally {
      await db.end();
    }
    expectOnlyTlsAfterSslRequest(relay.toServer());
  });
});

describe('options.tls', () => {
  it('is checked when the server is made', () => {
    expect(() => createServer({ accounts, tls: { cert: fs.readFileSync(certs.serverCert) } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => createServer({ accounts, tls: { key: 'not a key', cert: 'not a cert' } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => createServer({ accounts, tls: 'yes' as unknown as tls.SecureContextOptions })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
