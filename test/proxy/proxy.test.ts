// createProxy() in front of a private MariaDB 10.11 with TLS (a CA of the test's own),
// require_secure_transport=ON and performance_schema on: the OS user running the tests logs in
// locally with auth_socket and works upstream as the account its ATTRIBUTE names, through mysql2,
// the mariadb connector and the real mariadb CLI. Other OS users: proxy-os-users.test.ts.
import crypto from 'crypto';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';
import { Readable } from 'stream';

import mariadbConnector from 'mariadb';
import mysql2 from 'mysql2/promise';

import { Accounts, AccountSpec } from '../../lib/server/catalog/accounts';
import { createProxy, ProxyOptions, ProxyServer } from '../../lib/proxy/proxy';
import { UpstreamOptions } from '../../lib/proxy/upstream';
import { runMariadbCli } from '../helpers/clients';
import { freePort } from '../helpers/serve-process';
import { MariadbInstance } from '../helpers/mariadb';
import { TestCertificates } from '../helpers/tls-certs';
import { startTlsUpstream, TlsUpstream } from '../helpers/tls-upstream';

const me = os.userInfo().username;
let upstream: TlsUpstream;
let certs: TestCertificates;
let db: MariadbInstance;
let dir: string;
const proxies: ProxyServer[] = [];
const sockets = new Set<net.Socket>();

let APP_PASSWORD: string;

beforeAll(async () => {
  upstream = await startTlsUpstream();
  ({ db, certs, appPassword: APP_PASSWORD } = upstream);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-test-'));
  await db.query('CREATE DATABASE shop');
  await db.query('CREATE TABLE shop.lines (n INT PRIMARY KEY, text VARCHAR(200))');
}, 60_000);

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(proxies.map((proxy) => new Promise((resolve) => proxy.close(resolve))));
  await upstream?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function upstreamOf(overrides: Partial<UpstreamOptions> = {}): UpstreamOptions {
  return { host: '127.0.0.1', port: db.port, sslMode: 'VERIFY_IDENTITY', ssl: { ca: fs.readFileSync(certs.ca) }, ...overrides };
}

let proxyCount = 0;
async function startProxy(accounts: AccountSpec[], upstream: UpstreamOptions = upstreamOf(), extra: Partial<ProxyOptions> = {}): Promise<{ proxy: ProxyServer; socketPath: string }> {
  const list = new Accounts();
  for (const spec of accounts) list.create(spec);
  const proxy = createProxy({ accounts: list, upstream, ...extra });
  proxies.push(proxy);
  proxy.on('connection', (socket: net.Socket) => sockets.add(socket));
  const socketPath = path.join(dir, `proxy-${proxyCount++}.sock`);
  await new Promise<void>((resolve) => proxy.listen(socketPath, resolve));
  fs.chmodSync(socketPath, 0o666);
  return { proxy, socketPath };
}

const relayed = (user: string, upstreamUser: string, password: string, as = me): AccountSpec => ({
  user,
  host: 'localhost',
  plugin: 'auth_socket',
  authenticationString: as,
  attributes: { upstream_user: upstreamUser, upstream_password: password },
});

async function connectionCount(): Promise<number> {
  const [row] = await db.query("SHOW GLOBAL STATUS LIKE 'Connections'");
  return Number(row.Value);
}

let socketPath: string;

describe('a local OS user relayed to its upstream account', () => {
  beforeAll(async () => {
    ({ socketPath } = await startProxy([
      relayed(me, 'app', APP_PASSWORD),
      relayed('reports', 'reporter', upstream.reporterPassword),
      relayed('someone', 'app', APP_PASSWORD, 'not-' + me),
      relayed('wrongpw', 'app', 'not-the-password'),
      { user: 'local', host: 'localhost', plugin: 'auth_socket', authenticationString: me },
      { user: 'badshape', host: 'localhost', plugin: 'auth_socket', authenticationString: me, attributes: { upstream_user: 5, upstream_password: 'x' } },
    ]));
  });

  test('mysql2: CURRENT_USER() is the upstream account, over TLS upstream, with os_user and the client attributes upstream', async () => {
    const conn = await mysql2.createConnection({ socketPath, user: me, connectAttributes: { app_name: 'proxy-test' } });
    try {
      const [[row]] = (await conn.query('SELECT CURRENT_USER() AS cu, USER() AS u')) as any;
      expect(row.cu).toBe('app@%');
      const [[tls]] = (await conn.query("SHOW SESSION STATUS LIKE 'Ssl_version'")) as any;
      expect(tls.Value).toMatch(/^TLSv1\.[23]$/);
      const [attrs] = (await conn.query(
        'SELECT ATTR_NAME AS name, ATTR_VALUE AS value FROM performance_schema.session_connect_attrs WHERE PROCESSLIST_ID = CONNECTION_ID()',
      )) as any;
      const byName = Object.fromEntries(attrs.map((a: any) => [a.name, a.value]));
      expect(byName).toMatchObject({ os_user: me, os_uid: String(process.getuid!()), os_pid: String(process.pid), app_name: 'proxy-test' });
    } finally {
      await conn.end();
    }
  });

  test('a result over 16 MiB arrives byte-exact', async () => {
    const conn = await mysql2.createConnection({ socketPath, user: me });
    try {
      const [[row]] = (await conn.query(
        "SELECT x, SHA2(x, 256) AS digest FROM (SELECT REPEAT(MD5(RAND()), 17 * 1024 * 1024 / 32 + 7) AS x) AS t",
      )) as any;
      expect(row.x.length).toBeGreaterThan(16 * 1024 * 1024);
      expect(crypto.createHash('sha256').update(row.x).digest('hex')).toBe(row.digest);
    } finally {
      await conn.end();
    }
  });

  test('prepared statements, multi-statements and LOAD DATA LOCAL pass through, and the session goes on after them', async () => {
    const conn = await mysql2.createConnection({
      socketPath,
      user: me,
      multipleStatements: true,
      // Many small packets: LOCAL INFILE data whose sequence ids wrap past 255 must not read as commands.
      infileStreamFactory: () => Readable.from(Array.from({ length: 600 }, (_, i) => Buffer.from(`${i}\tline ${i}\n`))),
    });
    try {
      const [rows] = (await conn.execute('SELECT ? + ? AS sum, ? AS s', [2, 3, 'x'])) as any;
      expect(rows).toEqual([{ sum: 5, s: 'x' }]);
      const [results] = (await conn.query('SELECT 1 AS a; SELECT 2 AS b')) as any;
      expect(results).toEqual([[{ a: 1 }], [{ b: 2 }]]);
      const [loaded] = (await conn.query("LOAD DATA LOCAL INFILE 'lines.tsv' INTO TABLE shop.lines")) as any;
      expect(loaded.affectedRows).toBe(600);
      const [[count]] = (await conn.query('SELECT COUNT(*) AS n FROM shop.lines')) as any;
      expect(count.n).toBe(600);
      await conn.query('DELETE FROM shop.lines');
    } finally {
      await conn.end();
    }
  });

  test('the mariadb connector', async () => {
    const conn = await mariadbConnector.createConnection({ socketPath, user: me });
    try {
      const rows = await conn.query('SELECT CURRENT_USER() AS cu');
      expect(rows[0].cu).toBe('app@%');
    } finally {
      await conn.end();
    }
  });

  test('the real mariadb CLI', async () => {
    const run = await runMariadbCli({ endpoint: { socketPath }, user: me, sql: 'SELECT CURRENT_USER(); SELECT @@version' });
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n')[0]).toBe('app@%');
    expect(run.stdout).toMatch(/MariaDB/);
  });

  test('an account without upstream credentials is served by the proxy itself', async () => {
    const conn = await mysql2.createConnection({ socketPath, user: 'local' });
    try {
      const [[row]] = (await conn.query('SELECT CURRENT_USER() AS cu')) as any;
      expect(row.cu).toBe('local@localhost');
    } finally {
      await conn.end();
    }
  });

  test('refused locally: 1698, and the proxy never dials the upstream', async () => {
    const before = await connectionCount();
    await expect(mysql2.createConnection({ socketPath, user: 'someone' })).rejects.toMatchObject({ errno: 1698, sqlState: '28000' });
    // The only new upstream connection is connectionCount()'s own.
    expect(await connectionCount()).toBe(before + 1);
  });

  test('COM_CHANGE_USER to an account the OS user may not use is refused and leaves the session as it was', async () => {
    const conn = await mysql2.createConnection({ socketPath, user: me });
    try {
      await conn.query('SET @kept = 42');
      await expect(conn.changeUser({ user: 'someone' })).rejects.toMatchObject({ errno: 1698 });
      const [[row]] = (await conn.query('SELECT CURRENT_USER() AS cu, @kept AS kept')) as any;
      expect(row).toEqual({ cu: 'app@%', kept: 42 });
    } finally {
      await conn.end();
    }
  });

  test('COM_CHANGE_USER to another account the OS user may use maps it upstream', async () => {
    const conn = await mysql2.createConnection({ socketPath, user: me });
    try {
      await conn.changeUser({ user: 'reports' });
      const [[row]] = (await conn.query('SELECT CURRENT_USER() AS cu')) as any;
      expect(row.cu).toBe('reporter@%');
    } finally {
      await conn.end();
    }
  });

  test('COM_RESET_CONNECTION reaches the upstream session', async () => {
    const conn = await mariadbConnector.createConnection({ socketPath, user: me });
    try {
      await conn.query('SET @gone = 1');
      await conn.reset();
      const rows = await conn.query('SELECT @gone AS gone, CURRENT_USER() AS cu');
      expect(rows[0]).toEqual({ gone: null, cu: 'app@%' });
    } finally {
      await conn.end();
    }
  });

  test('upstream credentials of the wrong shape refuse the login: never served locally, never relayed without a password', async () => {
    const error = await mysql2.createConnection({ socketPath, user: 'badshape' }).catch((e) => e);
    expect(error).toMatchObject({ errno: 1429, sqlState: 'HY000' });
    expect(error.message).toContain("the upstream_user and upstream_password attributes of 'badshape'@'localhost' must be strings");
  });

  test("a client attribute named like an array index cannot go before os_user (JavaScript orders such keys first)", async () => {
    const conn = await mysql2.createConnection({ socketPath, user: me, connectAttributes: { '0': 'x'.repeat(4000) } });
    try {
      const [rows] = (await conn.query(
        "SELECT ATTR_VALUE AS v FROM performance_schema.session_connect_attrs WHERE PROCESSLIST_ID = CONNECTION_ID() AND ATTR_NAME = 'os_user'",
      )) as any;
      expect(rows).toEqual([{ v: me }]);
    } finally {
      await conn.end();
    }
  });

  test('the upstream refusing the mapped credentials: its 1045 reaches the client', async () => {
    await expect(mysql2.createConnection({ socketPath, user: 'wrongpw' })).rejects.toMatchObject({ errno: 1045, sqlState: '28000' });
  });
});

describe('upstream failures reach the client as MySQL errors, and the proxy serves others meanwhile', () => {
  // 1429 (MySQL's "Unable to connect to foreign data source") around the client library's 2003 or
  // 2026 text: libmariadb, the mariadb CLI's library, reads a 2003 from a server as a malformed packet.
  test('upstream down: 1429 with the 2003 text, as mysql2 and the real mariadb CLI show it', async () => {
    const closedPort = await freePort();
    const { socketPath } = await startProxy([relayed(me, 'app', APP_PASSWORD)], upstreamOf({ port: closedPort }));
    const message = `Unable to connect to foreign data source: Can't connect to MySQL server on '127.0.0.1:${closedPort}' (111)`;
    await expect(mysql2.createConnection({ socketPath, user: me })).rejects.toMatchObject({ errno: 1429, sqlState: 'HY000', message });
    const cli = await runMariadbCli({ endpoint: { socketPath }, user: me, sql: 'SELECT 1' });
    expect(cli.stderr.trim()).toBe(`ERROR 1429 (HY000): ${message}`);
  });

  test('wrong CA: 1429 naming the TLS failure', async () => {
    const bad = await startProxy([relayed(me, 'app', APP_PASSWORD)], upstreamOf({ sslMode: 'VERIFY_CA', ssl: { ca: fs.readFileSync(certs.otherCa) } }));
    const error = await mysql2.createConnection({ socketPath: bad.socketPath, user: me }).catch((e) => e);
    expect(error).toMatchObject({ errno: 1429, sqlState: 'HY000' });
    expect(error.message).toMatch(/^Unable to connect to foreign data source: SSL connection error: .*certificate/i);
    const cli = await runMariadbCli({ endpoint: { socketPath: bad.socketPath }, user: me, sql: 'SELECT 1' });
    expect(cli.stderr).toMatch(/^ERROR 1429 \(HY000\): Unable to connect to foreign data source: SSL connection error/);
  });

  test('upstream TLS disabled against require_secure_transport: the upstream refusal, passed through', async () => {
    const { socketPath } = await startProxy([relayed(me, 'app', APP_PASSWORD)], upstreamOf({ sslMode: 'DISABLED' }));
    // MariaDB 10.11 answers a login in clear under require_secure_transport with 1045.
    await expect(mysql2.createConnection({ socketPath, user: me })).rejects.toMatchObject({ errno: 1045, sqlState: '28000' });
  });

  test('an upstream that accepts TCP but never greets: the 2003 text with ETIMEDOUT after upstream-connect-timeout', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const { socketPath } = await startProxy([relayed(me, 'app', APP_PASSWORD)], upstreamOf({ port, connectTimeout: 300 }));
      await expect(mysql2.createConnection({ socketPath, user: me })).rejects.toMatchObject({
        errno: 1429,
        message: `Unable to connect to foreign data source: Can't connect to MySQL server on '127.0.0.1:${port}' (110)`,
      });
    } finally {
      silent.close();
    }
  });

  test('after all of these, the proxy still serves everyone else', async () => {
    const conn = await mysql2.createConnection({ socketPath, user: me });
    const [[row]] = (await conn.query('SELECT CURRENT_USER() AS cu')) as any;
    expect(row.cu).toBe('app@%');
    await conn.end();
  });
});
