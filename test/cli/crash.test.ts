// Crash safety of `auth-socket serve`'s datadir: kill -9 (by the pid we started) in the middle of
// a stream of CREATE USER, INSTALL PLUGIN and UNINSTALL PLUGIN statements on several connections,
// then restart on the same datadir, round after round. Every statement that got its OK must be
// there after the restart (the change is durable before the OK), nothing never sent may appear,
// the state file must parse after every kill, and the server must start.
import fs from 'fs';
import mariadb, { Connection } from 'mariadb';
import path from 'path';

import { describeAsRoot } from '../helpers/root';
import { killAllStarted, ServeProcess, startServe } from '../helpers/serve-process';
import { tempDir, TempDir } from '../helpers/sockets';

const ROUNDS = 10;
const CONNECTIONS = 3;
const STATE_FILE = 'auth-socket-catalog.json';
// The plugin the stream installs and uninstalls: a packaged library, so root (auth_socket) can
// always log in to check, whatever the kill interrupted.
const PLUGIN = 'auth_simple';

type PluginState = 'installed' | 'uninstalled';

describeAsRoot('auth-socket serve: kill -9 mid-stream loses no acknowledged change', () => {
  let dir: TempDir;
  let server: ServeProcess | null = null;

  beforeAll(() => {
    dir = tempDir('auth-socket-crash-');
  });

  afterAll(async () => {
    await killAllStarted();
    dir?.remove();
  });

  it(`${ROUNDS} rounds of kill -9 and restart`, async () => {
    const socketPath = path.join(dir.path, 'mysqld.sock');
    const datadir = path.join(dir.path, 'data');
    const args = [`--socket=${socketPath}`, `--datadir=${datadir}`];
    const sent = new Set<string>();
    const acked = new Set<string>();
    let plugin: PluginState = 'uninstalled';
    // The plugin statement in flight at the kill, if any: its outcome may or may not be kept.
    let pluginPending: PluginState | null = null;
    let pluginChanges = 0;
    // A deterministic spread of kill points (no Math.random: a failure must replay).
    const targets = Array.from({ length: ROUNDS }, (_, round) => 3 + ((round * 7) % 23));

    for (let round = 0; round <= ROUNDS; round++) {
      if (round > 0) {
        // The state as the kill left it: it parses, and holds every acknowledged account.
        const state = JSON.parse(fs.readFileSync(path.join(datadir, STATE_FILE), 'utf8')) as { accounts: Array<{ user: string }>; plugins: Array<{ name: string }> };
        const onDisk = new Set(state.accounts.map((account) => account.user));
        expect([...acked].filter((user) => !onDisk.has(user))).toEqual([]);
      }
      server = await startServe(args);
      const admin = await mariadb.createConnection({ socketPath, user: 'root', connectTimeout: 5_000 });
      try {
        const users = new Set((await admin.query({ sql: 'SELECT user FROM mysql.user', rowsAsArray: true }) as string[][]).map(([user]) => user));
        expect([...acked].filter((user) => !users.has(user))).toEqual([]);
        expect([...users].filter((user) => user !== 'root' && !sent.has(user))).toEqual([]);
        const rows = (await admin.query({ sql: 'SHOW PLUGINS', rowsAsArray: true })) as string[][];
        const now: PluginState = rows.some(([name]) => name === PLUGIN) ? 'installed' : 'uninstalled';
        expect([plugin, pluginPending]).toContain(now);
        plugin = now;
        pluginPending = null;
      } finally {
        await admin.end();
      }
      if (round === ROUNDS) break;

      const connections = await Promise.all(Array.from({ length: CONNECTIONS }, () => mariadb.createConnection({ socketPath, user: 'root', connectTimeout: 5_000 })));
      let acknowledged = 0;
      let killed = false;
      const victim = server;
      const ack = () => {
        acknowledged++;
        if (acknowledged >= targets[round] && !killed) {
          killed = true;
          // kill -9, by the pid we started, while the other connections' statements are in flight.
          process.kill(victim.pid, 'SIGKILL');
        }
      };
      const stream = async (connection: Connection, index: number) => {
        for (let i = 0; ; i++) {
          // Connection 0 alternates plugin statements with its accounts.
          if (index === 0 && i % 2 === 1) {
            const next: PluginState = plugin === 'installed' ? 'uninstalled' : 'installed';
            pluginPending = next;
            const sql = next === 'installed' ? `INSTALL PLUGIN ${PLUGIN} SONAME '${PLUGIN}.so'` : `UNINSTALL PLUGIN ${PLUGIN}`;
            try {
              await connection.query(sql);
            } catch (error) {
              if (killed) return;
              throw error;
            }
            plugin = next;
            pluginPending = null;
            pluginChanges++;
          } else {
            const user = `r${round}c${index}n${i}`;
            sent.add(user);
            try {
              await connection.query(`CREATE USER '${user}'@'localhost' IDENTIFIED WITH auth_socket`);
            } catch (error) {
              if (killed) return;
              throw error;
            }
            acked.add(user);
          }
          ack();
        }
      };
      try {
        await Promise.all(connections.map(stream));
      } finally {
        for (const connection of connections) connection.destroy();
      }
      const exit = await victim.exited;
      expect(exit.signal).toBe('SIGKILL');
      server = null;
    }
    // The kills did land mid-stream: statements were sent that never got their OK, and the plugin did change.
    expect(acked.size).toBeGreaterThan(ROUNDS * 2);
    expect(sent.size - acked.size).toBeGreaterThanOrEqual(ROUNDS);
    expect(pluginChanges).toBeGreaterThan(ROUNDS);
    expect((await server!.stop()).code).toBe(0);
  }, 60_000);
});
