// `auth-socket serve` with an ident file, run as an operator runs it, with the real mariadb CLI as
// real OS users: auth_socket_map installed and used (a group of the kernel's, a regex with a
// capture), the log naming the map line that admitted a login, refusals with their reasons,
// SIGHUP with a good file and a bad one, starts that an ident file stops, and MariaDB's
// unix_socket OR chain surviving a restart in the datadir (and a corrupt chain stopping one).
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';

import { accessDenied1698, runMariadbCli } from '../helpers/clients';
import { createGroup, TestGroup } from '../helpers/groups';
import { describeAsRoot, ensureOsUser, OsUser } from '../helpers/root';
import { failedStart, freePort, killAllStarted, ServeProcess, startServe, waitFor, workerPids } from '../helpers/serve-process';
import { tempDir, TempDir } from '../helpers/sockets';

describeAsRoot('auth_socket_map, the ident file and OR chains through auth-socket serve', () => {
  let dir: TempDir;
  let socketPath: string;
  let datadir: string;
  let identFile: string;
  let logFile: string;
  let port: number;
  let team: TestGroup;
  let valerie: OsUser;
  let stephanie: OsUser;
  let server: ServeProcess | null = null;
  // valerie as a login session makes her: her groups from the group database, as `id -G` reads them.
  const withGroups = (user: OsUser) => ({ ...user, groups: execFileSync('id', ['-G', user.name], { encoding: 'utf8' }).trim().split(' ').map(Number) });

  const cnf = (ident: string | null) => {
    const file = path.join(dir.path, 'my.cnf');
    fs.writeFileSync(file, [
      '[mysqld]', `socket=${socketPath}`, `datadir=${datadir}`, `log-error=${logFile}`, `port=${port}`, 'bind-address=127.0.0.1',
      '[auth-socket]', ...(ident === null ? [] : [`ident-file=${ident}`]), '',
    ].join('\n'));
    return file;
  };
  async function restart(ident: string | null = identFile): Promise<void> {
    if (server !== null) expect((await server.stop()).code).toBe(0);
    server = await startServe([`--defaults-file=${cnf(ident)}`]);
  }
  const writeIdent = (file: string, lines: string[]) => {
    fs.writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
    return file;
  };
  const log = () => fs.readFileSync(logFile, 'utf8');
  const root = (sql: string) => runMariadbCli({ endpoint: { socketPath }, user: 'root', sql });
  const as = (who: OsUser & { groups?: number[] }, user: string) => runMariadbCli({ endpoint: { socketPath }, user, as: who, sql: 'SELECT CURRENT_USER(), @@external_user' });
  const ok = (stdout: string) => ({ code: 0, stdout, stderr: '' });
  const denied = (user: string) => ({ code: 1, stdout: '', stderr: `${accessDenied1698(user)}\n` });
  const lastLine = (pattern: RegExp) => log().split('\n').filter((line) => pattern.test(line)).pop();
  // The client's answer, and the log line about it (written in the server's next loop turn).
  async function logged<T>(action: () => Promise<T>, pattern: RegExp): Promise<[T, string]> {
    const from = fs.statSync(logFile).size;
    const result = await action();
    let line: string | undefined;
    await waitFor(() => (line = fs.readFileSync(logFile).subarray(from).toString('utf8').split('\n').find((l) => pattern.test(l))) !== undefined, `a log line ${pattern}`);
    return [result, line!];
  }

  beforeAll(async () => {
    valerie = ensureOsUser('valerie');
    stephanie = ensureOsUser('stephanie');
    team = createGroup('dba-cli', ['valerie']);
    dir = tempDir('auth-socket-ident-cli-');
    socketPath = path.join(dir.path, 'mysqld.sock');
    datadir = path.join(dir.path, 'data');
    logFile = path.join(dir.path, 'error.log');
    port = await freePort();
    identFile = writeIdent(path.join(dir.path, 'ident.conf'), ['# the dba team, and valerie as val', `admins  @${team.name}  dba`, 'admins  /^(val)erie$  \\1']);
  });
  afterAll(async () => {
    await killAllStarted();
    team?.remove();
    dir?.remove();
  });

  it('INSTALL PLUGIN auth_socket_map, then a member of the group logs in as the account its map gives, the log naming the line', async () => {
    await restart();
    expect(lastLine(/ident-file/)).toContain(`ident-file ${identFile} loaded: 2 lines, map admins`);
    expect(await root("INSTALL PLUGIN auth_socket_map SONAME 'auth_socket_map.so'; CREATE USER 'dba'@'localhost' IDENTIFIED WITH auth_socket_map AS 'admins'; CREATE USER 'val'@'localhost' IDENTIFIED WITH auth_socket_map AS 'admins'; CREATE USER 'ghost'@'localhost' IDENTIFIED WITH auth_socket_map AS 'nope'")).toEqual(ok(''));
    const [dba, granted] = await logged(() => as(withGroups(valerie), 'dba'), /Access granted for user 'dba'/);
    expect(dba).toEqual(ok('dba@localhost\tvalerie\n'));
    expect(granted).toContain(`plugin="auth_socket_map" osUser="valerie" uid=${valerie.uid}`);
    expect(granted).toContain(`map="admins" mapLine="${identFile}:2"`);
    const [val, valGranted] = await logged(() => as(withGroups(valerie), 'val'), /Access granted for user 'val'/);
    expect(val).toEqual(ok('val@localhost\tvalerie\n'));
    expect(valGranted).toContain(`mapLine="${identFile}:3"`);
  });

  it("refuses with reasons: not in the group the kernel reports, no map line, a map the file lacks, TCP", async () => {
    // The group database lists valerie, but this process of hers does not have the group.
    const [withoutGroup, noMatch] = await logged(() => as({ ...valerie, groups: [] }, 'dba'), /Access denied for user 'dba'/);
    expect(withoutGroup).toEqual(denied('dba'));
    expect(noMatch).toMatch(/plugin="auth_socket_map" osUser="valerie" .*reason="map-no-match"/);
    expect(await as(withGroups(stephanie), 'dba')).toEqual(denied('dba'));
    expect(await as(withGroups(stephanie), 'val')).toEqual(denied('val'));
    const [ghost, unknown] = await logged(() => as(withGroups(valerie), 'ghost'), /Access denied for user 'ghost'/);
    expect(ghost).toEqual(denied('ghost'));
    expect(unknown).toContain('reason="unknown-map"');
    expect(await root("CREATE USER 'dba'@'%' IDENTIFIED WITH auth_socket_map AS 'admins'")).toEqual(ok(''));
    const [overTcp, tcpLine] = await logged(() => runMariadbCli({ endpoint: { port }, user: 'dba', as: withGroups(valerie), sql: 'SELECT 1' }), /Access denied for user 'dba'@'127.0.0.1'/);
    expect(overTcp).toEqual({ code: 1, stdout: '', stderr: "ERROR 1698 (28000): Access denied for user 'dba'@'127.0.0.1'\n" });
    expect(tcpLine).toContain('reason="not-unix-socket"');
  });

  it('SIGHUP with a good file replaces the map; with a bad one the old map stays and the log says why', async () => {
    writeIdent(identFile, [`admins  @${team.name}  dba`, 'admins  stephanie  dba']);
    server!.child.kill('SIGHUP');
    await waitFor(() => /SIGHUP: ident-file .* reloaded: 2 lines/.test(log()), 'the reload');
    expect(await as(withGroups(stephanie), 'dba')).toEqual(ok('dba@localhost\tstephanie\n'));
    expect(await as(withGroups(valerie), 'val')).toEqual(denied('val'));

    writeIdent(identFile, ['admins  @nobody-at-all  dba', 'admins  /a(  dba']);
    server!.child.kill('SIGHUP');
    await waitFor(() => /\[ERROR\] SIGHUP/.test(log()), 'the failed reload');
    expect(lastLine(/\[ERROR\] SIGHUP/)).toContain(`[ERROR] SIGHUP: ident-file ${identFile}: ${identFile}:2: bad regular expression /a(`);
    expect(lastLine(/\[ERROR\] SIGHUP/)).toContain('the ident map loaded before stays in force');
    // Still the map of the good file: no line of the bad one was taken.
    expect(await as(withGroups(stephanie), 'dba')).toEqual(ok('dba@localhost\tstephanie\n'));
    expect(await as(withGroups(valerie), 'dba')).toEqual(ok('dba@localhost\tvalerie\n'));
    expect(server!.hasExited()).toBe(false);
  });

  it('an ident file that does not load stops the start, naming file and line; without one, auth_socket_map refuses', async () => {
    expect((await server!.stop()).code).toBe(0);
    server = null;
    const bad = await failedStart([`--defaults-file=${cnf(identFile)}`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`ident-file ${identFile}: ${identFile}:2: bad regular expression`);
    const missing = path.join(dir.path, 'missing.conf');
    expect(await failedStart([`--defaults-file=${cnf(missing)}`])).toMatchObject({ code: 1, stderr: expect.stringContaining(`ident-file ${missing}: ENOENT`) });
    fs.chmodSync(identFile, 0o666);
    expect(await failedStart([`--defaults-file=${cnf(identFile)}`])).toMatchObject({ code: 1, stderr: expect.stringContaining('may be written by others') });
    await restart(null);
    const [noMap, noMapLine] = await logged(() => as(withGroups(valerie), 'dba'), /Access denied for user 'dba'/);
    expect(noMap).toEqual(denied('dba'));
    expect(noMapLine).toContain('reason="no-ident-map"');
  });

  it("MariaDB's unix_socket OR chain is kept in the datadir across a restart", async () => {
    const create = "CREATE USER 'team'@'localhost' IDENTIFIED VIA unix_socket AS 'valerie' OR unix_socket AS 'stephanie'";
    expect(await root(`INSTALL PLUGIN unix_socket SONAME 'unix_socket.so'; ${create}`)).toEqual(ok(''));
    const shown = "CREATE USER `team`@`localhost` IDENTIFIED VIA unix_socket USING 'valerie' OR unix_socket USING 'stephanie'\n";
    expect(await root("SHOW CREATE USER 'team'@'localhost'")).toEqual(ok(shown));
    await restart(null);
    expect(await root("SHOW CREATE USER 'team'@'localhost'")).toEqual(ok(shown));
    expect(await as(valerie, 'team')).toEqual(ok('team@localhost\tvalerie\n'));
    expect(await as(stephanie, 'team')).toEqual(ok('team@localhost\tstephanie\n'));
  });

  it('under --workers only the primary reads the file and asks NSS: a reload reaches every worker, a replacement starts with the map and gids in force, a worker ignores SIGHUP', async () => {
    expect((await server!.stop()).code).toBe(0);
    server = null;
    const workersDir = path.join(dir.path, 'workers');
    fs.mkdirSync(workersDir, { mode: 0o700 });
    const file = writeIdent(path.join(workersDir, 'ident.conf'), ['admins  valerie  dba']);
    const socket = path.join(dir.path, 'workers.sock');
    const proc = await startServe([`--socket=${socket}`, `--datadir=${path.join(workersDir, 'data')}`, `--log-error=${logFile}`, `--ident-file=${file}`, '--workers=2']);
    const login = (who: OsUser) => runMariadbCli({ endpoint: { socketPath: socket }, user: 'dba', as: who, sql: 'SELECT CURRENT_USER()' });
    // valerie in a group of the map's, her process carrying its gid.
    const crew = createGroup('dba-crew', ['valerie']);
    let crewGone = false;
    const inCrew = withGroups(valerie);
    const crewLogins = async () => {
      const logins = await Promise.all([0, 1, 2, 3].map(() => runMariadbCli({ endpoint: { socketPath: socket }, user: 'dbw', as: inCrew, sql: 'SELECT CURRENT_USER()' })));
      expect(logins).toEqual(Array(4).fill(ok('dbw@localhost\n')));
    };
    // Whichever worker takes each connection, it has the map the primary holds.
    const stephanieOnly = async () => {
      // At once, so both workers take some.
      const [yes, no] = await Promise.all([Promise.all([0, 1, 2, 3].map(() => login(stephanie))), Promise.all([0, 1, 2, 3].map(() => login(valerie)))]);
      expect(yes).toEqual(Array(4).fill(ok('dba@localhost\n')));
      expect(no).toEqual(Array(4).fill(denied('dba')));
    };
    try {
      expect(await runMariadbCli({ endpoint: { socketPath: socket }, user: 'root', sql: "INSTALL PLUGIN auth_socket_map SONAME 'auth_socket_map.so'; CREATE USER 'dba'@'localhost' IDENTIFIED WITH auth_socket_map AS 'admins'; CREATE USER 'dbw'@'localhost' IDENTIFIED WITH auth_socket_map AS 'admins'" })).toEqual(ok(''));
      const reloaded = () => log().split('\n').filter((line) => line.includes(`${file} reloaded`));
      const before = reloaded().length;
      writeIdent(file, ['admins  stephanie  dba', `admins  @${crew.name}  dbw`]);
      proc.child.kill('SIGHUP');
      // One line, written once both workers took the primary's map.
      await waitFor(() => reloaded().length === before + 1, 'the reload');
      expect(reloaded().pop()).toMatch(/reloaded: 2 lines, map admins, by all 2 workers$/);
      await stephanieOnly();
      await crewLogins();
      // The group gone from the group database: the map keeps the gid the primary resolved until a reload.
      crew.remove();
      crewGone = true;

      // A file broken on disk since: a worker killed and replaced takes the primary's map, not the file.
      writeIdent(file, ['admins  /a(  valerie']);
      const [victim, other] = workerPids(proc.pid);
      process.kill(victim, 'SIGKILL');
      await waitFor(() => workerPids(proc.pid).length === 2 && !workerPids(proc.pid).includes(victim), 'a replacement worker');
      // Worker slot 0 hands out odd connection ids, slot 1 even ones: both kinds, and both workers serve.
      await waitFor(async () => {
        const ids = await Promise.all(Array.from({ length: 8 }, () => runMariadbCli({ endpoint: { socketPath: socket }, user: 'root', sql: 'SELECT CONNECTION_ID()' })));
        return new Set(ids.map((id) => Number(id.stdout) % 2)).size === 2;
      }, 'the replacement to serve');
      // A hangup straight to a worker (as a terminal's hangup reaches the whole group) neither ends it nor makes it read the file.
      const workers = workerPids(proc.pid);
      for (const pid of workers) process.kill(pid, 'SIGHUP');
      await stephanieOnly();
      expect(workerPids(proc.pid)).toEqual(workers);
      expect(workers).toContain(other);
      expect(log()).not.toMatch(/ident.conf:1: .*a\(/);
      // The replacement took the gid from the primary: its NSS no longer knows the group.
      await crewLogins();
    } finally {
      if (!crewGone) crew.remove();
      expect((await proc.stop()).code).toBe(0);
    }
    await restart(null);
  });

  it('a chain in the datadir that is not one this server writes stops the start', async () => {
    expect((await server!.stop()).code).toBe(0);
    server = null;
    const state = path.join(datadir, 'auth-socket-catalog.json');
    const written = JSON.parse(fs.readFileSync(state, 'utf8'));
    const team = written.accounts.find((row: { user: string }) => row.user === 'team');
    team.or = [{ plugin: 'unix_socket' }];
    fs.writeFileSync(state, JSON.stringify(written), { mode: 0o600 });
    const exit = await failedStart([`--defaults-file=${cnf(null)}`]);
    expect(exit).toMatchObject({ code: 1, stderr: expect.stringMatching(/cannot be read back \(account row \d+ is not one this server writes\)/) });
  });
});
