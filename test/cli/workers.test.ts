// `auth-socket serve --workers=N`: several processes accept on one socket, each change to the
// catalog is made durable by the primary and seen by every worker before it is acknowledged, a
// worker that dies is replaced, and the whole server stops as one.
import fs from 'fs';
import mariadb from 'mariadb';
import path from 'path';

import { runMariadbCli } from '../helpers/clients';
import { describeAsRoot, ensureOsUser } from '../helpers/root';
import { killAllStarted, ServeProcess, startServe, waitFor } from '../helpers/serve-process';
import { tempDir, TempDir } from '../helpers/sockets';

const STATE_FILE = 'auth-socket-catalog.json';

function workerPids(primary: number): number[] {
  const children = fs.readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8').trim();
  return children === '' ? [] : children.split(/\s+/).map(Number);
}

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
