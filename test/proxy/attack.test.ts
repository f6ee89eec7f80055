// Attacks on createProxy(), each test asserting the SAFE behaviour the README's "Front any MySQL"
// promises: (1) no dial-out before a login, (2) COM_CHANGE_USER reaches only what a login could,
// (3) bytes whole and in order, the proxy's own answers in their turn, (4) failures are MySQL
// errors, never a hang, (5) os_* attributes cannot be spoofed, (6) the upstream password never
// leaks, (7) bounded resources. A private MariaDB 10.11 with TLS and require_secure_transport is
// the real upstream (as proxy.test.ts sets it up); fake upstreams on loopback script the rest.
import crypto from 'crypto';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';
import util from 'util';

import mysql2 from 'mysql2/promise';

import { buildChangeUser } from '../../lib/protocol/change-user';
import { buildHandshakeResponse41 } from '../../lib/protocol/handshake';
import { buildErr, buildOk } from '../../lib/protocol/responses';
import { createProxy, ProxyOptions, ProxyServer } from '../../lib/proxy/proxy';
import { UpstreamOptions } from '../../lib/proxy/upstream';
import { Accounts, AccountSpec } from '../../lib/server/catalog/accounts';
import type { HandshakeError } from '../../lib/server/refusal';
import { MariadbInstance } from '../helpers/mariadb';
import {
  ATTACK_CAPABILITIES,
  BareClient,
  collect,
  describe as describePacket,
  errno,
  fakeGreeting,
  fakeUpstream,
  FakeUpstream,
  frame,
  isErr,
  physical,
  query,
  sleep,
} from '../helpers/proxy-attack';
import { TestCertificates } from '../helpers/tls-certs';
import { startTlsUpstream, TlsUpstream } from '../helpers/tls-upstream';

jest.setTimeout(30_000);

const me = os.userInfo().username;
const myUid = String(process.getuid!());
let upstream: TlsUpstream;
let certs: TestCertificates;
let db: MariadbInstance;
let dir: string;
const proxies: ProxyServer[] = [];
const fakes: FakeUpstream[] = [];
const clients = new Set<BareClient>();
// Every socket each proxy accepted, in order: the proxy's end of a client's connection.
const accepted = new Map<ProxyServer, net.Socket[]>();
const refusals = new Map<ProxyServer, HandshakeError[]>();

let APP_PASSWORD: string;
const OUTSIDER_PASSWORD = 'outsider-pw-' + crypto.randomBytes(4).toString('hex');

beforeAll(async () => {
  upstream = await startTlsUpstream();
  ({ db, certs, appPassword: APP_PASSWORD } = upstream);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-attack-'));
  // An upstream account no local account maps to: nobody may become it through the proxy.
  await db.query(`CREATE USER 'outsider'@'%' IDENTIFIED BY '${OUTSIDER_PASSWORD}'`);
  await db.query('CREATE DATABASE shop');
  await db.query('CREATE TABLE shop.infile (a LONGTEXT, b VARCHAR(64))');
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.close();
  for (const sockets of accepted.values()) for (const socket of sockets) socket.destroy();
  await Promise.all(proxies.map((proxy) => new Promise((resolve) => proxy.close(resolve))));
  await Promise.all(fakes.map((fake) => fake.close()));
  await upstream?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function upstreamOf(overrides: Partial<UpstreamOptions> = {}): UpstreamOptions {
  return { host: '127.0.0.1', port: db.port, sslMode: 'VERIFY_IDENTITY', ssl: { ca: fs.readFileSync(certs.ca) }, ...overrides };
}

let proxyCount = 0;
async function startProxy(accounts: AccountSpec[], upstream: UpstreamOptions, extra: Partial<ProxyOptions> = {}): Promise<{ proxy: ProxyServer; socketPath: string }> {
  const list = new Accounts();
  for (const spec of accounts) list.create(spec);
  const proxy = createProxy({ accounts: list, upstream, ...extra });
  proxies.push(proxy);
  accepted.set(proxy, []);
  refusals.set(proxy, []);
  proxy.on('connection', (socket: net.Socket) => accepted.get(proxy)!.push(socket));
  proxy.on('refuse', (error: HandshakeError) => refusals.get(proxy)!.push(error));
  const socketPath = path.join(dir, `proxy-${proxyCount++}.sock`);
  await new Promise<void>((resolve) => proxy.listen(socketPath, resolve));
  return { proxy, socketPath };
}

async function startFake(...args: Parameters<typeof fakeUpstream>): Promise<FakeUpstream> {
  const fake = await fakeUpstream(...args);
  fakes.push(fake);
  return fake;
}

const relayed = (user: string, upstreamUser: string, password: string, as = me): AccountSpec => ({
  user,
  host: 'localhost',
  plugin: 'auth_socket',
  authenticationString: as,
  attributes: { upstream_user: upstreamUser, upstream_password: password },
});

async function login(socketPath: string, user = me, options: Partial<Parameters<typeof BareClient.login>[0]> = {}): Promise<BareClient> {
  const { client } = await BareClient.login({ socketPath, user, ...options });
  clients.add(client);
  return client;
}

/** Runs one statement on a bare client and returns its response. */
async function run(client: BareClient, sql: string, timeoutMs = 5000) {
  const before = (await collect(client, 0, 0)).length;
  client.send(query(sql));
  const all = await collect(client, before + 1, timeoutMs);
  if (all.length <= before) throw new Error(`no answer to ${sql} (closed: ${client.closed})`);
  return all[before];
}

async function rowsOf(client: BareClient, sql: string): Promise<Array<Array<string | null>>> {
  const response = await run(client, sql);
  if (response.kind !== 'rows') throw new Error(`${sql}: ${JSON.stringify(response)}`);
  return response.rows;
}

const changeUser = (user: string, connectAttributes: Record<string, string> | null = null, database: string | null = null): Buffer =>
  buildChangeUser(
    { user, authResponse: Buffer.alloc(0), database, characterSet: 45, clientPluginName: 'mysql_native_password', connectAttributes },
    ATTACK_CAPABILITIES,
  );

/** A HandshakeResponse41 for `me` (auth_socket decides), framed with sequence id 1. */
const loginResponse = (): Buffer =>
  frame(
    buildHandshakeResponse41({
      capabilities: ATTACK_CAPABILITIES,
      maxPacketSize: 1 << 24,
      characterSet: 45,
      user: me,
      authResponse: Buffer.alloc(0),
      database: null,
      clientPluginName: 'mysql_native_password',
      connectAttributes: {},
    }),
    1,
  );

/** Open sockets of this process (the proxy runs in it). */
const openSockets = (): number =>
  fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
    } catch {
      return false;
    }
  }).length;

async function upstreamSessions(users: string[]): Promise<number> {
  const [row] = await db.query(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER IN (${users.map((u) => `'${u}'`).join(',')})`);
  return Number(row.n);
}

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
}

let socketPath: string;
let mainProxy: ProxyServer;

beforeAll(async () => {
  ({ proxy: mainProxy, socketPath } = await startProxy(
    [
      relayed(me, 'app', APP_PASSWORD),
      relayed('reports', 'reporter', upstream.reporterPassword),
      relayed('someone', 'outsider', OUTSIDER_PASSWORD, 'not-' + me),
      relayed('wrongpw', 'app', 'not-the-password'),
      { user: 'local', host: 'localhost', plugin: 'auth_socket', authenticationString: me },
    ],
    upstreamOf(),
  ));
});

// ---------------------------------------------------------------------------------------------
describe('(1) an unauthenticated client never makes the proxy dial out', () => {
  test('silent sockets, garbage, refused and unknown logins: the upstream sees no connection at all', async () => {
    const fake = await startFake();
    const { socketPath: path1 } = await startProxy([relayed(me, 'app', 'x'), relayed('someone', 'app', 'x', 'not-' + me)], { host: '127.0.0.1', port: fake.port, sslMode: 'DISABLED' });
    const opened: BareClient[] = [];
    for (let i = 0; i < 15; i++) opened.push(await BareClient.open(path1));
    for (const client of opened.slice(0, 5)) client.write(Buffer.from('\x05\x00\x00\x01garbage'));
    const refused = await Promise.all([
      ...Array.from({ length: 5 }, () => BareClient.login({ socketPath: path1, user: 'someone' }, true)),
      ...Array.from({ length: 5 }, () => BareClient.login({ socketPath: path1, user: 'nobody-' + crypto.randomBytes(3).toString('hex') }, true)),
    ]);
    for (const { client, answer } of refused) {
      opened.push(client);
      expect(describePacket(answer)).toMatch(/^ERR (1698|1045)/);
    }
    await sleep(200);
    expect(fake.connections.length).toBe(0);
    for (const client of opened) client.close();
  });

  // Was a finding (fixed in f9d1f8a): the dial ran on to its login or connectTimeout after the client left.
  test('a client that logs in and leaves while the upstream is being dialled: the proxy drops that dial at once', async () => {
    // An upstream that accepts and never greets: the dial stays in progress until its timeout.
    const fake = await startFake(() => undefined);
    const { socketPath: path1 } = await startProxy([relayed(me, 'app', 'x')], { host: '127.0.0.1', port: fake.port, sslMode: 'DISABLED', connectTimeout: 8000 });
    const client = await BareClient.open(path1);
    await client.until(1);
    client.write(loginResponse());
    expect(await eventually(() => fake.connections.length === 1, 2000)).toBe(true);
    client.close();
    // SAFE: the upstream socket of a login nobody waits for is closed now, not at connectTimeout.
    expect(await eventually(() => fake.open === 0, 1000)).toBe(true);
  });

  // Was a finding (fixed in f9d1f8a): dials of logins that left piled up past max_connections.
  test('login-and-leave in a loop cannot hold more upstream dials than max_connections', async () => {
    const fake = await startFake(() => undefined);
    const { socketPath: path1 } = await startProxy([relayed(me, 'app', 'x')], { host: '127.0.0.1', port: fake.port, sslMode: 'DISABLED', connectTimeout: 8000 }, { maxConnections: 2 });
    const response = loginResponse();
    for (let i = 0; i < 12; i++) {
      const client = await BareClient.open(path1);
      await client.until(1);
      client.write(response);
      await eventually(() => fake.connections.length === i + 1, 1000);
      client.close();
      await sleep(10);
    }
    // SAFE: at most max_connections (+1 administrator slot) upstream dials at once.
    expect(fake.peakOpen).toBeLessThanOrEqual(3);
  });
});

// ---------------------------------------------------------------------------------------------
describe('(2) COM_CHANGE_USER reaches only what a login could, and a refused one changes nothing', () => {
  test.each([
    ['an account of another OS user', 'someone', 1698],
    // The decoy account of an unknown name speaks mysql_native_password: MySQL's 1045 (using password: NO).
    ['an unknown account', 'no-such-account', 1045],
    ['an account served by the proxy itself', 'local', null],
    ['an account whose upstream refuses its credentials', 'wrongpw', 1045],
  ])('to %s: an ERR, and the session is exactly as it was', async (_what, user, expectedErrno) => {
    const client = await login(socketPath);
    expect((await run(client, 'SET @kept = 42')).kind).toBe('ok');
    client.send(changeUser(user));
    const [answer] = (await collect(client, 2)).slice(1);
    expect(answer.kind).toBe('err');
    if (expectedErrno !== null && answer.kind === 'err') expect(answer.errno).toBe(expectedErrno);
    expect(await rowsOf(client, 'SELECT CURRENT_USER(), @kept')).toEqual([['app@%', '42']]);
    client.close();
  });

  test('a malformed COM_CHANGE_USER (a user name without its NUL): an ERR, and the session goes on', async () => {
    const client = await login(socketPath);
    client.send(Buffer.from('\x11reports'));
    const [answer] = await collect(client, 1);
    expect(answer.kind).toBe('err');
    expect(await rowsOf(client, 'SELECT CURRENT_USER()')).toEqual([['app@%']]);
    client.close();
  });

  test('a COM_CHANGE_USER with a sequence id other than 0 is never relayed as a change of user upstream', async () => {
    const client = await login(socketPath);
    // Smuggled: the upstream's own COM_CHANGE_USER to an account no local account maps to.
    const smuggled = buildChangeUser(
      { user: 'outsider', authResponse: Buffer.alloc(0), database: null, characterSet: 45, clientPluginName: 'client_ed25519', connectAttributes: {} },
      ATTACK_CAPABILITIES,
    );
    client.write(frame(smuggled, 1));
    await sleep(300);
    // Answer an auth switch the upstream might have sent, with the outsider's real proof.
    const switchRequest = client.received.find((p) => p.payload[0] === 0xfe);
    if (switchRequest !== undefined) {
      const nameEnd = switchRequest.payload.indexOf(0, 1);
      const scramble = switchRequest.payload.subarray(nameEnd + 1, nameEnd + 21);
      const sha1 = (...parts: Buffer[]) => crypto.createHash('sha1').update(Buffer.concat(parts)).digest();
      const stage1 = sha1(Buffer.from(OUTSIDER_PASSWORD));
      const mix = sha1(scramble, sha1(stage1));
      client.write(frame(Buffer.from(stage1.map((b, i) => b ^ mix[i])), switchRequest.sequenceId + 1));
      await sleep(300);
    }
    client.received.length = 0;
    if (!client.closed) {
      client.send(query('SELECT CURRENT_USER()'));
      await collect(client, 1, 2000);
    }
    const cells = client.received.flatMap((p) => p.payload.toString('latin1'));
    expect(cells.join('|')).not.toMatch(/outsider@/);
    client.close();
  });

  test('a 70 KiB COM_CHANGE_USER: the session ends at once (nothing buffered past 64 KiB), and the proxy serves others', async () => {
    const client = await login(socketPath);
    client.send(changeUser('reports', { pad: 'x'.repeat(70 * 1024) }));
    expect(await client.waitClosed(3000)).toBe(true);
    const other = await login(socketPath);
    expect(await rowsOf(other, 'SELECT CURRENT_USER()')).toEqual([['app@%']]);
    other.close();
  });

  // Was a finding (fixed in f9d1f8a): the proxy closed without a word; MySQL answers 1153 first.
  test('a 70 KiB COM_CHANGE_USER is answered with a MySQL error before the connection closes', async () => {
    const client = await login(socketPath);
    client.send(changeUser('reports', { pad: 'x'.repeat(70 * 1024) }));
    await client.waitClosed(3000);
    expect(describePacket(client.received[0])).toMatch(/^ERR /);
  });

  test('a refused COM_CHANGE_USER never dials the upstream; an accepted one dials exactly once', async () => {
    const fake = await startFake();
    const { socketPath: path1 } = await startProxy(
      [relayed(me, 'app', 'x'), relayed('other', 'app', 'x'), relayed('someone', 'app', 'x', 'not-' + me)],
      { host: '127.0.0.1', port: fake.port, sslMode: 'DISABLED' },
    );
    const client = await login(path1);
    client.send(changeUser('someone'), changeUser('no-such-account'), changeUser('other'));
    const all = await collect(client, 3);
    expect(all.map((r) => r.kind)).toEqual(['err', 'err', 'ok']);
    expect(fake.connections.length).toBe(2);
    client.close();
  });

  test('twenty changes of user leave no upstream session and no listener behind', async () => {
    const before = await upstreamSessions(['app', 'reporter']);
    const client = await login(socketPath);
    const serverEnd = accepted.get(mainProxy)!.at(-1)!;
    const listeners = () => ['data', 'end', 'close', 'error', 'drain'].map((e) => serverEnd.listenerCount(e));
    const initial = listeners();
    for (let i = 0; i < 20; i++) {
      client.send(changeUser(i % 2 === 0 ? 'reports' : me));
      const all = await collect(client, i + 1);
      expect(all[i]).toEqual({ kind: 'ok' });
    }
    expect(await rowsOf(client, 'SELECT CURRENT_USER()')).toEqual([['app@%']]);
    expect(listeners()).toEqual(initial);
    // The nineteen upstream sessions left behind are gone; this one remains.
    expect(await eventually(async () => (await upstreamSessions(['app', 'reporter'])) === before + 1, 3000)).toBe(true);
    client.close();
  });
});

// ---------------------------------------------------------------------------------------------
describe('(3) every byte, in order; the proxy answers in its turn', () => {
  test('COM_QUERY + COM_CHANGE_USER + COM_QUERY + COM_CHANGE_USER(refused) + COM_QUERY in one write: answers in order', async () => {
    const client = await login(socketPath);
    client.send(query('SELECT 1'), changeUser('reports'), query('SELECT CURRENT_USER()'), changeUser('someone'), query('SELECT CURRENT_USER()'));
    const all = await collect(client, 5);
    expect(all.map((r) => r.kind)).toEqual(['rows', 'ok', 'rows', 'err', 'rows']);
    expect(all[0]).toEqual({ kind: 'rows', rows: [['1']] });
    expect(all[2]).toEqual({ kind: 'rows', rows: [['reporter@%']] });
    expect(all[4]).toEqual({ kind: 'rows', rows: [['reporter@%']] });
    client.close();
  });

  test('commands pipelined behind the login response (a change of user among them) are answered after the OK, in order', async () => {
    const pipelined = Buffer.concat([query('SELECT CURRENT_USER()'), changeUser('reports'), query('SELECT CURRENT_USER()')].map((p) => frame(p, 0)));
    const client = await login(socketPath, me, { pipelined });
    const all = await collect(client, 3);
    expect(all).toEqual([{ kind: 'rows', rows: [['app@%']] }, { kind: 'ok' }, { kind: 'rows', rows: [['reporter@%']] }]);
    client.close();
  });

  test('COM_CHANGE_USER sent while an 8 MiB result is still streaming: the OK comes after its last row, every row whole', async () => {
    const client = await login(socketPath);
    client.socket.pause();
    const big =
      'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 64) SELECT n, REPEAT(CHAR(65 + n % 26), 131072) FROM t';
    client.send(query(big), changeUser('reports'), query('SELECT CURRENT_USER()'));
    await sleep(300);
    client.socket.resume();
    const all = await collect(client, 3, 10_000);
    expect(all.map((r) => r.kind)).toEqual(['rows', 'ok', 'rows']);
    const rows = (all[0] as { rows: Array<Array<string | null>> }).rows;
    expect(rows).toHaveLength(64);
    rows.forEach(([n, text], i) => {
      expect(n).toBe(String(i + 1));
      expect(text).toBe(String.fromCharCode(65 + ((i + 1) % 26)).repeat(131072));
    });
    expect(all[2]).toEqual({ kind: 'rows', rows: [['reporter@%']] });
    client.close();
  });

  test.each([
    ['COM_BINLOG_DUMP', Buffer.from('\x12\x04\x00\x00\x00\x00\x00\x01\x00\x00\x00mysql-bin.000001')],
    ['COM_REGISTER_SLAVE', Buffer.from('\x15\x01\x00\x00\x00')],
    ['COM_SLEEP', Buffer.of(0x00)],
    ['MariaDB COM_MULTI', Buffer.from('\xfe\x05\x03SELECT 1', 'latin1')],
    ['an empty packet', Buffer.alloc(0)],
  ])('%s between two queries: 1047 in its turn, the session goes on', async (_name, payload) => {
    const client = await login(socketPath);
    client.send(query('SELECT SLEEP(0.1), 1'), payload, query('SELECT 2'));
    const all = await collect(client, 3);
    expect(all[0]).toEqual({ kind: 'rows', rows: [['0', '1']] });
    expect(all[1]).toMatchObject({ kind: 'err', errno: 1047 });
    expect(all[2]).toEqual({ kind: 'rows', rows: [['2']] });
    client.close();
  });

  // LOCAL INFILE through a bare client: the request, then the file in packets of our choosing.
  async function loadData(client: BareClient, packets: Buffer, timeoutMs = 5000) {
    client.received.length = 0;
    client.send(query("LOAD DATA LOCAL INFILE 'attack.tsv' INTO TABLE shop.infile"));
    await client.until(1);
    expect(client.received[0].payload[0]).toBe(0xfb);
    client.received.length = 0;
    client.write(packets);
    await client.waitFor(() => client.received.length > 0, timeoutMs);
    return client.received[0];
  }

  test('LOCAL INFILE: file packets whose sequence id wraps to 0 and that start with 0x11 or 0x12 are file data', async () => {
    const client = await login(socketPath);
    await run(client, 'DELETE FROM shop.infile');
    const lines = Array.from({ length: 520 }, (_, i) => (i === 254 ? '\x11change\tuser\n' : i === 510 ? '\x12binlog\tdump\n' : `${i}\tline\n`));
    const packets = Buffer.concat([...lines.map((line, i) => frame(Buffer.from(line), (2 + i) & 0xff)), frame(Buffer.alloc(0), (2 + lines.length) & 0xff)]);
    const answer = await loadData(client, packets);
    expect(describePacket(answer)).toBe('OK');
    expect(await rowsOf(client, "SELECT COUNT(*), SUM(a = CONCAT(CHAR(17), 'change')), SUM(a = CONCAT(CHAR(18), 'binlog')) FROM shop.infile")).toEqual([['520', '1', '1']]);
    await run(client, 'DELETE FROM shop.infile');
    client.close();
  });

  test('LOCAL INFILE: a file packet of 16 MiB - 2 bytes, then 300 more (the control: no continuation)', async () => {
    const client = await login(socketPath);
    await run(client, 'DELETE FROM shop.infile');
    const first = Buffer.alloc(0xfffffe, 'A');
    first.write('\tbig\n', 0xfffffe - 5);
    const small = Array.from({ length: 300 }, (_, i) => `${i}\tsmall\n`);
    const packets = Buffer.concat([
      physical(first, 2),
      ...small.map((line, i) => physical(Buffer.from(line), 3 + i)),
      physical(Buffer.alloc(0), 3 + small.length),
    ]);
    const answer = await loadData(client, packets, 4000);
    expect(describePacket(answer)).toBe('OK');
    expect(await rowsOf(client, 'SELECT COUNT(*), MAX(LENGTH(a)) FROM shop.infile')).toEqual([['301', String(0xfffffe - 5)]]);
    await run(client, 'DELETE FROM shop.infile');
    client.close();
  });

  // Was a finding (fixed in f9d1f8a): the empty continuation of a 0xffffff-byte file packet ended the file for the
  // proxy, whose later sequence-0 file packets then read as commands and hung the session.
  test('LOCAL INFILE: a file packet of exactly 16 MiB - 1 bytes (its empty continuation is not the end of the file)', async () => {
    const client = await login(socketPath);
    await run(client, 'DELETE FROM shop.infile');
    // First logical packet: one line of exactly 0xffffff bytes, framed as 0xffffff + an empty continuation.
    const first = Buffer.alloc(0xffffff, 'A');
    first.write('\tbig\n', 0xffffff - 5);
    const small = Array.from({ length: 300 }, (_, i) => `${i}\tsmall\n`);
    const packets = Buffer.concat([
      physical(first, 2),
      physical(Buffer.alloc(0), 3),
      ...small.map((line, i) => physical(Buffer.from(line), 4 + i)),
      physical(Buffer.alloc(0), 4 + small.length),
    ]);
    const answer = await loadData(client, packets, 4000);
    expect(describePacket(answer)).toBe('OK');
    expect(await rowsOf(client, 'SELECT COUNT(*), MAX(LENGTH(a)) FROM shop.infile')).toEqual([['301', String(0xffffff - 5)]]);
    await run(client, 'DELETE FROM shop.infile');
    client.close();
  });
});

// ---------------------------------------------------------------------------------------------
describe('(4) failures are MySQL errors, never a crash, a hang or an accept', () => {
  // Was a finding: after ERR_PROXY_DESYNC the tracker never became idle again, and the session waited for good.
  test('an upstream answering out of step: a command the proxy must answer itself ends the session, it does not hang', async () => {
    const fake = await startFake(async (_c, next, send) => {
      fakeGreeting(send);
      await next();
      send(buildOk({ statusFlags: 2 }), 2);
      await next();
      // A bare EOF where a COM_QUERY's response must start: the tracker cannot follow.
      send(Buffer.from([0xfe, 0, 0, 2, 0]), 1);
      for (;;) await next();
    });
    const { socketPath: path1 } = await startProxy([relayed(me, 'app', 'x')], { host: '127.0.0.1', port: fake.port, sslMode: 'DISABLED' });
    const client = await login(path1, me, { capabilities: ATTACK_CAPABILITIES });
    client.send(query('SELECT 1'));
    await client.until(1);
    client.send(Buffer.from('\x12binlog'));
    // SAFE: an ERR or the connection closed, promptly.
    const ended = await client.waitFor(() => client.closed || client.received.some((p) => isErr(p)), 2000);
    expect(ended).toBe(true);
    client.close();
  });

  // Was a finding: the handshake's own connect_timeout (started at accept) fired before the upstream's and
  // dropped the client without an ERR; the dial now ends before it (AdmissionContext.deadline).
  test('connect_timeout and upstream-connect-timeout alike (both default to 10 s): a silent upstream still gives the client its error (1429, the 2003 text), not a dropped connection', async () => {
    const fake = await startFake(() => undefined);
    const { socketPath: path1 } = await startProxy(
      [relayed(me, 'app', 'x')],
      { host: '127.0.0.1', port: fake.port, sslMode: 'DISABLED', connectTimeout: 1000 },
      { connectTimeout: 1000 },
    );
    const { client, answer } = await BareClient.login({ socketPath: path1, user: me }, true).catch(() => ({ client: null, answer: undefined }));
    if (client !== null) clients.add(client);
    expect(describePacket(answer)).toMatch(/^ERR 1429 .*Can't connect to MySQL server/);
  });

  test('the upstream session killed: the client is closed, not left waiting', async () => {
    const client = await login(socketPath);
    const [[id]] = await rowsOf(client, 'SELECT CONNECTION_ID()');
    await db.query(`KILL ${id}`);
    expect(await client.waitClosed(3000)).toBe(true);
  });

  test('the upstream session killed while a COM_CHANGE_USER is held behind a running query: no hang, no crash', async () => {
    const client = await login(socketPath);
    const [[id]] = await rowsOf(client, 'SELECT CONNECTION_ID()');
    client.send(query('SELECT SLEEP(5)'), changeUser('reports'));
    await sleep(200);
    await db.query(`KILL ${id}`);
    expect(await client.waitClosed(3000)).toBe(true);
  });

  // Was a finding (fixed in f9d1f8a): a refused COM_CHANGE_USER was answered but never reported.
  test('a COM_CHANGE_USER whose upstream refuses is logged with its reason, as a login would be', async () => {
    const client = await login(socketPath);
    const before = refusals.get(mainProxy)!.length;
    client.send(changeUser('wrongpw'));
    const [answer] = await collect(client, 1);
    expect(answer).toMatchObject({ kind: 'err', errno: 1045 });
    await sleep(50);
    expect(refusals.get(mainProxy)!.length).toBe(before + 1);
    const refusal = refusals.get(mainProxy)!.at(-1)!;
    expect(refusal).toMatchObject({ errno: 1045, attempt: { user: 'wrongpw', osUser: me } });
    // The account's upstream password is nowhere in what the log is given.
    expect(util.inspect(refusal, { depth: 20, showHidden: true })).not.toContain('not-the-password');
    // And the session goes on as it was.
    expect(await rowsOf(client, 'SELECT CURRENT_USER()')).toEqual([['app@%']]);
    client.close();
  });
});

// ---------------------------------------------------------------------------------------------
describe('(5) os_user, os_uid and os_pid come from the kernel alone', () => {
  const attrsQuery = (names: string) =>
    `SELECT ATTR_NAME, ATTR_VALUE FROM performance_schema.session_connect_attrs WHERE PROCESSLIST_ID = CONNECTION_ID() AND ATTR_NAME IN (${names}) ORDER BY ORDINAL_POSITION`;

  test('the same names set by the client are replaced by the kernel\'s', async () => {
    const client = await login(socketPath, me, { connectAttributes: { os_user: 'mallory', os_uid: '4242', os_pid: '1' } });
    expect(await rowsOf(client, attrsQuery("'os_user', 'os_uid', 'os_pid'"))).toEqual([
      ['os_user', me],
      ['os_uid', myUid],
      ['os_pid', String(process.pid)],
    ]);
    client.close();
  });

  // Was a finding (fixed in f9d1f8a): MariaDB compares ATTR_NAME with PAD SPACE (utf8mb3_bin), so a client's
  // 'os_user ' answered WHERE ATTR_NAME = 'os_user', ahead of the kernel's.
  test("a look-alike name with a trailing space ('os_user ') does not answer a query for os_user", async () => {
    const client = await login(socketPath, me, { connectAttributes: { 'os_user ': 'mallory', 'os_uid ': '4242' } });
    const rows = await rowsOf(client, attrsQuery("'os_user', 'os_uid'"));
    expect(rows.map(([, value]) => value)).toEqual([me, myUid]);
    client.close();
  });

  test("a look-alike name in upper case ('OS_USER') does not answer a query for os_user", async () => {
    const client = await login(socketPath, me, { connectAttributes: { OS_USER: 'mallory', OS_UID: '4242' } });
    const rows = await rowsOf(client, attrsQuery("'os_user', 'os_uid'"));
    expect(rows.map(([, value]) => value)).toEqual([me, myUid]);
    client.close();
  });

  // Was a finding (fixed in f9d1f8a): the client's attributes went first and filled MariaDB's
  // performance_schema_session_connect_attrs_size (512 bytes), so the kernel's os_* were dropped.
  test("large attributes of the client's own cannot push os_user out of session_connect_attrs", async () => {
    const client = await login(socketPath, me, { connectAttributes: { padding: 'x'.repeat(4000) } });
    expect(await rowsOf(client, attrsQuery("'os_user', 'os_uid', 'os_pid'"))).toEqual([
      ['os_user', me],
      ['os_uid', myUid],
      ['os_pid', String(process.pid)],
    ]);
    client.close();
  });

  test('attributes of a COM_CHANGE_USER cannot set them either', async () => {
    const client = await login(socketPath);
    client.send(changeUser('reports', { os_user: 'mallory', os_uid: '4242', os_pid: '1' }));
    expect((await collect(client, 1))[0]).toEqual({ kind: 'ok' });
    client.received.length = 0;
    expect(await rowsOf(client, attrsQuery("'os_user', 'os_uid', 'os_pid'"))).toEqual([
      ['os_user', me],
      ['os_uid', myUid],
      ['os_pid', String(process.pid)],
    ]);
    client.close();
  });
});

// ---------------------------------------------------------------------------------------------
describe('(6) the upstream password is never shown, logged, or sent in clear over TCP', () => {
  const SECRET = 'Zq-upstream-secret-' + crypto.randomBytes(5).toString('hex');

  function everything(errors: unknown[]): string {
    return errors.map((e) => util.inspect(e, { depth: 20, showHidden: true })).join('\n');
  }

  test('an upstream refusing the password: neither the client\'s ERR nor the refuse event holds it', async () => {
    const { proxy, socketPath: path1 } = await startProxy([relayed(me, 'app', SECRET)], upstreamOf());
    const { client, answer } = await BareClient.login({ socketPath: path1, user: me }, true);
    clients.add(client);
    expect(errno(answer)).toBe(1045);
    expect(answer.payload.toString('latin1')).not.toContain(SECRET);
    await sleep(50);
    expect(refusals.get(proxy)!.length).toBe(1);
    expect(everything(refusals.get(proxy)!)).not.toContain(SECRET);
  });

  // A plain-TCP upstream (or a man in the middle that stripped CLIENT_SSL from a PREFERRED
  // greeting) asks for the password in clear.
  const cleartextScripts: Array<[string, Buffer]> = [
    ['mysql_clear_password', Buffer.from('\xfemysql_clear_password\0', 'latin1')],
    ['dialog', Buffer.concat([Buffer.from('\xfedialog\0', 'latin1'), Buffer.of(0x05), Buffer.from('Password: ')])],
  ];

  async function cleartextAttempt(switchRequest: Buffer) {
    const fake = await startFake(async (_c, next, send) => {
      fakeGreeting(send);
      await next();
      send(switchRequest, 2);
      await Promise.race([next(), sleep(500)]);
      send(buildErr({ errno: 1045, sqlState: '28000', message: 'Access denied' }), 4);
    });
    const { proxy, socketPath: path1 } = await startProxy([relayed(me, 'app', SECRET)], { host: '127.0.0.1', port: fake.port, sslMode: 'PREFERRED' });
    const { client, answer } = await BareClient.login({ socketPath: path1, user: me }, true);
    clients.add(client);
    await sleep(50);
    const sent = Buffer.concat(fake.connections.flatMap((c) => c.bytes)).toString('latin1');
    return { answer, sent, logged: everything(refusals.get(proxy)!) };
  }

  test.each(cleartextScripts)('an upstream switching to %s over plain TCP never receives the password', async (_name, switchRequest) => {
    const { answer, sent, logged } = await cleartextAttempt(switchRequest);
    expect(isErr(answer)).toBe(true);
    expect(answer.payload.toString('latin1')).not.toContain(SECRET);
    expect(sent).not.toContain(SECRET);
    expect(logged).not.toContain(SECRET);
  });

  // Was a finding (fixed in f9d1f8a): connect() read LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN from the proxy's environment
  // and sent the upstream password in clear to a plain-TCP upstream that asked for it.
  test.each(cleartextScripts)(
    'with LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN=1 in the proxy\'s environment too, an upstream switching to %s over plain TCP never receives the password',
    async (_name, switchRequest) => {
      const saved = process.env.LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN;
      process.env.LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN = '1';
      try {
        const { sent } = await cleartextAttempt(switchRequest);
        expect(sent).not.toContain(SECRET);
      } finally {
        if (saved === undefined) delete process.env.LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN;
        else process.env.LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN = saved;
      }
    },
  );

  test('caching_sha2_password full authentication over plain TCP: the password is not sent in clear', async () => {
    const fake = await startFake(async (_c, next, send) => {
      fakeGreeting(send, 'caching_sha2_password');
      await next();
      send(Buffer.of(0x01, 0x04), 2); // perform full authentication
      await Promise.race([next(), sleep(500)]);
      send(buildErr({ errno: 1045, sqlState: '28000', message: 'Access denied' }), 4);
    });
    const { socketPath: path1 } = await startProxy([relayed(me, 'app', SECRET)], { host: '127.0.0.1', port: fake.port, sslMode: 'PREFERRED' });
    const { client, answer } = await BareClient.login({ socketPath: path1, user: me }, true);
    clients.add(client);
    expect(isErr(answer)).toBe(true);
    expect(answer.payload.toString('latin1')).not.toContain(SECRET);
    expect(Buffer.concat(fake.connections.flatMap((c) => c.bytes)).toString('latin1')).not.toContain(SECRET);
  });

  test('the client cannot read it back: not in its session, not in the upstream\'s connect attributes', async () => {
    const { socketPath: path1 } = await startProxy([relayed(me, 'app', APP_PASSWORD)], upstreamOf());
    const client = await login(path1);
    const rows = await rowsOf(client, 'SELECT ATTR_NAME, ATTR_VALUE FROM performance_schema.session_connect_attrs WHERE PROCESSLIST_ID = CONNECTION_ID()');
    expect(JSON.stringify(rows)).not.toContain(APP_PASSWORD);
    client.close();
  });
});

// ---------------------------------------------------------------------------------------------
describe('(7) resource use is bounded', () => {
  test('a client that stops reading a 64 MiB result: the proxy holds little of it, and all of it arrives once read', async () => {
    const client = await login(socketPath);
    const serverEnd = accepted.get(mainProxy)!.at(-1)!;
    client.socket.pause();
    const before = process.memoryUsage();
    client.send(
      query('WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 64) SELECT n, REPEAT(CHAR(65 + n % 26), 1048576) FROM t'),
    );
    await sleep(1500);
    const after = process.memoryUsage();
    const buffered = serverEnd.writableLength;
    expect(buffered).toBeLessThan(4 * 1024 * 1024);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(24 * 1024 * 1024);
    client.splitting = false;
    client.socket.resume();
    expect(await client.waitFor(() => client.bytesReceived > 64 * (1048576 + 8), 20_000)).toBe(true);
    client.close();
  });

  test('a held command announcing 16 MiB: refused at its header, without waiting for or buffering its body', async () => {
    const client = await login(socketPath);
    const header = Buffer.alloc(4);
    header.writeUIntLE(0xfffff0, 0, 3);
    client.write(Buffer.concat([header, Buffer.from('\x12'), Buffer.alloc(1000)]));
    // SAFE: the proxy gives up on it at once (an ERR or a close), not after 16 MiB or a timeout.
    expect(await client.waitFor(() => client.closed || client.received.length > 0, 2000)).toBe(true);
    client.close();
    const other = await login(socketPath);
    expect(await rowsOf(other, 'SELECT 1')).toEqual([['1']]);
    other.close();
  });

  test('COM_CHANGE_USER behind a result read slowly: the old upstream session is closed on both ends', async () => {
    const handles = openSockets;
    const client = await login(socketPath);
    const baseline = handles();
    client.socket.pause();
    client.send(
      query('WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 32) SELECT n, REPEAT(CHAR(65 + n % 26), 131072) FROM t'),
      changeUser('reports'),
      query('SELECT CURRENT_USER()'),
    );
    // Read in short bursts, so that the proxy's client socket is full when the result's last packet goes out.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await collect(client, 0, 0)).length < 3) {
      client.socket.resume();
      await new Promise((resolve) => setImmediate(resolve));
      client.socket.pause();
      await sleep(5);
    }
    client.socket.resume();
    const all = await collect(client, 3);
    expect(all.map((r) => r.kind)).toEqual(['rows', 'ok', 'rows']);
    expect(all[2]).toEqual({ kind: 'rows', rows: [['reporter@%']] });
    // The old session went (COM_QUIT): the proxy's socket to it must go too.
    expect(await eventually(() => handles() <= baseline, 2000)).toBe(true);
    client.close();
  });
});

describe('after all of it', () => {
  test('the proxy still serves a real connector', async () => {
    const conn = await mysql2.createConnection({ socketPath, user: me });
    try {
      const [[row]] = (await conn.query('SELECT CURRENT_USER() AS cu')) as any;
      expect(row.cu).toBe('app@%');
    } finally {
      await conn.end();
    }
  });
});

