'use strict';
// Handshakes per second over a Unix socket (connect, authenticate with auth_socket / unix_socket,
// COM_QUIT), the Node-client leg: our server against a private MariaDB 10.11, same client (the
// mariadb npm connector, in this process; handshakes-c.bench.js takes Node out of the client side),
// same run, sequential and 16 in flight. Our server runs in a child process so the event-loop delay
// it reports (p99, perf_hooks.monitorEventLoopDelay) is the server's alone, not the client's.
// Run after `npm run build`: node bench/handshakes.bench.js
const { fork } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { monitorEventLoopDelay } = require('perf_hooks');

const LEG_MS = 5_000;
// Untimed handshakes to each server before the legs: a fresh client process (and server) starts
// at a third of the steady rate and takes a second or two to reach it (JIT warm-up); without this
// that fell on our server's leg alone, since it is measured first.
const WARM_UP_MS = 2_000;
// Bounds each leg even on a machine far faster than expected.
const MAX_HANDSHAKES_PER_LEG = 200_000;
const IN_FLIGHT = 16;
const SERVE_FLAG = '--serve';

// The OS user running the bench: both servers get an account of that name for it.
const osUser = os.userInfo().username;

// ---- child: our server, reporting its own event-loop delay --------------------------------------
function serve(socketPath) {
  const { Accounts, createServer } = require('../dist');
  const accounts = new Accounts();
  accounts.create({ user: osUser, host: 'localhost', plugin: 'auth_socket' });
  const server = createServer({ accounts });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  // Never outlive the bench.
  process.on('disconnect', () => process.exit());
  process.on('message', (message) => {
    if (message === 'reset') {
      delay.reset();
      process.send({ reset: true });
    } else if (message === 'report') {
      process.send({ p99Ms: delay.percentile(99) / 1e6 });
    } else if (message === 'close') {
      server.close(() => process.exit());
    }
  });
  server.listen(socketPath, () => process.send({ listening: true }));
}

// ---- parent: the load and the report ------------------------------------------------------------
function nextMessage(child, key) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message !== null && typeof message === 'object' && key in message) {
        child.off('exit', onExit);
        child.off('message', onMessage);
        resolve(message);
      }
    };
    const onExit = (code) => reject(new Error(`our server exited (${code}) before sending "${key}"`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function startOurServer(dir) {
  const socketPath = path.join(dir, 'ours.sock');
  const child = fork(__filename, [SERVE_FLAG, socketPath], { stdio: 'inherit' });
  await nextMessage(child, 'listening');
  return {
    socketPath,
    async resetDelay() {
      child.send('reset');
      await nextMessage(child, 'reset');
    },
    async p99Ms() {
      child.send('report');
      return (await nextMessage(child, 'p99Ms')).p99Ms;
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('close');
      await exited;
    },
  };
}

async function handshake(mariadb, socketPath) {
  const connection = await mariadb.createConnection({ socketPath, user: osUser });
  await connection.end();
}

/** Handshakes per second: `inFlight` loops, each connecting again as soon as it is done. */
async function measure(mariadb, socketPath, inFlight, durationMs = LEG_MS) {
  let done = 0;
  const started = process.hrtime.bigint();
  const deadline = Date.now() + durationMs;
  const loop = async () => {
    while (Date.now() < deadline && done < MAX_HANDSHAKES_PER_LEG) {
      await handshake(mariadb, socketPath);
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return done / seconds;
}

async function main() {
  const mariadb = require('mariadb');
  const { startMariadb } = require('../test/helpers/mariadb-process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-socket-bench-'));
  let ours;
  let theirs;
  try {
    // One after the other: if the second fails to start, the first is already known and stopped.
    theirs = await startMariadb();
    ours = await startOurServer(dir);
    // install-db chains 'invalid' mysql_native_password OR unix_socket for this account; a plain
    // unix_socket account is the like-for-like comparison (one round trip, no failed first plugin).
    await theirs.query('ALTER USER CURRENT_USER() IDENTIFIED VIA unix_socket');
    // One handshake each first, so a broken setup fails before five seconds of load.
    await handshake(mariadb, ours.socketPath);
    await handshake(mariadb, theirs.socketPath);
    await measure(mariadb, ours.socketPath, 1, WARM_UP_MS);
    await measure(mariadb, theirs.socketPath, 1, WARM_UP_MS);

    const rows = [];
    for (const inFlight of [1, IN_FLIGHT]) {
      await ours.resetDelay();
      const oursPerSecond = await measure(mariadb, ours.socketPath, inFlight);
      const p99Ms = await ours.p99Ms();
      const theirsPerSecond = await measure(mariadb, theirs.socketPath, inFlight);
      rows.push({ inFlight, oursPerSecond, theirsPerSecond, p99Ms });
    }

    console.log(`Node client (mariadb connector): handshakes/s, connect + auth_socket + quit over a Unix socket, ${LEG_MS / 1000} s per leg`);
    console.log('  (the client shares the machine with the servers unpinned; bench/handshakes-c.bench.js measures with a C client)');
    console.log('in flight  ours/s    MariaDB/s  ours/MariaDB  our event-loop p99');
    for (const { inFlight, oursPerSecond, theirsPerSecond, p99Ms } of rows) {
      console.log(
        `${String(inFlight).padStart(9)}  ${oursPerSecond.toFixed(0).padStart(7)}  ${theirsPerSecond.toFixed(0).padStart(9)}` +
          `  ${(oursPerSecond / theirsPerSecond).toFixed(2).padStart(12)}  ${p99Ms.toFixed(2).padStart(15)} ms`,
      );
    }
  } finally {
    await Promise.all([ours?.stop(), theirs?.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === SERVE_FLAG) {
  serve(process.argv[3]);
} else {
  // Ctrl-C goes through 'exit', where mariadb-process.js kills the mariadbd it started.
  process.once('SIGINT', () => process.exit(130));
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
