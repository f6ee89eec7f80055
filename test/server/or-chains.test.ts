// MariaDB's OR chains (IDENTIFIED VIA a OR b ...) and its unix_socket: parsed, kept by the catalog
// and the datadir, shown in MariaDB's form, and run at login one method after another on one
// connection, with real clients as real OS users: the first that accepts decides, a refusal moves
// on (across client plugins, by AuthSwitchRequest), and when all refuse the last one's refusal
// is the answer. auth_socket keeps MySQL's rule beside unix_socket's.
import fs from 'fs';
import os from 'os';
import path from 'path';

import { nativePasswordHash } from '../../lib/auth/native-password';
import { Accounts, AccountSpec } from '../../lib/server/catalog/accounts';
import { Catalog } from '../../lib/server/catalog/catalog';
import { ServerPlugins } from '../../lib/server/catalog/plugins';
import { Datadir } from '../../lib/server/datadir/datadir';
import { AuthServer, createServer } from '../../lib/server/listener';
import { HandshakeError } from '../../lib/server/refusal';
import { parseStatement } from '../../lib/server/sql/parser';
import { AuthenticatedConnection } from '../../lib/server/connection';
import { accessDenied1698, runMariadbCli } from '../helpers/clients';
import { describeAsRoot, ensureOsUser, OsUser } from '../helpers/root';
import { close, listen, tempDir } from '../helpers/sockets';
import { me, startStatementServer, StatementServer } from '../helpers/statement-server';

const auth = (clause: string) => (parseStatement(`CREATE USER u ${clause}`) as { users: Array<{ auth: unknown }> }).users[0].auth;

describe('parsing OR chains and USING PASSWORD()', () => {
  it('reads a chain of two or more methods, each as a single method reads', () => {
    expect(auth("IDENTIFIED VIA unix_socket AS 'jack' OR unix_socket AS 'jill'")).toEqual({
      kind: 'or',
      methods: [
        { kind: 'plugin', plugin: 'unix_socket', authString: 'jack' },
        { kind: 'plugin', plugin: 'unix_socket', authString: 'jill' },
      ],
    });
    expect(auth("IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('x') OR ed25519 USING 'h'")).toEqual({
      kind: 'or',
      methods: [
        { kind: 'plugin', plugin: 'unix_socket', authString: null },
        { kind: 'plugin-password', plugin: 'mysql_native_password', password: 'x' },
        { kind: 'plugin', plugin: 'ed25519', authString: 'h' },
      ],
    });
    expect(auth("IDENTIFIED VIA mysql_native_password USING PASSWORD('x')")).toEqual({ kind: 'plugin-password', plugin: 'mysql_native_password', password: 'x' });
  });

  it("keeps MySQL's multifactor AND unsupported and an unfinished chain a 1064", () => {
    expect(parseStatement('CREATE USER u IDENTIFIED WITH auth_socket OR unix_socket AND x')).toMatchObject({ type: 'unsupported' });
    expect(() => parseStatement('CREATE USER u IDENTIFIED VIA unix_socket OR')).toThrow(expect.objectContaining({ code: 'ERR_PARSE', near: '' }));
    expect(() => parseStatement("CREATE USER u IDENTIFIED VIA a USING PASSWORD 'x'")).toThrow(expect.objectContaining({ code: 'ERR_PARSE', near: "'x'" }));
  });
});

describe('the catalog and the datadir keep a chain', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-socket-or-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes the chain only when there is one, reads it back, and refuses one not as written', async () => {
    const data = path.join(dir, 'data');
    const first = await Datadir.open(data);
    const catalog = new Catalog(new Accounts(), new ServerPlugins(null, []), first.datadir);
    await catalog.change(() => {
      catalog.accounts.create({ user: 'team', host: 'localhost', plugin: 'unix_socket', authenticationString: 'jack', or: [{ plugin: 'unix_socket', authenticationString: 'jill' }] });
      catalog.accounts.create({ user: 'solo', host: 'localhost', plugin: 'auth_socket' });
    });
    first.datadir.close();
    const { datadir, state } = await Datadir.open(data);
    datadir.close();
    expect(state!.accounts).toEqual([
      { user: 'team', host: 'localhost', plugin: 'unix_socket', authenticationString: 'jack', privileges: [], grantOption: false, or: [{ plugin: 'unix_socket', authenticationString: 'jill' }] },
      { user: 'solo', host: 'localhost', plugin: 'auth_socket', authenticationString: '', privileges: [], grantOption: false },
    ]);
    const file = path.join(data, 'auth-socket-catalog.json');
    const written = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const bad of ['jill', [], [{ plugin: 'unix_socket' }], [{ plugin: 'x', authenticationString: '', extra: 1 }]]) {
      fs.writeFileSync(file, JSON.stringify({ ...written, accounts: [{ ...written.accounts[0], or: bad }] }), { mode: 0o600 });
      await expect(Datadir.open(data)).rejects.toMatchObject({ code: 'ERR_DATADIR_CORRUPT', message: expect.stringContaining('account row 0') });
    }
  });

  it('refuses a chain longer than MAX_AUTH_METHODS and a method that is not one', () => {
    const accounts = new Accounts();
    const many = Array.from({ length: 16 }, () => ({ plugin: 'unix_socket', authenticationString: 'x' }));
    expect(() => accounts.create({ user: 'u', host: 'h', plugin: 'unix_socket', or: many })).toThrow(/at most 16 methods/);
    expect(() => accounts.create({ user: 'u', host: 'h', plugin: 'unix_socket', or: [{ plugin: 'unix_socket', password: 'x' }] })).toThrow(/takes no password/);
    expect(() => accounts.create({ user: 'u', host: 'h', plugin: 'unix_socket', or: 'x' as never })).toThrow(TypeError);
  });
});

it("INSTALL PLUGIN unix_socket SONAME 'auth_socket.so' finds MariaDB's plugin by name; loading the library whole stays MySQL's auth_socket alone", () => {
  const named = new ServerPlugins(null, []);
  expect(named.install('unix_socket', 'auth_socket.so').plugin.name).toBe('unix_socket');
  expect(named.installedRows()).toEqual([{ name: 'unix_socket', library: 'auth_socket.so' }]);
  const whole = new ServerPlugins(null, []);
  expect(whole.loadForRun('auth_socket.so').map((entry) => entry.plugin.name)).toEqual(['auth_socket']);
  expect(new ServerPlugins(null, []).install('auth_socket_map', 'auth_socket_map.so').plugin.name).toBe('auth_socket_map');
});

describe('account statements with chains (mariadb connector)', () => {
  let server: StatementServer;
  beforeAll(async () => (server = await startStatementServer()));
  afterAll(() => server.stop());
  const sql = (text: string) => server.as(me, (c) => c.query({ sql: text, rowsAsArray: true }));

  it("CREATE USER takes a chain; SHOW CREATE USER prints MariaDB's form; mysql.user shows the first method", async () => {
    await sql("CREATE USER 'team'@'localhost' IDENTIFIED VIA unix_socket AS 'jack' OR unix_socket USING 'jill' OR mysql_native_password USING PASSWORD('pw')");
    const [[shown]] = await sql("SHOW CREATE USER 'team'@'localhost'");
    expect(shown).toMatch(/^CREATE USER `team`@`localhost` IDENTIFIED VIA unix_socket USING 'jack' OR unix_socket USING 'jill' OR mysql_native_password USING '\*[0-9A-F]{40}'$/);
    expect(await sql("SELECT plugin, authentication_string FROM mysql.user WHERE user = 'team'")).toEqual([['unix_socket', 'jack']]);
    // What SHOW CREATE USER printed creates the same account again.
    await sql("DROP USER 'team'@'localhost'");
    await sql(shown as string);
    expect(await sql("SHOW CREATE USER 'team'@'localhost'")).toEqual([[shown]]);
  });

  it('IDENTIFIED BY changes the password of every password method of a chain and keeps the rest; IDENTIFIED VIA replaces the chain', async () => {
    await sql("ALTER USER 'team'@'localhost' IDENTIFIED BY 'new'");
    expect(await sql("SHOW CREATE USER 'team'@'localhost'")).toEqual([
      [`CREATE USER \`team\`@\`localhost\` IDENTIFIED VIA unix_socket USING 'jack' OR unix_socket USING 'jill' OR mysql_native_password USING '${nativePasswordHash('new')}'`],
    ]);
    await sql("ALTER USER 'team'@'localhost' IDENTIFIED VIA unix_socket");
    expect(await sql("SHOW CREATE USER 'team'@'localhost'")).toEqual([['CREATE USER `team`@`localhost` IDENTIFIED VIA unix_socket']]);
    // A chain without a password method refuses a password, as a single method does.
    await expect(sql("ALTER USER 'team'@'localhost' IDENTIFIED BY 'x'")).rejects.toMatchObject({ errno: 1396 });
    await expect(sql("CREATE USER 'x'@'localhost' IDENTIFIED VIA unix_socket OR no_such_plugin")).rejects.toMatchObject({ errno: 1524 });
    await sql("DROP USER 'team'@'localhost'");
  });
});

describeAsRoot('logins through chains and unix_socket, real mariadb CLI as real OS users', () => {
  const dir = tempDir();
  const socketPath = path.join(dir.path, 'chains.sock');
  let server: AuthServer;
  let valerie: OsUser;
  let stephanie: OsUser;
  let nobody: OsUser;
  const refusals: HandshakeError[] = [];
  const logins: AuthenticatedConnection[] = [];

  beforeAll(async () => {
    valerie = ensureOsUser('valerie');
    stephanie = ensureOsUser('stephanie');
    nobody = ensureOsUser('nobody');
    const accounts = new Accounts();
    const specs: AccountSpec[] = [
      { user: 'valerie', host: 'localhost', plugin: 'unix_socket' },
      { user: 'as_steph', host: 'localhost', plugin: 'unix_socket', authenticationString: 'stephanie' },
      { user: 'valerie_mysql', host: 'localhost', plugin: 'auth_socket', authenticationString: 'stephanie' },
      { user: 'team', host: 'localhost', plugin: 'unix_socket', authenticationString: 'valerie', or: [{ plugin: 'unix_socket', authenticationString: 'stephanie' }] },
      { user: 'stephanie', host: 'localhost', plugin: 'unix_socket', or: [{ plugin: 'mysql_native_password', password: 'pw' }] },
      { user: 'rooty', host: 'localhost', plugin: 'mysql_native_password', password: 'pw', or: [{ plugin: 'unix_socket', authenticationString: 'valerie' }] },
      { user: 'switchy', host: 'localhost', plugin: 'caching_sha2_password', password: 'first', or: [{ plugin: 'mysql_native_password', password: 'second' }, { plugin: 'unix_socket', authenticationString: 'nobody' }] },
    ];
    for (const spec of specs) accounts.create(spec);
    server = createServer({ accounts });
    server.on('refuse', (error) => refusals.push(error));
    server.on('login', (connection) => logins.push(connection));
    await listen(server, socketPath);
  });
  afterAll(async () => {
    await close(server);
    dir.remove();
  });

  const cli = (user: string, as: OsUser, password?: string, extra: string[] = []) =>
    runMariadbCli({ endpoint: { socketPath }, user, as, sql: 'SELECT CURRENT_USER(), @@external_user', extraArgs: [...(password === undefined ? [] : [`--password=${password}`]), ...extra] });
  const ok = (user: string, external: string) => ({ code: 0, stdout: `${user}@localhost\t${external}\n`, stderr: '' });
  const denied = (line: string) => ({ code: 1, stdout: '', stderr: `${line}\n` });
  const lastRefusal = () => refusals[refusals.length - 1];
  const lastLogin = () => logins[logins.length - 1];

  it("unix_socket without AS: the OS user must be the account's user", async () => {
    expect(await cli('valerie', valerie)).toEqual(ok('valerie', 'valerie'));
    expect(await cli('valerie', stephanie)).toEqual(denied(accessDenied1698('valerie')));
    expect(lastRefusal()).toMatchObject({ errno: 1698, reason: 'user-mismatch', attempt: { plugin: 'unix_socket', osUser: 'stephanie' } });
  });

  it("unix_socket AS 'x' (MariaDB 11.6): the AS string replaces the user name; auth_socket takes either", async () => {
    expect(await cli('as_steph', stephanie)).toEqual(ok('as_steph', 'stephanie'));
    expect(await cli('as_steph', valerie)).toEqual(denied(accessDenied1698('as_steph')));
    // auth_socket keeps MySQL's rule: the AS string is a second name, and the user name still counts.
    expect(await cli('valerie_mysql', stephanie)).toEqual(ok('valerie_mysql', 'stephanie'));
  });

  it("VIA unix_socket AS 'valerie' OR unix_socket AS 'stephanie': both get in, nobody else", async () => {
    expect(await cli('team', valerie)).toEqual(ok('team', 'valerie'));
    expect(await cli('team', stephanie)).toEqual(ok('team', 'stephanie'));
    expect(await cli('team', nobody)).toEqual(denied(accessDenied1698('team')));
    expect(lastRefusal()).toMatchObject({ reason: 'user-mismatch', attempt: { plugin: 'unix_socket', osUser: 'nobody' } });
  });

  it('VIA unix_socket OR mysql_native_password: the socket first, then the password; both refusing is the last one\'s refusal', async () => {
    expect(await cli('stephanie', stephanie)).toEqual(ok('stephanie', 'stephanie'));
    expect(lastLogin()).toMatchObject({ plugin: 'unix_socket' });
    expect(await cli('stephanie', valerie, 'pw')).toEqual(ok('stephanie', 'NULL'));
    expect(lastLogin()).toMatchObject({ plugin: 'mysql_native_password', externalUser: null });
    expect(await cli('stephanie', valerie, 'wrong')).toEqual(denied("ERROR 1045 (28000): Access denied for user 'stephanie'@'localhost' (using password: YES)"));
    expect(lastRefusal()).toMatchObject({ reason: 'wrong-password', attempt: { plugin: 'mysql_native_password', osUser: 'valerie' } });
    // No password at all: no method mentioned one, so the answer is unix_socket's 1698, as MariaDB's.
    expect(await cli('stephanie', valerie)).toEqual(denied(accessDenied1698('stephanie')));
  });

  it("MariaDB's root form, mysql_native_password OR unix_socket, with every client plugin the CLI may start with", async () => {
    for (const plugin of ['mysql_native_password', 'caching_sha2_password', 'client_ed25519']) {
      expect([plugin, await cli('rooty', valerie, undefined, [`--default-auth=${plugin}`])]).toEqual([plugin, ok('rooty', 'valerie')]);
      expect([plugin, await cli('rooty', stephanie, 'pw', [`--default-auth=${plugin}`])]).toEqual([plugin, ok('rooty', 'NULL')]);
      // The last method, unix_socket, mentions no password: 1698, as MariaDB answers (password_used is the last plugin's).
      expect([plugin, await cli('rooty', stephanie, 'nope', [`--default-auth=${plugin}`])]).toEqual([plugin, denied(accessDenied1698('rooty'))]);
    }
  });

  it('methods of different client plugins: each refusal moves on by an AuthSwitchRequest', async () => {
    expect(await cli('switchy', valerie, 'first')).toEqual(ok('switchy', 'NULL'));
    expect(lastLogin()).toMatchObject({ plugin: 'caching_sha2_password' });
    expect(await cli('switchy', valerie, 'second')).toEqual(ok('switchy', 'NULL'));
    expect(lastLogin()).toMatchObject({ plugin: 'mysql_native_password' });
    expect(await cli('switchy', nobody, 'neither')).toEqual(ok('switchy', 'nobody'));
    expect(lastLogin()).toMatchObject({ plugin: 'unix_socket' });
    expect(await cli('switchy', valerie, 'neither')).toEqual(denied(accessDenied1698('switchy')));
    expect(lastRefusal()).toMatchObject({ reason: 'user-mismatch', attempt: { plugin: 'unix_socket' } });
  });
});
