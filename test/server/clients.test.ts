// Real npm clients (mysql2, the mariadb connector) against our server over its Unix socket and over
// TCP: auth_socket, mysql_native_password and unknown accounts, answered as MySQL answers them.
import path from 'path';

import { Accounts } from '../../lib/server/catalog/accounts';
import { AuthServer, createServer } from '../../lib/server/listener';
import { HandshakeError } from '../../lib/server/refusal';
import { lookupUserSync } from '../../lib/peer/users';
import { runNodeClient } from '../helpers/clients';
import { close, listen, tempDir, TempDir } from '../helpers/sockets';

const DRIVERS = ['mysql2', 'mariadb'] as const;
// The OS user running the tests: an auth_socket account for it needs no other identity.
const me = lookupUserSync(process.getuid!())!.name;

let dir: TempDir;
let socketPath: string;
let server: AuthServer;
let tcpServer: AuthServer;
let tcpPort: number;
const refusals: HandshakeError[] = [];

beforeAll(async () => {
  const accounts = new Accounts();
  accounts.create({ user: me, host: 'localhost', plugin: 'auth_socket' });
  accounts.create({ user: 'carol', host: 'localhost', plugin: 'mysql_native_password', password: 's3cret' });
  accounts.create({ user: 'carol', host: '127.0.0.1', plugin: 'mysql_native_password', password: 's3cret' });
  accounts.create({ user: 'nopass', host: 'localhost', plugin: 'mysql_native_password' });
  accounts.create({ user: 'ldap', host: 'localhost', plugin: 'authentication_ldap_simple' });
  accounts.create({ user: me, host: '%', plugin: 'auth_socket' });
  dir = tempDir();
  socketPath = path.join(dir.path, 'mysqld.sock');
  server = createServer({ accounts });
  server.on('refuse', (error) => refusals.push(error));
  await listen(server, socketPath);
  tcpServer = createServer({ accounts });
  tcpServer.on('refuse', (error) => refusals.push(error));
  await listen(tcpServer, { port: 0, host: '127.0.0.1' });
  tcpPort = (tcpServer.address() as { port: number }).port;
});

afterAll(async () => {
  await close(server);
  await close(tcpServer);
  dir.remove();
});

describe.each(DRIVERS)('%s over the Unix socket', (driver) => {
  it('logs in with auth_socket and runs the identity SELECTs', async () => {
    const result = await runNodeClient({
      driver,
      endpoint: { socketPath },
      user: me,
      sql: 'SELECT 1, USER(), CURRENT_USER(), @@external_user',
    });
    expect(result).toEqual({ rows: [[driver === 'mysql2' ? 1 : '1', `${me}@localhost`, `${me}@localhost`, me]] });
  });

  it.each([
    ['SELECT 1', [[1]]],
    ['SELECT USER()', [[`${me}@localhost`]]],
    ['SELECT CURRENT_USER()', [[`${me}@localhost`]]],
    ['select @@external_user', [[me]]],
    ['select @@version_comment limit 1', [['auth-socket server']]],
  ])('answers %s', async (sql, rows) => {
    const result = await runNodeClient({ driver, endpoint: { socketPath }, user: me, sql });
    const expected = driver === 'mariadb' ? rows.map((row) => row.map((v) => (typeof v === 'number' ? String(v) : v))) : rows;
    expect(result).toEqual({ rows: expected });
  });

  it('refuses a wrong password with 1045 (using password: YES)', async () => {
    const result = await runNodeClient({ driver, endpoint: { socketPath }, user: 'carol', password: 'wrong', sql: 'SELECT 1' });
    expect(result).toEqual({
      error: { errno: 1045, sqlState: '28000', message: "Access denied for user 'carol'@'localhost' (using password: YES)" },
    });
  });

  it('accepts the right mysql_native_password and nothing else', async () => {
    const ok = await runNodeClient({ driver, endpoint: { socketPath }, user: 'carol', password: 's3cret', sql: 'SELECT CURRENT_USER()' });
    expect(ok).toEqual({ rows: [['carol@localhost']] });
    const none = await runNodeClient({ driver, endpoint: { socketPath }, user: 'carol', sql: 'SELECT 1' });
    expect(none).toEqual({
      error: { errno: 1045, sqlState: '28000', message: "Access denied for user 'carol'@'localhost' (using password: NO)" },
    });
  });

  it('lets a password-less native account in only without a password', async () => {
    expect(await runNodeClient({ driver, endpoint: { socketPath }, user: 'nopass', sql: 'SELECT USER()' })).toEqual({
      rows: [['nopass@localhost']],
    });
    expect(await runNodeClient({ driver, endpoint: { socketPath }, user: 'nopass', password: 'x', sql: 'SELECT 1' })).toEqual({
      error: { errno: 1045, sqlState: '28000', message: "Access denied for user 'nopass'@'localhost' (using password: YES)" },
    });
  });

  it('answers an unknown account with 1045', async () => {
    const result = await runNodeClient({ driver, endpoint: { socketPath }, user: 'nosuchuser', password: 'pw', sql: 'SELECT 1' });
    expect(result).toEqual({
      error: { errno: 1045, sqlState: '28000', message: "Access denied for user 'nosuchuser'@'localhost' (using password: YES)" },
    });
  });

  it('answers an account whose plugin is not loaded with 1524', async () => {
    const result = await runNodeClient({ driver, endpoint: { socketPath }, user: 'ldap', sql: 'SELECT 1' });
    expect(result).toEqual({ error: { errno: 1524, sqlState: 'HY000', message: "Plugin 'authentication_ldap_simple' is not loaded" } });
  });

  it('answers statements it does not know with 1235', async () => {
    const result = await runNodeClient({ driver, endpoint: { socketPath }, user: me, sql: 'DROP TABLE t' });
    expect(result).toEqual({
      error: { errno: 1235, sqlState: '42000', message: "This version of MySQL doesn't yet support 'DROP TABLE t'" },
    });
  });
});

describe.each(DRIVERS)('%s over TCP', (driver) => {
  it('is refused by an auth_socket account with 1698, even from the right OS user', async () => {
    const result = await runNodeClient({ driver, endpoint: { port: tcpPort }, user: me, sql: 'SELECT 1' });
    expect(result).toEqual({ error: { errno: 1698, sqlState: '28000', message: `Access denied for user '${me}'@'127.0.0.1'` } });
  });

  it('still serves password accounts matched by IP', async () => {
    const result = await runNodeClient({ driver, endpoint: { port: tcpPort }, user: 'carol', password: 's3cret', sql: 'SELECT USER(), CURRENT_USER()' });
    expect(result).toEqual({ rows: [['carol@127.0.0.1', 'carol@127.0.0.1']] });
  });
});

it('gives every refusal a reason code', () => {
  const reasons = new Set(refusals.map((error) => `${error.errno} ${error.reason}`));
  expect(reasons).toEqual(
    new Set(['1045 wrong-password', '1045 unknown-account', '1524 plugin-not-loaded', '1698 not-unix-socket']),
  );
});
