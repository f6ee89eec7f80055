// `auth-socket serve` as operators run it: the error log's line for each authentication decision
// (text and JSON, the peer's uid and pid in it, never a password), stopping by signal and by
// mysqladmin shutdown (exit 0, the socket file gone), mysqladmin ping and status, and each start
// failure exiting non-zero with its cause named and no socket file or listener left behind.
import { spawn } from 'child_process';
import fs from 'fs';
import mariadb from 'mariadb';
import net from 'net';
import path from 'path';

import { accessDenied1698, ClientRun, runMariadbCli } from '../helpers/clients';
import { describeAsRoot, ensureOsUser, OsUser } from '../helpers/root';
import { accepts, failedStart, freePort, killAllStarted, ServeProcess, spawnServe, startServe, waitFor } from '../helpers/serve-process';
import { tempDir, TempDir } from '../helpers/sockets';

const PASSWORD = 'Never-Log-Me-7f3a';

function mysqladmin(socketPath: string, ...commands: string[]): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/mysqladmin', ['--no-defaults', '-S', socketPath, '-u', 'root', ...commands], {
      cwd: '/',
      env: { PATH: '/usr/bin:/bin', LANG: 'C' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (data: string) => (stdout += data));
    child.stderr.setEncoding('utf8').on('data', (data: string) => (stderr += data));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describeAsRoot('auth-socket serve: operations', () => {
  let dir: TempDir;
  let valerie: OsUser;
  let stephanie: OsUser;

  beforeAll(() => {
    valerie = ensureOsUser('valerie');
    stephanie = ensureOsUser('stephanie');
  });

  beforeEach(() => {
    dir = tempDir('auth-socket-ops-');
  });

  afterEach(async () => {
    await killAllStarted();
    dir.remove();
  });

  const paths = () => ({ socketPath: path.join(dir.path, 'mysqld.sock'), datadir: path.join(dir.path, 'data'), log: path.join(dir.path, 'error.log') });

  // Starts a server logging to a file, with valerie's account; runs valerie's login and
  // stephanie's refusal (both typing a password the log must never show); returns the log's lines.
  async function loginAndRefusal(format: 'text' | 'json'): Promise<{ lines: string[]; server: ServeProcess }> {
    const { socketPath, datadir, log } = paths();
    const server = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`, `--log-error=${log}`, `--log-format=${format}`]);
    expect(await runMariadbCli({ endpoint: { socketPath }, user: 'root', sql: `CREATE USER 'valerie'@'localhost' IDENTIFIED WITH auth_socket` })).toMatchObject({ code: 0 });
    const asValerie = (who: OsUser) => runMariadbCli({ endpoint: { socketPath }, user: 'valerie', sql: 'SELECT CURRENT_USER()', as: who, extraArgs: [`--password=${PASSWORD}`] });
    expect(await asValerie(valerie)).toEqual({ code: 0, stdout: 'valerie@localhost\n', stderr: '' });
    expect(await asValerie(stephanie)).toEqual({ code: 1, stdout: '', stderr: `${accessDenied1698('valerie')}\n` });
    const read = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
    // By name: stephanie's uid may be another user's gid (valerie's login line holds both).
    await waitFor(() => read().split('\n').some((line) => /osUser\W{1,3}stephanie/.test(line) && line.includes('valerie')), "the refusal's log line");
    const text = read();
    expect(text).not.toContain(PASSWORD);
    return { lines: text.split('\n').filter((line) => line !== ''), server };
  }

  it('the text error log: one line per decision, naming OS user, uid, pid, account, plugin, result and reason; no password', async () => {
    const { lines, server } = await loginAndRefusal('text');
    const about = (who: OsUser) => lines.filter((line) => line.includes(who.name) && line.includes(String(who.uid)));
    const [login, ...moreLogins] = about(valerie);
    expect(moreLogins).toEqual([]);
    const [refusal, ...moreRefusals] = about(stephanie);
    expect(moreRefusals).toEqual([]);
    for (const line of [login, refusal]) {
      expect(line).toContain('valerie');
      expect(line).toContain('auth_socket');
      expect(line).toMatch(/pid\D{0,3}[1-9]\d*/);
    }
    expect(refusal).toMatch(/1698/);
    expect(refusal).not.toEqual(login);
    expect((await server.stop()).code).toBe(0);
    // Nothing of the log went to stderr.
    expect(server.output().stderr).not.toMatch(/stephanie|Access denied/);
  });

  it('--log-format=json: one JSON object a line, login and refuse events with their fields; no password', async () => {
    const { lines, server } = await loginAndRefusal('json');
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const login = events.filter((event) => event.event === 'login' && event.osUser === 'valerie');
    const refuse = events.filter((event) => event.event === 'refuse' && event.osUser === 'stephanie');
    expect(login).toHaveLength(1);
    expect(refuse).toHaveLength(1);
    expect(login[0]).toMatchObject({ user: 'valerie', host: 'localhost', plugin: 'auth_socket', osUser: 'valerie', uid: valerie.uid, pid: expect.any(Number) });
    expect(refuse[0]).toMatchObject({ user: 'valerie', host: 'localhost', plugin: 'auth_socket', osUser: 'stephanie', uid: stephanie.uid, pid: expect.any(Number), errno: 1698, reason: expect.any(String) });
    expect(login[0].pid).toBeGreaterThan(0);
    expect(refuse[0].pid).toBeGreaterThan(0);
    expect((await server.stop()).code).toBe(0);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s stops it: exit 0, the socket file removed, nothing listening', async (signal) => {
    const { socketPath, datadir } = paths();
    const server = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`]);
    expect(await runMariadbCli({ endpoint: { socketPath }, user: 'root', sql: 'SELECT 1' })).toEqual({ code: 0, stdout: '1\n', stderr: '' });
    const exit = await server.stop(signal);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(socketPath)).toBe(false);
  });

  // The handlers are there before the server listens: a supervisor that stops it as soon as it
  // says it listens, or a second signal during the grace, never cuts the shutdown short. (A
  // second signal that arrives once the shutdown is complete may still find Node tearing down
  // with the default disposition back: the process is then gone either way, its work done.)
  it('a SIGTERM the moment it says it listens, and a second one during the grace: the shutdown completes, the socket is removed', async () => {
    for (let round = 0; round < 5; round++) {
      const { socketPath, datadir } = paths();
      const server = spawnServe([`--socket=${socketPath}`, `--datadir=${datadir}`]);
      await waitFor(() => server.output().stdout.includes('listening on'), 'the listening line');
      server.child.kill('SIGTERM');
      server.child.kill('SIGTERM');
      const exit = await server.exited;
      expect({ round, completed: /shutdown complete/.test(exit.stderr) }).toEqual({ round, completed: true });
      expect({ round, exit: exit.signal === null ? exit.code : exit.signal }).toEqual({ round, exit: exit.signal === null ? 0 : 'SIGTERM' });
      expect(fs.existsSync(socketPath)).toBe(false);
    }
  });

  it('answers SHOW VARIABLES [LIKE] as mysqladmin asks it', async () => {
    const { socketPath, datadir } = paths();
    const server = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`]);
    expect(await runMariadbCli({ endpoint: { socketPath }, user: 'root', sql: "SHOW VARIABLES LIKE 'max\\_conn%'" })).toEqual({
      code: 0,
      stdout: 'max_connections\t151\n',
      stderr: '',
    });
    expect(await runMariadbCli({ endpoint: { socketPath }, user: 'root', sql: "SHOW GLOBAL VARIABLES LIKE 'pid_file'" })).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await server.stop()).code).toBe(0);
  });

  it('SIGTERM with a session open: stops accepting at once, the session may finish, then exit 0', async () => {
    const { socketPath, datadir } = paths();
    const server = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`]);
    const connection = await mariadb.createConnection({ socketPath, user: 'root' });
    connection.on('error', () => {});
    try {
      expect(await connection.query({ sql: 'SELECT CURRENT_USER()', rowsAsArray: true })).toEqual([['root@localhost']]);
      server.child.kill('SIGTERM');
      // The socket file goes (nothing new is taken) while the session lives on.
      await waitFor(() => !fs.existsSync(socketPath), 'the socket file to go', 5_000);
      expect(server.hasExited()).toBe(false);
      expect(await connection.query({ sql: `SELECT 'still here'`, rowsAsArray: true })).toEqual([['still here']]);
      const ended = Date.now();
      await connection.end();
      // Its session over, the server need not wait out the grace.
      const exit = await server.exited;
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(Date.now() - ended).toBeLessThan(4_000);
    } finally {
      connection.destroy();
    }
  });

  it('SIGTERM with an idle session that never leaves: exits 0 once the 5 s grace is over', async () => {
    const { socketPath, datadir } = paths();
    const server = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`]);
    const connection = await mariadb.createConnection({ socketPath, user: 'root' });
    connection.on('error', () => {});
    try {
      const started = Date.now();
      server.child.kill('SIGTERM');
      const exit = await server.exited;
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(Date.now() - started).toBeLessThan(7_000);
      expect(fs.existsSync(socketPath)).toBe(false);
    } finally {
      connection.destroy();
    }
  }, 15_000);

  it('mysqladmin ping, status and shutdown (by root): shutdown exits 0 and removes the socket file', async () => {
    const { socketPath, datadir } = paths();
    const server = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`]);
    expect(await mysqladmin(socketPath, 'ping')).toEqual({ code: 0, stdout: 'mysqld is alive\n', stderr: '' });
    const status = await mysqladmin(socketPath, 'status');
    expect({ code: status.code, stderr: status.stderr }).toEqual({ code: 0, stderr: '' });
    expect(status.stdout).toMatch(/^Uptime: \d+\s+Threads: \d+\s+Questions: \d+/);
    // Somebody without privileges may ping but not shut it down.
    expect(await runMariadbCli({ endpoint: { socketPath }, user: 'root', sql: `CREATE USER 'valerie'@'localhost' IDENTIFIED WITH auth_socket` })).toMatchObject({ code: 0 });
    const denied = await runMariadbCli({ endpoint: { socketPath }, user: 'valerie', sql: 'SHUTDOWN', as: valerie });
    expect({ code: denied.code, stdout: denied.stdout }).toEqual({ code: 1, stdout: '' });
    expect(denied.stderr).toMatch(/(^|\n)ERROR 1227 \(42000\) at line 1: Access denied; you need \(at least one of\) the SHUTDOWN privilege\(s\) for this operation\n$/);
    // (mysqladmin asks SHOW VARIABLES LIKE 'pid_file' first; what it prints if that fails is not judged here.)
    expect(await mysqladmin(socketPath, 'shutdown')).toMatchObject({ code: 0, stdout: '' });
    // server.exited is bounded by the test's own timeout; the helper's afterEach kills it if it hangs.
    expect((await server.exited).code).toBe(0);
    expect(fs.existsSync(socketPath)).toBe(false);
  });

  describe('start failures: non-zero exit naming the cause, no socket file, nothing listening', () => {
    it('a live server already on the socket path (which keeps serving)', async () => {
      const { socketPath, datadir } = paths();
      const first = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`]);
      const exit = await failedStart([`--socket=${socketPath}`, `--datadir=${path.join(dir.path, 'other-data')}`]);
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      expect(exit.stderr).toMatch(/already/);
      expect(exit.stderr).toContain(socketPath);
      expect(await mysqladmin(socketPath, 'ping')).toEqual({ code: 0, stdout: 'mysqld is alive\n', stderr: '' });
      expect((await first.stop()).code).toBe(0);
    });

    it('a socket path too long for sun_path', async () => {
      const { datadir } = paths();
      const long = path.join(dir.path, `${'s'.repeat(120)}.sock`);
      const exit = await failedStart([`--socket=${long}`, `--datadir=${datadir}`]);
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      expect(exit.stderr).toMatch(/long|sun_path|108|107/i);
      expect(fs.readdirSync(dir.path).filter((name) => name.endsWith('.sock'))).toEqual([]);
    });

    it('a missing socket directory', async () => {
      const { datadir } = paths();
      const missing = path.join(dir.path, 'no-such-dir', 'mysqld.sock');
      const exit = await failedStart([`--socket=${missing}`, `--datadir=${datadir}`]);
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      expect(exit.stderr).toContain(path.dirname(missing));
      expect(exit.stderr).toMatch(/ENOENT|no such|does not exist|missing/i);
      expect(fs.existsSync(path.dirname(missing))).toBe(false);
    });

    it('a regular file at the socket path (left as it was)', async () => {
      const { socketPath, datadir } = paths();
      fs.writeFileSync(socketPath, 'not a socket\n');
      const exit = await failedStart([`--socket=${socketPath}`, `--datadir=${datadir}`]);
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      expect(exit.stderr).toContain(socketPath);
      expect(fs.lstatSync(socketPath).isFile()).toBe(true);
      expect(fs.readFileSync(socketPath, 'utf8')).toBe('not a socket\n');
    });

    it('a TCP port in use (--port)', async () => {
      const { socketPath, datadir } = paths();
      const port = await freePort();
      const holder = net.createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => holder.listen({ port, host: '127.0.0.1' }, resolve));
      try {
        const exit = await failedStart([`--socket=${socketPath}`, `--datadir=${datadir}`, `--port=${port}`, '--bind-address=127.0.0.1']);
        expect(exit.code).not.toBe(0);
        expect(exit.code).not.toBeNull();
        expect(exit.stderr).toContain(String(port));
        expect(exit.stderr).toMatch(/EADDRINUSE|in use|already/i);
        expect(fs.existsSync(socketPath)).toBe(false);
      } finally {
        await new Promise((resolve) => holder.close(resolve));
      }
      expect(await accepts(port)).toBe(false);
      // The datadir was not left locked: a start with a free port works.
      const server = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`]);
      expect((await server.stop()).code).toBe(0);
    });
  });
});
