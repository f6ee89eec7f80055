// The statements `auth-socket serve` answers beyond the manual page's own, and MySQL's errors for
// them, through the real mariadb CLI against the built command: privileges (1227 for an account
// without them, GRANT and REVOKE giving and taking them), 1396, 1064, 1125/1126/1127/1305, the
// system variables, and a server run by an OS user other than root administering itself.
import fs from 'fs';
import path from 'path';

import { ClientRun, runMariadbCli } from '../helpers/clients';
import { describeAsRoot, ensureOsUser, OsUser } from '../helpers/root';
import { killAllStarted, ServeProcess, startServe } from '../helpers/serve-process';
import { tempDir, TempDir } from '../helpers/sockets';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const ok = (stdout: string): ClientRun => ({ code: 0, stdout, stderr: '' });
// The mariadb CLI in batch mode prints the failing statement between dashes before its error.
const failed = (error: string): ClientRun => ({ code: 1, stdout: '', stderr: expect.stringMatching(new RegExp(`(^|\\n)${escape(error)}\\n$`)) });

const needs = (privilege: string) => `ERROR 1227 (42000) at line 1: Access denied; you need (at least one of) the ${privilege} privilege(s) for this operation`;

describeAsRoot('auth-socket serve: statements and their errors', () => {
  let dir: TempDir;
  let socketPath: string;
  let valerie: OsUser;
  let server: ServeProcess;

  const root = (sql: string) => runMariadbCli({ endpoint: { socketPath }, user: 'root', sql });
  const asValerie = (sql: string) => runMariadbCli({ endpoint: { socketPath }, user: 'valerie', sql, as: valerie });

  beforeAll(async () => {
    valerie = ensureOsUser('valerie');
    dir = tempDir('auth-socket-statements-');
    socketPath = path.join(dir.path, 'mysqld.sock');
    fs.mkdirSync(path.join(dir.path, 'plugins'));
    server = await startServe([`--socket=${socketPath}`, `--datadir=${path.join(dir.path, 'data')}`, `--plugin-dir=${path.join(dir.path, 'plugins')}`, '--max-connections=42']);
  });

  afterAll(async () => {
    await killAllStarted();
    dir?.remove();
  });

  it('an account without privileges gets 1227 for account and plugin statements', async () => {
    expect(await root(`CREATE USER 'valerie'@'localhost' IDENTIFIED WITH auth_socket`)).toEqual(ok(''));
    expect(await asValerie('SHOW GRANTS')).toEqual(ok('GRANT USAGE ON *.* TO `valerie`@`localhost`\n'));
    expect(await asValerie(`CREATE USER 'x'@'localhost' IDENTIFIED WITH auth_socket`)).toEqual(failed(needs('CREATE USER')));
    expect(await asValerie(`DROP USER 'root'@'localhost'`)).toEqual(failed(needs('CREATE USER')));
    expect(await asValerie(`INSTALL PLUGIN auth_socket SONAME 'auth_socket.so'`)).toEqual(failed(needs('SUPER')));
    expect(await asValerie('UNINSTALL PLUGIN auth_socket')).toEqual(failed(needs('SUPER')));
  });

  it('GRANT CREATE USER lets her manage accounts; REVOKE ALL PRIVILEGES, GRANT OPTION takes it back', async () => {
    expect(await root(`GRANT CREATE USER ON *.* TO 'valerie'@'localhost'`)).toEqual(ok(''));
    expect(await root(`SHOW GRANTS FOR 'valerie'@'localhost'`)).toEqual(ok('GRANT CREATE USER ON *.* TO `valerie`@`localhost`\n'));
    expect(await asValerie(`CREATE USER 'x'@'localhost' IDENTIFIED WITH auth_socket AS 'valerie'`)).toEqual(ok(''));
    expect(await asValerie(`DROP USER 'x'@'localhost'`)).toEqual(ok(''));
    expect(await root(`GRANT ALL PRIVILEGES ON *.* TO 'valerie'@'localhost' WITH GRANT OPTION`)).toEqual(ok(''));
    expect(await asValerie('SHOW GRANTS')).toEqual(ok('GRANT ALL PRIVILEGES ON *.* TO `valerie`@`localhost` WITH GRANT OPTION\n'));
    expect(await root(`REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'valerie'@'localhost'`)).toEqual(ok(''));
    expect(await root(`SHOW GRANTS FOR 'valerie'@'localhost'`)).toEqual(ok('GRANT USAGE ON *.* TO `valerie`@`localhost`\n'));
    expect(await asValerie(`CREATE USER 'x'@'localhost' IDENTIFIED WITH auth_socket`)).toEqual(failed(needs('CREATE USER')));
  });

  it('1396 for a duplicate CREATE and for ALTER or DROP of a missing account; IF [NOT] EXISTS is quiet', async () => {
    expect(await root(`CREATE USER 'valerie'@'localhost' IDENTIFIED WITH auth_socket`)).toEqual(failed("ERROR 1396 (HY000) at line 1: Operation CREATE USER failed for 'valerie'@'localhost'"));
    expect(await root(`CREATE USER IF NOT EXISTS 'valerie'@'localhost' IDENTIFIED WITH auth_socket`)).toEqual(ok(''));
    expect(await root(`ALTER USER 'nobody'@'localhost' IDENTIFIED WITH auth_socket AS 'x'`)).toEqual(failed("ERROR 1396 (HY000) at line 1: Operation ALTER USER failed for 'nobody'@'localhost'"));
    expect(await root(`DROP USER 'nobody'@'localhost'`)).toEqual(failed("ERROR 1396 (HY000) at line 1: Operation DROP USER failed for 'nobody'@'localhost'"));
    expect(await root(`DROP USER IF EXISTS 'nobody'@'localhost'`)).toEqual(ok(''));
  });

  it("1064 with MySQL's near text and line", async () => {
    expect(await root(`CREATE USER 'a'@'localhost' IDENTIFIED WITH`)).toEqual(
      failed("ERROR 1064 (42000) at line 1: You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '' at line 1"),
    );
    // The second statement of the batch, broken on its own second line.
    expect(await root(`SELECT 1;\nCREATE USER 'a'@'localhost'\n  IDENTIFIED WITH auth_socket WHERE 1`)).toMatchObject({
      code: 1,
      stdout: '1\n',
      stderr: expect.stringMatching(/(^|\n)ERROR 1064 \(42000\) at line 2: You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near 'WHERE 1' at line 2\n$/),
    });
  });

  it('INSTALL PLUGIN errors: 1126 for an unknown library, 1127 for a library without the plugin, 1305 to uninstall what is not there', async () => {
    expect(await root(`INSTALL PLUGIN nope SONAME 'nope.so'`)).toMatchObject({ code: 1, stderr: expect.stringMatching(/(^|\n)ERROR 1126 \(HY000\) at line 1: Can't open shared library '[^']*nope[^']*'/) });
    expect(await root(`INSTALL PLUGIN nope SONAME 'auth_socket.so'`)).toEqual(failed("ERROR 1127 (HY000) at line 1: Can't find symbol 'nope' in library"));
    expect(await root('UNINSTALL PLUGIN nope')).toEqual(failed('ERROR 1305 (42000) at line 1: PLUGIN nope does not exist'));
  });

  it('the system variables and VERSION()', async () => {
    const run = await root('SELECT @@plugin_dir, @@socket, @@datadir, @@max_connections, VERSION()');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const [pluginDir, socket, datadir, maxConnections, version] = run.stdout.replace(/\n$/, '').split('\t');
    expect({ pluginDir, socket, datadir, maxConnections }).toEqual({
      pluginDir: `${path.join(dir.path, 'plugins')}/`,
      socket: socketPath,
      datadir: `${fs.realpathSync(path.join(dir.path, 'data'))}/`,
      maxConnections: '42',
    });
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect(server.hasExited()).toBe(false);
  });
});

describeAsRoot('auth-socket serve run by an OS user other than root', () => {
  let dir: TempDir;

  afterAll(async () => {
    await killAllStarted();
    dir?.remove();
  });

  it("a first start makes root and the server's own OS user administrators", async () => {
    const valerie = ensureOsUser('valerie');
    dir = tempDir('auth-socket-as-valerie-');
    const home = path.join(dir.path, 'run');
    fs.mkdirSync(home, { mode: 0o700 });
    fs.chownSync(home, valerie.uid, valerie.gid);
    const socketPath = path.join(home, 'mysqld.sock');
    // Her socket dir is hers alone: only she (and root) can reach the socket.
    await startServe([`--socket=${socketPath}`, `--datadir=${path.join(home, 'data')}`], {
      uid: valerie.uid,
      gid: valerie.gid,
      env: { PATH: process.env.PATH, TMPDIR: home, LANG: 'C' },
    });
    const state = path.join(home, 'data', 'auth-socket-catalog.json');
    expect(fs.statSync(state).uid).toBe(valerie.uid);
    const asValerie = (sql: string) => runMariadbCli({ endpoint: { socketPath }, user: 'valerie', sql, as: valerie });
    expect(await asValerie('SHOW GRANTS')).toEqual(ok('GRANT ALL PRIVILEGES ON *.* TO `valerie`@`localhost` WITH GRANT OPTION\n'));
    expect(await runMariadbCli({ endpoint: { socketPath }, user: 'root', sql: 'SHOW GRANTS' })).toEqual(ok('GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION\n'));
    const users = await asValerie('SELECT user, host, plugin FROM mysql.user');
    expect(users).toMatchObject({ code: 0, stderr: '' });
    expect(users.stdout.split('\n').filter(Boolean).sort()).toEqual(['root\tlocalhost\tauth_socket', 'valerie\tlocalhost\tauth_socket']);
  });
});
