// `auth-socket serve`'s datadir, as an operator meets it: the default place and the modes a first
// start creates, the accounts a first start sets up, one server per datadir, and a state file that
// does not read back stopping the start (never starting empty over it, never touching it).
import fs from 'fs';
import path from 'path';

import { runMariadbCli } from '../helpers/clients';
import { describeAsRoot } from '../helpers/root';
import { accepts, failedStart, killAllStarted, startServe } from '../helpers/serve-process';
import { tempDir, TempDir } from '../helpers/sockets';

const STATE_FILE = 'auth-socket-catalog.json';

describeAsRoot('auth-socket serve: the datadir', () => {
  let dir: TempDir;

  beforeEach(() => {
    dir = tempDir('auth-socket-datadir-');
  });

  afterEach(async () => {
    await killAllStarted();
    dir.remove();
  });

  it('a first start creates its datadir 0700 with its state file 0600; root@localhost administers', async () => {
    const socketPath = path.join(dir.path, 'mysqld.sock');
    const datadir = path.join(dir.path, 'data');
    const server = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`]);
    expect(fs.statSync(datadir).mode & 0o7777).toBe(0o700);
    const state = path.join(datadir, STATE_FILE);
    expect(fs.statSync(state).mode & 0o7777).toBe(0o600);
    expect(() => JSON.parse(fs.readFileSync(state, 'utf8'))).not.toThrow();
    expect(fs.readdirSync(datadir)).toEqual([STATE_FILE]);
    const root = (sql: string) => runMariadbCli({ endpoint: { socketPath }, user: 'root', sql });
    expect(await root('SHOW GRANTS')).toEqual({ code: 0, stdout: 'GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION\n', stderr: '' });
    expect(await root(`SELECT user, host, plugin, authentication_string FROM mysql.user`)).toEqual({ code: 0, stdout: 'root\tlocalhost\tauth_socket\t\n', stderr: '' });
    expect(await root('SELECT @@datadir')).toEqual({ code: 0, stdout: `${fs.realpathSync(datadir)}/\n`, stderr: '' });
    // The first start is logged (stderr without --log-error).
    expect(server.output().stderr).toMatch(/auth_socket/);
    expect((await server.stop()).code).toBe(0);
    // A change is still 0600 after the atomic replace.
    const again = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`]);
    expect(await root(`CREATE USER 'modes'@'localhost' IDENTIFIED WITH auth_socket`)).toMatchObject({ code: 0 });
    expect(fs.statSync(state).mode & 0o7777).toBe(0o600);
    expect(fs.readdirSync(datadir)).toEqual([STATE_FILE]);
    expect((await again.stop()).code).toBe(0);
  });

  it('a state file that does not read back stops the start, untouched, with nothing listening', async () => {
    const datadir = path.join(dir.path, 'data');
    const socketPath = path.join(dir.path, 'mysqld.sock');
    const first = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`]);
    expect((await first.stop()).code).toBe(0);
    const state = path.join(datadir, STATE_FILE);
    const good = fs.readFileSync(state, 'utf8');
    for (const corrupt of [good.slice(0, good.length >> 1), '', '{"format":1,"accounts":"nope","plugins":[]}\n', 'null\n', '\u0000\u0001garbage']) {
      fs.writeFileSync(state, corrupt, { mode: 0o600 });
      const exit = await failedStart([`--socket=${socketPath}`, `--datadir=${datadir}`]);
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      expect(exit.stdout + exit.stderr).toMatch(/cannot be read back/);
      expect(exit.stdout + exit.stderr).toContain(state);
      expect(fs.readFileSync(state, 'utf8')).toBe(corrupt);
      expect(fs.existsSync(socketPath)).toBe(false);
    }
    // Restored, it starts again with what it held.
    fs.writeFileSync(state, good);
    const restored = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`]);
    expect(await runMariadbCli({ endpoint: { socketPath }, user: 'root', sql: 'SELECT CURRENT_USER()' })).toEqual({ code: 0, stdout: 'root@localhost\n', stderr: '' });
    expect((await restored.stop()).code).toBe(0);
  });

  it('refuses a second server on the same datadir, and the first runs on', async () => {
    const datadir = path.join(dir.path, 'data');
    const socketPath = path.join(dir.path, 'one.sock');
    const other = path.join(dir.path, 'two.sock');
    const first = await startServe([`--socket=${socketPath}`, `--datadir=${datadir}`]);
    // The same datadir by another spelling (a trailing slash and a dot) is the same datadir.
    for (const spelling of [datadir, `${datadir}/`, path.join(dir.path, '.', 'data')]) {
      const exit = await failedStart([`--socket=${other}`, `--datadir=${spelling}`]);
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      expect(exit.stdout + exit.stderr).toMatch(/datadir/);
      expect(fs.existsSync(other)).toBe(false);
    }
    expect(await runMariadbCli({ endpoint: { socketPath }, user: 'root', sql: 'SELECT CURRENT_USER()' })).toEqual({ code: 0, stdout: 'root@localhost\n', stderr: '' });
    expect((await first.stop()).code).toBe(0);
    expect(await accepts(socketPath)).toBe(false);
    // Once the first has stopped, the datadir is free again.
    const second = await startServe([`--socket=${other}`, `--datadir=${datadir}`]);
    expect((await second.stop()).code).toBe(0);
  });
});
