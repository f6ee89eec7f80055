'use strict';
// Private MariaDB instances for the tests and the bench (one implementation for both): a temp
// datadir from mariadb-install-db, a temp socket, no option files, stopped by the pid we started.
// Never the system service.
const { execFile, spawn } = require('child_process');
const fs = require('fs');
const fsp = require('fs/promises');
const net = require('net');
const os = require('os');
const path = require('path');
const { promisify } = require('util');

const mariadb = require('mariadb');

const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const START_TIMEOUT_MS = 30_000;
// mariadbd now and then sits on a SIGTERM for good (seen: 1 stop in 6 hung until the kill). The
// datadir is thrown away anyway, so a short grace before SIGKILL loses nothing.
const STOP_GRACE_MS = 3_000;
const KILL_WAIT_MS = 30_000;
const READY_POLL_MS = 50;
// Small InnoDB files: install and start in well under a second, ~20 MB on disk instead of ~110 MB.
const SMALL_INNODB = ['--innodb-buffer-pool-size=16M', '--innodb-log-file-size=4M'];

const isRoot = process.getuid() === 0;
// mariadb-install-db gives this OS user a unix_socket account with all privileges; query() uses it.
const adminUser = os.userInfo().username;

// Instances still running; killed by pid if the process exits without stopping them (a crashed
// test file must not leave a mariadbd behind).
const running = new Map();
process.once('exit', () => {
  for (const [child, dir] of running) {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function freeLoopbackPort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function canConnect(socketPath) {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function logTail(file) {
  const text = await fsp.readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-15).join('\n');
}

function waitForExit(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function terminate(child) {
  child.kill('SIGTERM');
  if (!(await waitForExit(child, STOP_GRACE_MS))) {
    child.kill('SIGKILL');
    await waitForExit(child, KILL_WAIT_MS);
  }
}

// Resolves once the server accepts connections on its socket; rejects if it exits first.
async function waitUntilReady(child, socketPath, errorLog) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`mariadbd exited (${child.exitCode ?? child.signalCode}) during start:\n${await logTail(errorLog)}`);
    }
    if (await canConnect(socketPath)) return;
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  throw new Error(`mariadbd did not accept connections within ${START_TIMEOUT_MS} ms:\n${await logTail(errorLog)}`);
}

/**
 * Starts a private MariaDB.
 * options.tcp: also listen on 127.0.0.1 on a free port (otherwise skip-networking).
 * options.plugins: plugin names loaded with --plugin-load-add, e.g. ['auth_pam', 'auth_ed25519'].
 * options.extraArgs: more mariadbd arguments.
 */
async function startMariadb({ tcp = false, plugins = [], extraArgs = [] } = {}) {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'auth-socket-mariadb-'));
  // Other OS users (nobody, daemon, a uid without passwd entry) must reach the socket inside.
  await fsp.chmod(dir, 0o711);
  const datadir = path.join(dir, 'data');
  const socketPath = path.join(dir, 'mariadb.sock');
  const errorLog = path.join(dir, 'error.log');
  // A tmpdir of its own: in the shared /tmp, instances bootstrapping at the same moment collided
  // on internal temporary table files (install-db failed with "Unknown table mysql.tmp_user_sys").
  const tmpdir = path.join(dir, 'tmp');
  await fsp.mkdir(tmpdir);
  const runAs = isRoot ? ['--user=root'] : [];
  let child;
  try {
    await promisify(execFile)(INSTALL_DB, [
      '--no-defaults',
      `--datadir=${datadir}`,
      ...runAs,
      '--auth-root-authentication-method=socket',
      `--auth-root-socket-user=${adminUser}`,
      '--skip-test-db',
      '--skip-name-resolve',
      `--tmpdir=${tmpdir}`,
      ...SMALL_INNODB,
    ]);
    const port = tcp ? await freeLoopbackPort() : undefined;
    const network = port === undefined ? ['--skip-networking'] : [`--port=${port}`, '--bind-address=127.0.0.1'];
    child = spawn(
      MARIADBD,
      [
        '--no-defaults',
        ...runAs,
        `--datadir=${datadir}`,
        `--socket=${socketPath}`,
        `--pid-file=${path.join(dir, 'mariadbd.pid')}`,
        `--log-error=${errorLog}`,
        `--tmpdir=${tmpdir}`,
        ...network,
        ...SMALL_INNODB,
        ...plugins.map((plugin) => `--plugin-load-add=${plugin}.so`),
        ...extraArgs,
      ],
      { stdio: 'ignore' },
    );
    running.set(child, dir);
    await waitUntilReady(child, socketPath, errorLog);
    await fsp.chmod(socketPath, 0o777);

    let stopping;
    return {
      socketPath,
      port,
      pid: child.pid,
      datadir,
      /** Runs one statement as the admin account over the socket; [] when it returns no rows. BIGINTs come
      back as numbers (fine for the small values tests read). */
      async query(sql) {
        const connection = await mariadb.createConnection({ socketPath, user: adminUser, bigIntAsNumber: true });
        try {
          const result = await connection.query(sql);
          return Array.isArray(result) ? [...result] : [];
        } finally {
          await connection.end();
        }
      },
      /** SIGTERM to the pid we started, wait for it to exit, remove the temp dir. Idempotent. */
      stop() {
        stopping ??= (async () => {
          await terminate(child);
          running.delete(child);
          await fsp.rm(dir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (error) {
    if (child !== undefined) {
      await terminate(child);
      running.delete(child);
    }
    await fsp.rm(dir, { recursive: true, force: true });
    throw error;
  }
}

module.exports = { startMariadb };
