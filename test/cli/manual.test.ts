// The manual's page on socket peer-credential authentication (shared/reference/seed-auth-socket-
// plugin.txt), run verbatim against the built `auth-socket serve` with the real mariadb CLI as the
// manual's OS users: loading the plugin from my.cnf and by INSTALL PLUGIN, checking it with the
// page's PLUGINS query and SHOW PLUGINS, valerie's account and stephanie's refusal, TCP refused,
// both ways of letting stephanie in, both ways of uninstalling, and what a restart keeps. The
// steps build on each other (one datadir through every restart), so they run in order.
import fs from 'fs';
import path from 'path';

import { accessDenied1698, ClientRun, runMariadbCli } from '../helpers/clients';
import { describeAsRoot, ensureOsUser, OsUser } from '../helpers/root';
import { freePort, killAllStarted, ServeProcess, startServe, writeMyCnf } from '../helpers/serve-process';
import { tempDir, TempDir } from '../helpers/sockets';

// The page's statements, character for character (the PLUGINS query keeps its line breaks).
const PLUGINS_QUERY = `SELECT PLUGIN_NAME, PLUGIN_STATUS
       FROM INFORMATION_SCHEMA.PLUGINS
       WHERE PLUGIN_NAME LIKE '%socket%';`;
const INSTALL = `INSTALL PLUGIN auth_socket SONAME 'auth_socket.so';`;
const UNINSTALL = 'UNINSTALL PLUGIN auth_socket;';
const CREATE_VALERIE = `CREATE USER 'valerie'@'localhost' IDENTIFIED WITH auth_socket;`;
const CREATE_VALERIE_AS_STEPHANIE = `CREATE USER 'valerie'@'localhost' IDENTIFIED WITH auth_socket AS 'stephanie';`;
const CREATE_THEN_ALTER = `CREATE USER 'valerie'@'localhost' IDENTIFIED WITH auth_socket; ALTER USER 'valerie'@'localhost' IDENTIFIED WITH auth_socket AS 'stephanie';`;
// The page's [mysqld] lines.
const PLUGIN_LOAD_ADD = 'plugin-load-add=auth_socket.so';

const SHOW_CREATE_SUFFIX =
  'REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK PASSWORD HISTORY DEFAULT PASSWORD REUSE INTERVAL DEFAULT PASSWORD REQUIRE CURRENT DEFAULT';
const NOT_LOADED = "ERROR 1524 (HY000): Plugin 'auth_socket' is not loaded\n";
// An administrator that needs no auth_socket: who runs the page's INSTALL PLUGIN when no
// auth_socket account can log in.
const ADMIN_PASSWORD = 'manual-admin-pw';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describeAsRoot('the auth_socket manual page, verbatim, against auth-socket serve', () => {
  let dir: TempDir;
  let socketPath: string;
  let datadir: string;
  let port: number;
  let valerie: OsUser;
  let stephanie: OsUser;
  let server: ServeProcess | null = null;

  const ok = (stdout: string): ClientRun => ({ code: 0, stdout, stderr: '' });
  // The mariadb CLI in batch mode prints the failing statement between dashes before its error.
  const failed = (error: string): ClientRun => ({ code: 1, stdout: '', stderr: expect.stringMatching(new RegExp(`(^|\n)${escape(error)}$`)) });

  const root = (sql: string) => runMariadbCli({ endpoint: { socketPath }, user: 'root', sql });
  const admin = (sql: string) => runMariadbCli({ endpoint: { socketPath }, user: 'admin', sql, extraArgs: [`--password=${ADMIN_PASSWORD}`] });
  // `mysql --user=valerie` run by the OS user `who`, through the socket file.
  const asValerie = (who: OsUser, sql = 'SELECT CURRENT_USER()') => runMariadbCli({ endpoint: { socketPath }, user: 'valerie', sql, as: who });

  // (Re)starts the server on the one datadir, my.cnf holding the page's lines or not.
  async function restart(withPluginLoadAdd: boolean): Promise<void> {
    if (server !== null) expect((await server.stop()).code).toBe(0);
    const cnf = writeMyCnf(path.join(dir.path, 'my.cnf'), [
      `socket=${socketPath}`,
      `datadir=${datadir}`,
      `port=${port}`,
      'bind-address=127.0.0.1',
      ...(withPluginLoadAdd ? [PLUGIN_LOAD_ADD] : []),
    ]);
    server = await startServe([`--defaults-file=${cnf}`]);
  }

  beforeAll(async () => {
    valerie = ensureOsUser('valerie');
    stephanie = ensureOsUser('stephanie');
    dir = tempDir('auth-socket-manual-');
    socketPath = path.join(dir.path, 'mysqld.sock');
    datadir = path.join(dir.path, 'data');
    port = await freePort();
  });

  afterAll(async () => {
    await killAllStarted();
    dir?.remove();
  });

  it('a first start has auth_socket installed: the PLUGINS query and SHOW PLUGINS show it ACTIVE', async () => {
    await restart(false);
    expect(await root(PLUGINS_QUERY)).toEqual(ok('auth_socket\tACTIVE\n'));
    const plugins = await root('SHOW PLUGINS');
    expect(plugins).toMatchObject({ code: 0, stderr: '' });
    expect(plugins.stdout.split('\n')).toContainEqual(expect.stringMatching(/^auth_socket\tACTIVE\tAUTHENTICATION\tauth_socket\.so\t/));
    // Installing it again: MySQL's 1125.
    expect(await root(INSTALL)).toEqual(failed("ERROR 1125 (HY000) at line 1: Function 'auth_socket' already exists\n"));
  });

  it("CREATE USER valerie: stephanie with --user=valerie is refused, valerie is let in", async () => {
    expect(await root(CREATE_VALERIE)).toEqual(ok(''));
    expect(await asValerie(stephanie)).toEqual(failed(`${accessDenied1698('valerie')}\n`));
    expect(await asValerie(valerie)).toEqual(ok('valerie@localhost\n'));
    expect(await root(`SHOW CREATE USER 'valerie'@'localhost'`)).toEqual(
      ok(`CREATE USER \`valerie\`@\`localhost\` IDENTIFIED WITH 'auth_socket' ${SHOW_CREATE_SUFFIX}\n`),
    );
    // The same account again: 1396.
    expect(await root(CREATE_VALERIE)).toEqual(failed("ERROR 1396 (HY000) at line 1: Operation CREATE USER failed for 'valerie'@'localhost'\n"));
  });

  it('TCP/IP is refused even for valerie (1698), on an account any host matches', async () => {
    const overTcp = () => runMariadbCli({ endpoint: { port }, user: 'valerie', sql: 'SELECT CURRENT_USER()', as: valerie });
    // 'valerie'@'localhost' is no account for a TCP peer at 127.0.0.1: MySQL's 1045 for an unknown account.
    expect(await overTcp()).toEqual(failed("ERROR 1045 (28000): Access denied for user 'valerie'@'127.0.0.1' (using password: NO)\n"));
    // An account TCP reaches: auth_socket itself refuses the protocol.
    expect(await root(`CREATE USER 'valerie'@'%' IDENTIFIED WITH auth_socket`)).toEqual(ok(''));
    try {
      expect(await overTcp()).toEqual(failed("ERROR 1698 (28000): Access denied for user 'valerie'@'127.0.0.1'\n"));
    } finally {
      expect(await root(`DROP USER 'valerie'@'%'`)).toEqual(ok(''));
    }
    // The socket file still lets her in.
    expect(await asValerie(valerie)).toEqual(ok('valerie@localhost\n'));
  });

  it("names both users at creation: CREATE USER ... AS 'stephanie'", async () => {
    expect(await root(`DROP USER 'valerie'@'localhost'`)).toEqual(ok(''));
    // No such account now: MySQL's 1045.
    expect(await asValerie(valerie)).toEqual(failed("ERROR 1045 (28000): Access denied for user 'valerie'@'localhost' (using password: NO)\n"));
    expect(await root(CREATE_VALERIE_AS_STEPHANIE)).toEqual(ok(''));
    expect(await asValerie(valerie)).toEqual(ok('valerie@localhost\n'));
    expect(await asValerie(stephanie)).toEqual(ok('valerie@localhost\n'));
  });

  it("adds stephanie to an existing account: CREATE USER then ALTER USER ... AS 'stephanie'", async () => {
    expect(await root(`DROP USER 'valerie'@'localhost'`)).toEqual(ok(''));
    expect(await root(CREATE_THEN_ALTER)).toEqual(ok(''));
    expect(await asValerie(valerie)).toEqual(ok('valerie@localhost\n'));
    expect(await asValerie(stephanie)).toEqual(ok('valerie@localhost\n'));
    expect(await root(`SHOW CREATE USER 'valerie'@'localhost'`)).toEqual(
      ok(`CREATE USER \`valerie\`@\`localhost\` IDENTIFIED WITH 'auth_socket' AS 'stephanie' ${SHOW_CREATE_SUFFIX}\n`),
    );
    expect(await root(`SELECT user, host, plugin, authentication_string FROM mysql.user WHERE user = 'valerie'`)).toEqual(
      ok('valerie\tlocalhost\tauth_socket\tstephanie\n'),
    );
    // The administrator the INSTALL PLUGIN steps below need (a password account, no auth_socket).
    expect(
      await root(`CREATE USER 'admin'@'localhost' IDENTIFIED WITH mysql_native_password BY '${ADMIN_PASSWORD}'; GRANT ALL PRIVILEGES ON *.* TO 'admin'@'localhost' WITH GRANT OPTION`),
    ).toEqual(ok(''));
    expect(await admin('SELECT CURRENT_USER()')).toEqual(ok('admin@localhost\n'));
  });

  it('a restart keeps the accounts and the installed plugin', async () => {
    await restart(false);
    expect(await root(PLUGINS_QUERY)).toEqual(ok('auth_socket\tACTIVE\n'));
    expect(await asValerie(valerie)).toEqual(ok('valerie@localhost\n'));
    expect(await asValerie(stephanie)).toEqual(ok('valerie@localhost\n'));
    expect(await root(`SHOW CREATE USER 'valerie'@'localhost'`)).toEqual(
      ok(`CREATE USER \`valerie\`@\`localhost\` IDENTIFIED WITH 'auth_socket' AS 'stephanie' ${SHOW_CREATE_SUFFIX}\n`),
    );
    expect(await admin('SELECT CURRENT_USER()')).toEqual(ok('admin@localhost\n'));
  });

  it('UNINSTALL PLUGIN unloads it at once and for every later start: auth_socket accounts get 1524', async () => {
    // In the session that uninstalls it, the page's query finds nothing, and a second UNINSTALL is 1305.
    expect(await root(`${UNINSTALL} ${PLUGINS_QUERY} SELECT 'after'`)).toEqual(ok('after\n'));
    expect(await root('SELECT 1')).toEqual(failed(NOT_LOADED));
    expect(await asValerie(valerie)).toEqual(failed(NOT_LOADED));
    expect(await admin(UNINSTALL)).toEqual(failed('ERROR 1305 (42000) at line 1: PLUGIN auth_socket does not exist\n'));
    await restart(false);
    expect(await root('SELECT 1')).toEqual(failed(NOT_LOADED));
    expect(await asValerie(stephanie)).toEqual(failed(NOT_LOADED));
    expect(await admin(PLUGINS_QUERY)).toEqual(ok(''));
  });

  it('INSTALL PLUGIN loads it at once and registers it for every later start', async () => {
    expect(await admin(INSTALL)).toEqual(ok(''));
    expect(await root(PLUGINS_QUERY)).toEqual(ok('auth_socket\tACTIVE\n'));
    expect(await asValerie(stephanie)).toEqual(ok('valerie@localhost\n'));
    await restart(false);
    expect(await root(PLUGINS_QUERY)).toEqual(ok('auth_socket\tACTIVE\n'));
    expect(await asValerie(valerie)).toEqual(ok('valerie@localhost\n'));
  });

  it("my.cnf's plugin-load-add=auth_socket.so loads it for that run only: restarting without the option uninstalls it", async () => {
    expect(await root(UNINSTALL)).toEqual(ok(''));
    await restart(true);
    expect(await root(PLUGINS_QUERY)).toEqual(ok('auth_socket\tACTIVE\n'));
    const plugins = await root('SHOW PLUGINS');
    expect(plugins).toMatchObject({ code: 0, stderr: '' });
    expect(plugins.stdout.split('\n')).toContainEqual(expect.stringMatching(/^auth_socket\tACTIVE\tAUTHENTICATION\tauth_socket\.so\t/));
    expect(await asValerie(valerie)).toEqual(ok('valerie@localhost\n'));
    expect(await asValerie(stephanie)).toEqual(ok('valerie@localhost\n'));
    await restart(false);
    expect(await root('SELECT 1')).toEqual(failed(NOT_LOADED));
    expect(await admin(PLUGINS_QUERY)).toEqual(ok(''));
  });

  it('recovery: restarted with plugin-load-add, root gets in again and can make the plugin permanent again', async () => {
    await restart(true);
    expect(await root(PLUGINS_QUERY)).toEqual(ok('auth_socket\tACTIVE\n'));
    // While --plugin-load-add has it loaded, INSTALL PLUGIN finds it active: MySQL's 1125.
    expect(await root(INSTALL)).toEqual(failed("ERROR 1125 (HY000) at line 1: Function 'auth_socket' already exists\n"));
    // Unloading this run's copy and installing it in the same session (which stays logged in) records it.
    expect(await root(`${UNINSTALL} ${INSTALL}`)).toEqual(ok(''));
    await restart(false);
    expect(await root(PLUGINS_QUERY)).toEqual(ok('auth_socket\tACTIVE\n'));
    expect(await asValerie(stephanie)).toEqual(ok('valerie@localhost\n'));
    expect(fs.existsSync(socketPath)).toBe(true);
    expect((await server!.stop()).code).toBe(0);
    server = null;
    expect(fs.existsSync(socketPath)).toBe(false);
  });
});
