'use strict';
// Handshakes per second measured from outside, with Node out of the client side: bench/loadgen.c
// (C on libmariadb; each thread loops mysql_init + mysql_real_connect + mysql_close) against,
// in alternating legs of one run, each server a process of its own:
//   MariaDB 10.11 unix_socket  a private mariadbd (test/helpers/mariadb-process.js), its admin
//                              account (the OS user running the bench) IDENTIFIED VIA unix_socket
//   auth-socket serve          `node dist/cli/main.js serve` on a fresh datadir, logged in as the
//                              OS user's name (its first start makes that an auth_socket account)
//   bare Node server           bench/bare-server.js: a fixed greeting and an OK, nothing checked;
//                              the reference for what Node's event loop and sockets cost alone
//   proxy                      `serve --upstream=127.0.0.1:PORT --upstream-ssl-mode=DISABLED`, a
//                              login as bench@localhost (auth_socket, relayed to MariaDB as bench@'%')
//                              against a direct TCP login to that MariaDB as bench@'%'
// at 1 and 16 client threads, ROUNDS rounds x LEG_SECONDS s per leg, the order rotating round by
// round; the table has the median rate of each and the median of each round's ratio to MariaDB
// (to the direct login for the proxy). CPUs (this machine has 2) are split with taskset, printed:
// the server measured has CPU 0 (mariadbd in the proxy legs too), loadgen CPU 1 (with the proxy in
// its legs); each leg's CPU shares show whether the client or the server was the one saturated.
// Then every core: mariadbd's threads, `serve --workers=2` (its primary and both workers) and
// loadgen may all run on both CPUs, in alternating legs of their own (ratio: to MariaDB on both CPUs).
// Our server reports itself (SHOW STATUS): its event-loop p99 over each 16-thread leg (FLUSH STATUS
// just before), its RSS after them, and its RSS growth over RSS_HANDSHAKES handshakes once warm.
// Run after `npm run build`: node bench/handshakes-c.bench.js
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const { buildLoadgen, cpuSeconds, machineCpuSeconds, median, placement, runLoadgen, startServe, track } = require('./common');

const ROUNDS = 3;
const LEG_SECONDS = 3;
const WARM_UP_SECONDS = 2;
const THREADS = [1, 16];
const RSS_HANDSHAKES = 200_000;
const RSS_THREADS = 16;
// Bounds the RSS leg even at a few hundred handshakes/s.
const RSS_LEG_LIMIT_SECONDS = 300;
const GOALS = { p99Ms: 5, rssGrowthMiB: 10 };
const SERVER_CPU = '0';
const LOADGEN_CPU = '1';
const PROXY_CPU = '1';
const ALL_CPUS = '0,1';
const WORKERS = 2;
// A leg where other processes took more than this share of a CPU is marked disturbed (*).
const DISTURBED = 0.25;
// A leg where loadgen used more than this share of its CPU may have measured the client (!).
const CLIENT_BOUND = 0.9;
const BARE_START_TIMEOUT_MS = 10_000;

const osUser = os.userInfo().username;
const mib = (bytes) => bytes / 2 ** 20;
const pct = (share) => `${(share * 100).toFixed(0)}%`.padStart(4);
const perSecond = (rate) => `${Math.round(rate).toLocaleString('en-US')}/s`;

function startBare(dir) {
  const socketPath = path.join(dir, 'bare.sock');
  // stdin a pipe: the bare server exits when it ends, with this process.
  const child = track(spawn('taskset', ['-c', SERVER_CPU, process.execPath, path.join(__dirname, 'bare-server.js'), socketPath], { stdio: ['pipe', 'pipe', 'inherit'] }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bare server did not listen in time')), BARE_START_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`the bare server exited (${code}) during start`)));
    child.stdout.setEncoding('utf8').once('data', () => {
      clearTimeout(timer);
      resolve({ socketPath, pid: child.pid, stop: () => child.kill('SIGTERM') });
    });
  });
}

// Our server's status as it reports it, over its socket as its administrator.
async function showStatus(mariadb, socketPath, flush = false) {
  const connection = await mariadb.createConnection({ socketPath, user: osUser });
  try {
    if (flush) await connection.query('FLUSH STATUS');
    const rows = await connection.query("SHOW GLOBAL STATUS LIKE 'Auth\\_socket\\_%'");
    return Object.fromEntries(rows.map((row) => [row.Variable_name, Number(row.Value)]));
  } finally {
    await connection.end();
  }
}

async function createRelayedAccount(mariadb, proxySocket) {
  const connection = await mariadb.createConnection({ socketPath: proxySocket, user: osUser });
  try {
    const attributes = JSON.stringify({ upstream_user: 'bench', upstream_password: '' });
    await connection.query(`CREATE USER 'bench'@'localhost' IDENTIFIED WITH auth_socket AS '${osUser}' ATTRIBUTE '${attributes}'`);
  } finally {
    await connection.end();
  }
}

/** One leg: loadgen on LOADGEN_CPU against `target`, with the CPU its server processes used meanwhile. */
async function leg(binary, target, threads, seconds, total) {
  // A server of several processes is counted whole: the primary and its workers.
  const pids = target.pids.flatMap((pid) => [pid, ...(target.withChildren ? childrenOf(pid) : [])]);
  const before = pids.map(cpuSeconds);
  const machineBefore = machineCpuSeconds();
  const result = await runLoadgen(binary, target.loadgenCpu ?? LOADGEN_CPU, { mode: 'handshake', address: target.address, user: target.user, seconds, connections: threads, total });
  const servers = pids.map((pid, i) => (cpuSeconds(pid) - before[i]) / result.wall);
  const loadgen = result.cpu_s / result.seconds;
  const others = Math.max(0, (machineCpuSeconds() - machineBefore) / result.wall - servers.reduce((a, b) => a + b, 0) - loadgen);
  if (result.failures > 0) console.log(`  (${target.name}, ${threads} threads: ${result.failures} failed logins; ${result.stderr})`);
  return { rate: result.ops_per_s, ops: result.ops, failures: result.failures, seconds: result.seconds, cpu: { servers, loadgen, others } };
}

function childrenOf(pid) {
  const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return children === '' ? [] : children.split(/\s+/).map(Number);
}

/** Legs of `names` alternating over ROUNDS rounds (after a warm-up of each), into results[name][threads]. */
async function rounds(binary, targets, names, results, onLeg = async (_name, _threads, run) => run()) {
  for (const name of names) {
    for (const threads of THREADS) {
      const warm = await leg(binary, targets[name], threads, WARM_UP_SECONDS);
      if (warm.ops === 0) throw new Error(`${targets[name].name}: no login succeeded in the warm-up`);
    }
  }
  for (const name of names) results[name] = Object.fromEntries(THREADS.map((threads) => [threads, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // The order rotates, so drift over a round does not always hit the same server.
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const threads of THREADS) {
      for (const name of order) results[name][threads].push(await onLeg(name, threads, () => leg(binary, targets[name], threads, LEG_SECONDS)));
    }
  }
}

async function main() {
  if (os.cpus().length < 2) throw new Error('this bench pins the server and the client to different CPUs: it needs 2');
  const mariadb = require('mariadb');
  const { startMariadb } = require('../test/helpers/mariadb-process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-socket-bench-'));
  let db;
  let ours;
  let bare;
  let proxy;
  let workers;
  try {
    const binary = buildLoadgen(dir);
    // No reverse DNS per TCP login: the direct leg pays for no lookup the proxy's does not.
    db = await startMariadb({ tcp: true, extraArgs: ['--skip-name-resolve'] });
    execFileSync('taskset', ['-a', '-p', '-c', SERVER_CPU, String(db.pid)], { stdio: 'ignore' });
    // install-db chains 'invalid' mysql_native_password OR unix_socket for this account; a plain
    // unix_socket account is the like-for-like comparison (one round trip, no failed first plugin).
    await db.query('ALTER USER CURRENT_USER() IDENTIFIED VIA unix_socket');
    await db.query("CREATE USER 'bench'@'%'");
    ours = await startServe(dir, 'ours', SERVER_CPU);
    bare = await startBare(dir);
    proxy = await startServe(dir, 'proxy', PROXY_CPU, [`--upstream=127.0.0.1:${db.port}`, '--upstream-ssl-mode=DISABLED']);
    workers = await startServe(dir, 'workers', ALL_CPUS, [`--workers=${WORKERS}`]);
    await createRelayedAccount(mariadb, proxy.socketPath);

    const targets = {
      mariadb: { name: 'MariaDB 10.11 unix_socket', address: db.socketPath, user: osUser, pids: [db.pid] },
      ours: { name: 'auth-socket serve (auth_socket)', address: ours.socketPath, user: osUser, pids: [ours.pid] },
      bare: { name: 'bare Node server (greeting + OK)', address: bare.socketPath, user: osUser, pids: [bare.pid] },
      direct: { name: 'direct TCP login to MariaDB', address: `127.0.0.1:${db.port}`, user: 'bench', pids: [db.pid] },
      proxied: { name: 'login through the proxy', address: proxy.socketPath, user: 'bench', pids: [proxy.pid, db.pid] },
    };
    const results = {};
    const ourStatus = [];
    // Untimed warm-ups first: every server's JIT and caches warm, and a broken setup fails early.
    await rounds(binary, targets, Object.keys(targets), results, async (name, threads, run) => {
      const watched = name === 'ours' && threads === 16;
      if (watched) await showStatus(mariadb, ours.socketPath, true);
      const result = await run();
      if (watched) ourStatus.push(await showStatus(mariadb, ours.socketPath));
      return result;
    });

    // RSS growth once warm, right after the legs above: an idle spell first would let V8 shrink
    // the heap, and the leg would then measure its regrowth rather than what the logins keep.
    const rssBefore = (await showStatus(mariadb, ours.socketPath)).Auth_socket_rss_bytes;
    const rssLeg = await leg(binary, targets.ours, RSS_THREADS, RSS_LEG_LIMIT_SECONDS, RSS_HANDSHAKES);
    const rssAfter = (await showStatus(mariadb, ours.socketPath)).Auth_socket_rss_bytes;

    // Every core for each side: mariadbd's threads, our workers and loadgen on both CPUs.
    execFileSync('taskset', ['-a', '-p', '-c', ALL_CPUS, String(db.pid)], { stdio: 'ignore' });
    const wide = {
      mariadbAll: { ...targets.mariadb, name: 'MariaDB 10.11 unix_socket', loadgenCpu: ALL_CPUS },
      workers: { name: `serve --workers=${WORKERS}`, address: workers.socketPath, user: osUser, pids: [workers.pid], withChildren: true, loadgenCpu: ALL_CPUS },
    };
    await rounds(binary, wide, Object.keys(wide), results);
    execFileSync('taskset', ['-a', '-p', '-c', SERVER_CPU, String(db.pid)], { stdio: 'ignore' });
    Object.assign(targets, wide);

    report({ db, ours, bare, proxy, workers, targets, results, ourStatus, rss: { before: rssBefore, after: rssAfter, leg: rssLeg } });
    const problems = [ours, proxy, workers].flatMap((server) => server.log().split('\n').filter((line) => /\b(error|warning)\b/i.test(line)));
    if (problems.length > 0) console.log(`\nfrom the servers' error logs:\n${problems.slice(-10).join('\n')}`);
  } catch (error) {
    for (const server of [ours, proxy, workers]) if (server !== undefined) console.error(`${server.output()}\n${server.log()}`);
    throw error;
  } finally {
    bare?.stop();
    await ours?.stop();
    await proxy?.stop();
    await workers?.stop();
    await db?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const disturbed = (leg) => leg.cpu.others > DISTURBED;
const clientBound = (leg) => leg.cpu.loadgen > CLIENT_BOUND;

function report({ db, ours, bare, proxy, workers, targets, results, ourStatus, rss }) {
  const rate = (name, threads) => median(results[name][threads].map((r) => r.rate));
  const ratio = (name, reference, threads) => median(results[name][threads].map((r, round) => r.rate / results[reference][threads][round].rate));
  const cell = (name, reference, threads) => `${perSecond(rate(name, threads))}${reference === null ? '' : ` (${ratio(name, reference, threads).toFixed(2)})`}`;
  const row = (label, name, reference) => `| ${label.padEnd(35)} | ${THREADS.map((threads) => cell(name, reference, threads).padStart(15)).join(' | ')} |`;

  console.log(`handshakes/s: connect + login + COM_QUIT, C client (bench/loadgen.c on libmariadb), each server its own process;`);
  console.log(`medians over ${ROUNDS} rounds x ${LEG_SECONDS} s per leg, legs alternating; (ratio): median of the rounds' ratios to MariaDB`);
  console.log('');
  console.log(`| ${''.padEnd(35)} | ${THREADS.map((t) => `${t} thread${t === 1 ? '' : 's'}`.padStart(15)).join(' | ')} |`);
  console.log(`|${'-'.repeat(37)}|${THREADS.map(() => '-'.repeat(17)).join('|')}|`);
  console.log(row('MariaDB 10.11 unix_socket', 'mariadb', null));
  console.log(row('`auth-socket serve` (auth_socket)', 'ours', 'mariadb'));
  console.log(row('bare Node server (greeting + OK)', 'bare', 'mariadb'));
  console.log(`every CPU to each side (server, and loadgen, on CPUs ${ALL_CPUS}):`);
  console.log(row('MariaDB 10.11 unix_socket', 'mariadbAll', null));
  console.log(row(`\`auth-socket serve --workers=${WORKERS}\``, 'workers', 'mariadbAll'));
  const wideRatio = ratio('workers', 'mariadbAll', 16);
  console.log(`  goal: --workers >= 1.5 at 16 threads: ${wideRatio >= 1.5 ? 'met' : 'NOT met'}; one process >= 1.0: ${THREADS.every((t) => ratio('ours', 'mariadb', t) >= 1) ? 'met' : 'NOT met'}`);
  console.log('');
  console.log('proxy (ratio: to the direct login, median of the rounds):');
  for (const threads of THREADS) {
    console.log(
      `  ${String(threads).padStart(2)} thread${threads === 1 ? ' ' : 's'}: login through the proxy ${perSecond(rate('proxied', threads)).padStart(9)}` +
        ` vs direct TCP login to MariaDB ${perSecond(rate('direct', threads)).padStart(9)}  (${ratio('proxied', 'direct', threads).toFixed(2)})`,
    );
  }

  const p99s = ourStatus.map((s) => s.Auth_socket_event_loop_delay_p99_us / 1000);
  const p99 = median(p99s);
  const growth = mib(rss.after - rss.before);
  console.log('');
  console.log(`our server under 16 threads (its SHOW STATUS; FLUSH STATUS before each 16-thread leg, read right after it):`);
  console.log(
    `  event-loop p99 ${p99.toFixed(2)} ms, median of the rounds (${p99s.map((v) => v.toFixed(2)).join(', ')} ms; max delay ${ourStatus.map((s) => (s.Auth_socket_event_loop_delay_max_us / 1000).toFixed(1)).join(', ')} ms)` +
      `  goal < ${GOALS.p99Ms} ms: ${p99 < GOALS.p99Ms ? 'met' : 'NOT met'}`,
  );
  console.log(`  RSS after the 16-thread legs: ${ourStatus.map((s) => mib(s.Auth_socket_rss_bytes).toFixed(1)).join(', ')} MiB`);
  console.log(
    `  RSS over ${rss.leg.ops.toLocaleString('en-US')} handshakes (${RSS_THREADS} threads, ${rss.leg.seconds.toFixed(1)} s, ${perSecond(rss.leg.rate)}) once warm:` +
      ` ${mib(rss.before).toFixed(1)} -> ${mib(rss.after).toFixed(1)} MiB, growth ${growth.toFixed(1)} MiB  goal < ${GOALS.rssGrowthMiB} MiB: ${growth < GOALS.rssGrowthMiB ? 'met' : 'NOT met'}` +
      `${rss.leg.ops < RSS_HANDSHAKES ? ` (only ${rss.leg.ops} of ${RSS_HANDSHAKES} within ${RSS_LEG_LIMIT_SECONDS} s)` : ''}${rss.leg.failures > 0 ? `, ${rss.leg.failures} failed` : ''}`,
  );

  console.log('');
  console.log(`CPU placement (${os.cpus().length} CPUs; read back from /proc/PID/task/*/status Cpus_allowed_list):`);
  console.log(`  mariadbd                pid ${String(db.pid).padEnd(7)} ${placement(db.pid)}`);
  console.log(`  auth-socket serve       pid ${String(ours.pid).padEnd(7)} ${placement(ours.pid)}`);
  console.log(`  bare Node server        pid ${String(bare.pid).padEnd(7)} ${placement(bare.pid)}`);
  console.log(`  proxy (serve --upstream) pid ${String(proxy.pid).padEnd(6)} ${placement(proxy.pid)}`);
  for (const pid of [workers.pid, ...childrenOf(workers.pid)]) console.log(`  serve --workers=${WORKERS} ${pid === workers.pid ? 'primary' : 'worker '} pid ${String(pid).padEnd(7)} ${placement(pid)}`);
  console.log(`  loadgen (the client)    each leg: CPU ${LOADGEN_CPU} (taskset -c ${LOADGEN_CPU}); CPUs ${ALL_CPUS} in the every-CPU legs (mariadbd too then)`);
  console.log(`  this bench (node)       pid ${String(process.pid).padEnd(7)} ${placement(process.pid)}, idle while a leg runs`);
  console.log('Per leg: rate, then CPU shares of one CPU over the leg: the server(s) (/proc/PID/stat), loadgen (getrusage),');
  console.log(`  others (the rest of the machine, /proc/stat). * others over ${pct(DISTURBED).trim()}; ! loadgen over ${pct(CLIENT_BOUND).trim()} (the client may be what limits it)`);
  for (const threads of THREADS) {
    console.log(`  ${threads} thread${threads === 1 ? '' : 's'}:`);
    for (const [name, target] of Object.entries(targets)) {
      const legs = results[name][threads].map(
        (r) => `${Math.round(r.rate).toString().padStart(6)}${disturbed(r) ? '*' : ' '}${clientBound(r) ? '!' : ' '} srv ${r.cpu.servers.map(pct).join('+')} cl ${pct(r.cpu.loadgen)} oth ${pct(r.cpu.others)}`,
      );
      console.log(`    ${target.name.padEnd(33)} ${legs.join(' | ')}`);
    }
  }
}

// Ctrl-C goes through 'exit', where the servers and mariadbd are killed by pid.
process.once('SIGINT', () => process.exit(130));
main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
