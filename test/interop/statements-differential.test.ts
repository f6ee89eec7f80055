// Differential: the same account and plugin statements, with the real mariadb CLI as OS root,
// against a private MariaDB 10.11 and `auth-socket serve` (its first start makes root an
// auth_socket administrator). Where MariaDB and MySQL agree, the answers must be the same;
// where they differ, ours is held to MySQL 8's rule and MariaDB's divergence is pinned once.
import path from 'path';

import { RunningServer, startServe } from '../../lib/cli/serve';
import { ErrorLog } from '../../lib/cli/error-log';
import { parseServeArgs } from '../../lib/config/serve-options';
import { runMariadbCli } from '../helpers/clients';
import { MariadbInstance, startMariadb } from '../helpers/mariadb';
import { describeAsRoot } from '../helpers/root';
import { tempDir, TempDir } from '../helpers/sockets';

const silent: ErrorLog = { note: () => {}, login: () => {}, refuse: () => {}, close: () => {} };
const ROOT = { uid: 0, gid: 0 };

describeAsRoot('account and plugin statements: MariaDB 10.11 and auth-socket serve, same CLI', () => {
  let mariadb: MariadbInstance;
  let ours: RunningServer;
  let dir: TempDir;
  let socketPath: string;

  beforeAll(async () => {
    dir = tempDir('auth-socket-statements-');
    socketPath = path.join(dir.path, 'ours.sock');
    [mariadb, ours] = await Promise.all([
      startMariadb(),
      startServe(parseServeArgs([`--socket=${socketPath}`, `--datadir=${path.join(dir.path, 'data')}`]), silent),
    ]);
  });
  afterAll(async () => {
    await Promise.all([mariadb?.stop(), ours?.stop()]);
    dir?.remove();
  });

  // The CLI echoes a failing statement before its error line: the error line is what is compared.
  const run = async (where: 'mariadb' | 'ours', sql: string) => {
    const result = await runMariadbCli({ endpoint: { socketPath: where === 'ours' ? socketPath : mariadb.socketPath }, user: 'root', sql, as: ROOT });
    return { code: result.code, stdout: result.stdout, stderr: result.stderr.split('\n').filter((line) => line.startsWith('ERROR')).map((line) => `${line}\n`).join('') };
  };
  const both = async (sql: string) => Promise.all([run('mariadb', sql), run('ours', sql)]);

  // In order: each builds on the ones before it.
  const agreed: Array<[string, string]> = [
    ["CREATE USER 'dora'@'localhost'", ''],
    ["CREATE USER 'dora'@'localhost'", "ERROR 1396 (HY000) at line 1: Operation CREATE USER failed for 'dora'@'localhost'\n"],
    ["CREATE USER IF NOT EXISTS 'dora'@'localhost'", ''],
    ["SELECT user, host FROM mysql.user WHERE user = 'dora'", ''],
    ["ALTER USER 'ghost'@'localhost' IDENTIFIED BY 'x'", "ERROR 1396 (HY000) at line 1: Operation ALTER USER failed for 'ghost'@'localhost'\n"],
    ["ALTER USER IF EXISTS 'ghost'@'localhost' IDENTIFIED BY 'x'", ''],
    ["DROP USER 'ghost'@'localhost'", "ERROR 1396 (HY000) at line 1: Operation DROP USER failed for 'ghost'@'localhost'\n"],
    ["DROP USER IF EXISTS 'ghost'@'localhost'", ''],
    ["CREATE USER 'x'@'localhost' IDENTIFIED WITH no_such_plugin", "ERROR 1524 (HY000) at line 1: Plugin 'no_such_plugin' is not loaded\n"],
    ["SHOW GRANTS FOR 'ghost'@'localhost'", "ERROR 1141 (42000) at line 1: There is no such grant defined for user 'ghost' on host 'localhost'\n"],
    ['UNINSTALL PLUGIN no_such', 'ERROR 1305 (42000) at line 1: PLUGIN no_such does not exist\n'],
    ["DROP USER 'dora'@'localhost'", ''],
  ];

  it.each(agreed)('%s', async (sql, stderr) => {
    const [theirs, mine] = await both(sql);
    expect(theirs.stderr).toBe(stderr);
    expect(mine).toEqual(theirs);
  });

  it('a syntax error is 1064 (42000) near the same text in both; only the product name differs', async () => {
    const [theirs, mine] = await both("CREATE USER 'x'@'localhost' IDENTIFIED WTH auth_socket");
    const near = / near 'WTH auth_socket' at line 1\n$/;
    expect(theirs.stderr).toMatch(/^ERROR 1064 \(42000\) at line 1: You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version/);
    expect(mine.stderr).toMatch(/^ERROR 1064 \(42000\) at line 1: You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version/);
    expect([theirs.stderr, mine.stderr].every((stderr) => near.test(stderr))).toBe(true);
  });

  it("a library that is not there is 1126 in both (MariaDB names its .so, ours the library's module)", async () => {
    const [theirs, mine] = await both("INSTALL PLUGIN nope SONAME 'nope.so'");
    for (const { code, stderr } of [theirs, mine]) {
      expect(code).toBe(1);
      expect(stderr).toMatch(/^ERROR 1126 \(HY000\) at line 1: Can't open shared library '[^']*nope\.(so|js)'/);
    }
  });

  // MySQL 8 creates all the accounts of one CREATE USER or none; MariaDB 10.11 creates those it can.
  it("MySQL's rule where they differ: a CREATE USER of several accounts is all or nothing", async () => {
    await both("CREATE USER 'held'@'localhost'");
    const [theirs, mine] = await both("CREATE USER 'fresh'@'localhost', 'held'@'localhost'");
    for (const result of [theirs, mine]) expect(result.stderr).toBe("ERROR 1396 (HY000) at line 1: Operation CREATE USER failed for 'held'@'localhost'\n");
    const [theirRows, myRows] = await both("SELECT user FROM mysql.user WHERE user = 'fresh'");
    expect(theirRows.stdout).toBe('fresh\n');
    expect(myRows.stdout).toBe('');
  });

  it("SHOW CREATE USER: MySQL 8's IDENTIFIED WITH 'auth_socket' AS where MariaDB prints VIA unix_socket USING", async () => {
    await run('ours', "CREATE USER 'valerie'@'localhost' IDENTIFIED WITH auth_socket AS 'stephanie'");
    await run('mariadb', "CREATE USER 'valerie'@'localhost' IDENTIFIED VIA unix_socket USING 'stephanie'");
    const [theirs, mine] = await both("SHOW CREATE USER 'valerie'@'localhost'");
    expect(theirs.stdout).toBe("CREATE USER `valerie`@`localhost` IDENTIFIED VIA unix_socket USING 'stephanie'\n");
    expect(mine.stdout).toMatch(/^CREATE USER `valerie`@`localhost` IDENTIFIED WITH 'auth_socket' AS 'stephanie' REQUIRE NONE /);
  });
});
