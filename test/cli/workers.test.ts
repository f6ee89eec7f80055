// `auth-socket serve --workers=N`: several processes accept on one socket, each change to the
// catalog is made durable by the primary and seen by every worker before it is acknowledged, a
// worker that dies is replaced, and the whole server stops as one.
import fs from 'fs';
import mariadb from 'mariadb';
import path from 'path';

import { runMariadbCli } from '../helpers/clients';
import { describeAsRoot, ensureOsUser } from '../helpers/root';
import { killAllStarted, ServeProcess, startServe, waitFor, workerPids } from '../helpers/serve-process';
import { tempDir, TempDir } from '../helpers/sockets';

const STATE_FILE = 'auth-socket-catalog.json';

describeAsRoot('auth-socket serve --workers', () => {
  let dir: TempDir;
  let socketPath: string;
  let datadir: string;
  let server: ServeProcess;

  const root = () => mariadb.createConnection({ socketPath, user: 'root' });
  const query = async (sql: string): Promise<unknown[]> => {
    const connection = await root();
    try {
      return await connection.query({ sql, rowsAsArray: true });
    } finally {
      await connection.end();
    }
  };

  beforeEach(async () => {
    dir = tempDir('auth-socket-workers-');
    fs.chmodSync(dir.path, 0o755);
    socketPath = path.join(dir.path, 'mysqld.sock');
    datadir = path.join(dir.path, 'data');
    server = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`, '--workers=2']);
  });

  afterEach(async () => {
    await killAllStarted();
    dir.remove();
  });

  it('runs two workers that both take connections, with connection ids unique across them', async () => {
    expect(workerPids(server.pid)).toHaveLength(2);
    // Worker 0 hands out odd ids, worker 1 even ones; held open, connections must spread.
    const connections = await Promise.all(Array.from({ length: 24 }, root));
    try {
      const ids = await Promise.all(connections.map(async (c) => Number((await c.query({ sql: 'SELECT CONNECTION_ID()', rowsAsArray: true }))[0][0])));
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(ids.map((id) => id % 2))).toEqual(new Set([0, 1]));
      // SHOW STATUS is the whole server's: every worker's open connections, and their RSS summed.
      const rows = (await connections[0].query({ sql: 'SHOW GLOBAL STATUS', rowsAsArray: true })) as string[][];
      const status = Object.fromEntries(rows.map(([name, value]) => [name, Number(value)]));
      expect(status.Threads_connected).toBe(24);
      const rss = workerPids(server.pid).map((pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024);
      expect(status.Auth_socket_rss_bytes).toBeGreaterThan(Math.max(...rss));
      expect(await connections[1].query('FLUSH STATUS')).toMatchObject({ affectedRows: 0 });
    } finally {
      await Promise.all(connections.map((c) => c.end()));
    }
  });

  it('a change acknowledged on one worker is seen by logins on every worker, and concurrent changes all last', async () => {
    const nobody = ensureOsUser('nobody');
    await query(`CREATE USER '${nobody.name}'@'localhost' IDENTIFIED WITH auth_socket`);
    // Right after the OK, every login of the new account, on whichever worker, gets in.
    const logins = await Promise.all(
      Array.from({ length: 12 }, () => runMariadbCli({ endpoint: { socketPath }, user: nobody.name, sql: 'SELECT CURRENT_USER()', as: nobody })),
    );
    for (const login of logins) expect(login).toEqual({ code: 0, stdout: `${nobody.name}@localhost\n`, stderr: '' });
    // Twenty changes from ten sessions at once: none lost in memory or in the datadir.
    const sessions = await Promise.all(Array.from({ length: 10 }, root));
    try {
      await Promise.all(sessions.flatMap((s, i) => [s.query(`CREATE USER 'w${i}a'@'localhost' IDENTIFIED WITH auth_socket`), s.query(`CREATE USER 'w${i}b'@'localhost' IDENTIFIED WITH auth_socket`)]));
      const counts = await Promise.all(sessions.map(async (s) => (await s.query({ sql: `SELECT user FROM mysql.user WHERE user LIKE 'w%'`, rowsAsArray: true })).length));
      expect(counts).toEqual(Array(10).fill(20));
    } finally {
      await Promise.all(sessions.map((s) => s.end()));
    }
    const stored = JSON.parse(fs.readFileSync(path.join(datadir, STATE_FILE), 'utf8')) as { accounts: Array<{ user: string }> };
    expect(stored.accounts.filter((a) => a.user.startsWith('w'))).toHaveLength(20);
    // DROP on one worker: refused everywhere at once.
    await query(`DROP USER '${nobody.name}'@'localhost'`);
    const refused = await Promise.all(
      Array.from({ length: 6 }, () => runMariadbCli({ endpoint: { socketPath }, user: nobody.name, sql: 'SELECT 1', as: nobody })),
    );
    for (const login of refused) expect(login.code).toBe(1);
  });

  it('a worker killed with -9 is replaced, the server keeps answering, and SIGTERM stops all and removes the socket', async () => {
    const [victim] = workerPids(server.pid);
    process.kill(victim, 'SIGKILL');
    await waitFor(() => workerPids(server.pid).length === 2 && !workerPids(server.pid).includes(victim), 'a replacement worker');
    for (let i = 0; i < 6; i++) expect(await query("SELECT 'up'")).toEqual([['up']]);
    expect(server.output().stderr).toMatch(new RegExp(`worker ${victim} exited \\(SIGKILL\\); starting another`));
    const workers = workerPids(server.pid);
    const exit = await server.stop('SIGTERM');
    expect(exit.code).toBe(0);
    for (const pid of workers) expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
    expect(fs.existsSync(socketPath)).toBe(false);
    // The datadir's lock went with the primary: a new server takes it.
    const again = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`, '--workers=2']);
    expect(await query("SELECT 'up'")).toEqual([['up']]);
    expect((await again.stop()).code).toBe(0);
  });

  it('a stopped worker does not hold a change back: it is ended after 5 s and replaced with the new state', async () => {
    const [stopped] = workerPids(server.pid);
    process.kill(stopped, 'SIGSTOP');
    try {
      // Only the running worker accepts, so the statement goes to it; its OK waits for the other.
      expect(await query("CREATE USER 'late'@'localhost' IDENTIFIED WITH auth_socket")).toMatchObject({ affectedRows: 0 });
      expect(server.output().stderr).toMatch(new RegExp(`worker ${stopped} did not answer within 5 s: ending it`));
      await waitFor(() => workerPids(server.pid).length === 2 && !workerPids(server.pid).includes(stopped), 'a replacement worker');
      // Every worker, the replacement too, has the account.
      const rows = await Promise.all(Array.from({ length: 8 }, () => query("SELECT user FROM mysql.user WHERE user = 'late'")));
      expect(rows).toEqual(Array(8).fill([['late']]));
    } finally {
      if (fs.existsSync(`/proc/${stopped}`)) process.kill(stopped, 'SIGCONT');
    }
  });

  it('a worker gives up on a stopped primary: ER_LOCK_WAIT_TIMEOUT after 15 s, and the lock works again once it runs', async () => {
    const connection = await root();
    try {
      process.kill(server.pid, 'SIGSTOP');
      let refusal: unknown;
      try {
        await connection.query("CREATE USER 'waited'@'localhost' IDENTIFIED WITH auth_socket");
      } catch (error) {
        refusal = error;
      } finally {
        process.kill(server.pid, 'SIGCONT');
      }
      expect(refusal).toMatchObject({ errno: 1205, sqlState: 'HY000', text: 'Lock wait timeout exceeded; try restarting transaction' });
      // The grant that came after the wait ended was handed back: the next change takes the lock.
      expect(await connection.query("CREATE USER 'waited'@'localhost' IDENTIFIED WITH auth_socket")).toMatchObject({ affectedRows: 0 });
      expect(await query("SELECT user FROM mysql.user WHERE user = 'waited'")).toEqual([['waited']]);
    } finally {
      await connection.end();
    }
  }, 30_000);

  it('SHUTDOWN in any session stops every process; a primary killed with -9 takes its workers with it', async () => {
    const connection = await root();
    await connection.query('SHUTDOWN').catch(() => undefined);
    await connection.end().catch(() => undefined);
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(exit.stderr).toMatch(/shutdown requested by 'root'@'localhost'/);
    const again = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`, '--workers=2']);
    const workers = workerPids(again.pid);
    await again.stop('SIGKILL');
    await waitFor(() => workers.every((pid) => !fs.existsSync(`/proc/${pid}`)), 'the orphaned workers to exit');
  });
});
