'use strict';
// Server memory under held packets, and whether it comes back once the clients leave (no forced
// GC): the server (`auth-socket serve`, its default auth_socket account for the OS user running
// the bench) runs in a child process and its VmRSS is read from /proc. Two scenarios, each on a
// fresh server:
//   logged-in: 50 clients log in (our connect()), announce a 0xFFFFFF-byte command packet, send
//              16 MiB of it, then disconnect;
//   handshake: 3,000 connections each send a 64,000-byte partial HandshakeResponse (the header
//              announces 65,000 bytes), then leave.
// Prints baseline, peak, and RSS 1, 3, 5, 10 and 20 s after the clients left.
// Run after `npm run build`: node bench/memory.bench.js [--root=DIR] [--only=logged-in|handshake]
// (--root: the package tree whose dist/ and addon to measure, default this one).
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const arg = (name, fallback) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? found.slice(name.length + 3) : fallback;
};
const root = path.resolve(arg('root', path.join(__dirname, '..')));
const only = arg('only', null);
// The bin entry of the tree measured (a tree from before lib/ was reshaped has it at dist/cli.js).
const cliOf = (tree) => [path.join(tree, 'dist', 'cli', 'main.js'), path.join(tree, 'dist', 'cli.js')].find((file) => fs.existsSync(file));

const LOGGED_IN_CLIENTS = 50;
const COMMAND_BYTES = 16 * 1024 * 1024;
const HANDSHAKE_CLIENTS = 3_000;
const HANDSHAKE_SENT = 64_000;
const HANDSHAKE_ANNOUNCED = 65_000; // under the server's 64 KiB handshake packet limit
const CONNECT_BATCH = 100; // below the listen backlog
const AFTER_MS = [1_000, 3_000, 5_000, 10_000, 20_000];
const SETTLE_MS = 1_500; // RSS steady this long counts as the peak reached
const SCENARIO_LIMIT_MS = 90_000; // each scenario, end to end, even on a slow machine

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`;

function rssKb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)[1]);
}

async function startServer(socketPath) {
  const child = spawn(
    process.execPath,
    [cliOf(root), 'serve', `--socket=${socketPath}`, '--connect-timeout=120'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const probe = net.connect(socketPath, () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
    if (ok) return child;
    if (Date.now() > deadline) throw new Error('server did not start listening within 10 s');
    await sleep(100);
  }
}

function stopServer(child) {
  if (child.exitCode === null) child.kill('SIGKILL');
}

// Samples the server's RSS every 100 ms, keeping the maximum.
function sampler(pid) {
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssKb(pid));
  }, 100);
  return {
    peak: () => Math.max(peak, rssKb(pid)),
    stop: () => clearInterval(timer),
  };
}

// Waits until RSS stops growing (the server has taken in what was sent).
async function settle(pid, limitMs) {
  const deadline = Date.now() + limitMs;
  let last = rssKb(pid);
  let steadySince = Date.now();
  while (Date.now() < deadline) {
    await sleep(250);
    const now = rssKb(pid);
    if (now > last * 1.01) steadySince = Date.now();
    last = Math.max(last, now);
    if (Date.now() - steadySince >= SETTLE_MS) return;
  }
}

async function loggedIn(socketPath) {
  const { connect } = require(path.join(root, 'dist'));
  const header = Buffer.from([0xff, 0xff, 0xff, 0]); // a continued command packet, id 0
  const data = Buffer.alloc(COMMAND_BYTES, 0x61);
  const sockets = [];
  // Ten at a time: bounded load, and each write completes only as the server reads it.
  for (let i = 0; i < LOGGED_IN_CLIENTS; i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, LOGGED_IN_CLIENTS - i) }, async () => {
        const connection = await connect({ socketPath, user: os.userInfo().username });
        const { socket } = connection;
        socket.on('error', () => {});
        sockets.push(socket);
        socket.write(header);
        await new Promise((resolve, reject) => socket.write(data, (error) => (error ? reject(error) : resolve())));
      }),
    );
  }
  return sockets;
}

async function handshake(socketPath) {
  const header = Buffer.from([HANDSHAKE_ANNOUNCED & 0xff, (HANDSHAKE_ANNOUNCED >> 8) & 0xff, HANDSHAKE_ANNOUNCED >> 16, 1]);
  const data = Buffer.concat([header, Buffer.alloc(HANDSHAKE_SENT - header.length, 0x62)]);
  const sockets = [];
  for (let i = 0; i < HANDSHAKE_CLIENTS; i += CONNECT_BATCH) {
    await Promise.all(
      Array.from(
        { length: Math.min(CONNECT_BATCH, HANDSHAKE_CLIENTS - i) },
        () =>
          new Promise((resolve, reject) => {
            const socket = net.connect(socketPath);
            socket.on('error', reject);
            // After the greeting: the server is then reading the response.
            socket.once('data', () => socket.write(data, (error) => (error ? reject(error) : resolve())));
            sockets.push(socket);
          }),
      ),
    );
  }
  return sockets;
}

async function measure(name, scenario) {
  const socketPath = path.join(os.tmpdir(), `auth-socket-memory-bench-${process.pid}.sock`);
  const server = await startServer(socketPath);
  const limit = setTimeout(() => {
    console.error(`${name}: over ${SCENARIO_LIMIT_MS} ms, giving up`);
    stopServer(server);
    process.exit(1);
  }, SCENARIO_LIMIT_MS);
  try {
    await sleep(1_000);
    const baseline = rssKb(server.pid);
    const samples = sampler(server.pid);
    const sockets = await scenario(socketPath);
    await settle(server.pid, 15_000);
    const peak = samples.peak();
    samples.stop();
    for (const socket of sockets) socket.destroy();
    const left = Date.now();
    const after = [];
    for (const at of AFTER_MS) {
      await sleep(left + at - Date.now());
      after.push(`${at / 1000} s: ${mb(rssKb(server.pid))}`);
    }
    console.log(`${name}: baseline ${mb(baseline)}, peak ${mb(peak)}, after leaving ${after.join(', ')}`);
  } finally {
    clearTimeout(limit);
    stopServer(server);
  }
}

async function main() {
  console.log(`server from ${root}`);
  if (only === null || only === 'logged-in') await measure('logged-in (50 x 16 MiB command)', loggedIn);
  if (only === null || only === 'handshake') await measure('handshake (3,000 x 64,000 bytes)', handshake);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
