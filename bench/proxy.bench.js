'use strict';
// The proxy against direct, same client, same run: `auth-socket serve --upstream` in front of a
// private MariaDB 10.11, against that MariaDB reached directly. The client is bench/loadgen.c
// (C on libmariadb, built here with cc -O2), so that it is not what limits either side:
//   select 1    point selects (SELECT v FROM bench.t WHERE id = <random>) on one connection, round trips/s
//   select 16   the same on 16 connections at once (16 in flight), round trips/s
//   read        SELECT v FROM bench.big (64 MiB: 65,536 rows of 1 KiB) on one connection, MiB/s of row values
// direct:  loadgen -> MariaDB on 127.0.0.1:PORT (TCP), as the passwordless account bench@'%';
// proxied: loadgen -> the proxy's Unix socket as bench@localhost (auth_socket) -> relayed over TCP
//          127.0.0.1:PORT with TLS DISABLED as bench@'%': the relay's own cost, not TLS's.
// Each server is a process of its own; this machine's CPUs are split with taskset (printed):
// mariadbd has CPU 0 to itself in both legs, so the server's capacity is the same on both paths;
// the proxy and loadgen share CPU 1 (loadgen's own share is printed too). Legs alternate
// direct/proxied round by round; the report is the median of each round's ratio proxied/direct
// against the goals (0.85 for point selects, 0.9 for the bulk read): ratios, never timed assertions.
// The proxy's and mariadbd's CPU use per leg (from /proc/PID/stat) shows which process is saturated,
// and `others` what the rest of the machine took meanwhile (a shared machine: other work skews a leg).
// Run after `npm run build`: node bench/proxy.bench.js
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const { buildLoadgen, cpuSeconds, machineCpuSeconds, median, placement, runLoadgen, startServe } = require('./common');

const ROUNDS = 5;
const LEG_SECONDS = 3;
const WARM_UP_SECONDS = 1;
const T_ROWS = 10_000;
const BIG_ROWS = 65_536; // of 1 KiB: 64 MiB
const GOALS = { select: 0.85, read: 0.9 };
// A round where other processes took more than this share of a CPU during either leg is marked
// disturbed, and the median over the undisturbed rounds alone is printed too.
const DISTURBED = 0.25;
const TESTS = [
  { name: 'select, 1 connection', mode: 'select', connections: 1, unit: 'q/s', goal: GOALS.select },
  { name: 'select, 16 connections', mode: 'select', connections: 16, unit: 'q/s', goal: GOALS.select },
  { name: 'read 64 MiB, 1 connection', mode: 'read', connections: 1, unit: 'MiB/s', goal: GOALS.read },
];
const MARIADBD_CPU = '0';
const PROXY_CPU = '1';
const LOADGEN_CPU = '1';

const osUser = os.userInfo().username;

/** One loadgen run pinned to LOADGEN_CPU, with the CPU the proxy and mariadbd used meanwhile. */
async function loadgen(binary, address, user, mode, connections, seconds, pids) {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const machineBefore = machineCpuSeconds();
  const result = await runLoadgen(binary, LOADGEN_CPU, { mode, address, user, seconds, connections, maxId: T_ROWS });
  const { wall } = result;
  const used = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid) - before[name]]));
  result.cpu = Object.fromEntries(Object.entries(used).map(([name, seconds]) => [name, seconds / wall]));
  // The proxy's CPU per unit of work: per query, or per MiB read.
  result.proxyCpuPerUnit = used.proxy / (mode === 'read' ? result.bytes / 2 ** 20 : result.ops);
  result.cpu.loadgen = result.cpu_s / result.seconds;
  // What the rest of the machine took meanwhile (other work on a shared machine skews a leg).
  result.cpu.others = Math.max(0, (machineCpuSeconds() - machineBefore) / wall - result.cpu.proxy - result.cpu.mariadbd - result.cpu.loadgen);
  if (mode === 'read' && result.rows !== result.ops * BIG_ROWS) throw new Error(`read: ${result.rows} rows in ${result.ops} queries, expected ${BIG_ROWS} each`);
  return result;
}

/** The proxy: `serve --upstream` in front of MariaDB's TCP port, TLS off (the relay's own cost). */
function startProxy(dir, upstreamPort) {
  return startServe(dir, 'proxy', PROXY_CPU, [`--upstream=127.0.0.1:${upstreamPort}`, '--upstream-ssl-mode=DISABLED']);
}

async function setUpMariadb(db) {
  await db.query('CREATE DATABASE bench');
  await db.query('CREATE TABLE bench.t (id INT PRIMARY KEY, v VARCHAR(64)) CHARSET utf8mb4');
  await db.query(`INSERT INTO bench.t SELECT seq, CONCAT('value-', seq) FROM bench.seq_1_to_${T_ROWS}`);
  await db.query('CREATE TABLE bench.big (id INT PRIMARY KEY, v VARCHAR(1024)) CHARSET utf8mb4');
  await db.query(`INSERT INTO bench.big SELECT seq, REPEAT(CHAR(97 + seq % 26), 1024) FROM bench.seq_1_to_${BIG_ROWS}`);
  await db.query("CREATE USER 'bench'@'%'");
  await db.query("GRANT SELECT ON bench.* TO 'bench'@'%'");
}

// Through the proxy's socket as its administrator (the OS user running it, over auth_socket).
async function createRelayedAccount(proxySocket) {
  const mariadb = require('mariadb');
  const connection = await mariadb.createConnection({ socketPath: proxySocket, user: osUser });
  try {
    const attributes = JSON.stringify({ upstream_user: 'bench', upstream_password: '' });
    await connection.query(`CREATE USER 'bench'@'localhost' IDENTIFIED WITH auth_socket AS '${osUser}' ATTRIBUTE '${attributes}'`);
  } finally {
    await connection.end();
  }
}

const disturbed = (...legs) => legs.some((leg) => leg.cpu.others > DISTURBED);
const rate = (result) => (result.mode === 'read' ? result.mib_per_s : result.ops_per_s);
const pct = (share) => `${(share * 100).toFixed(0)}%`.padStart(4);

async function main() {
  if (os.cpus().length < 2) throw new Error('this bench pins mariadbd and the proxy to different CPUs: it needs 2');
  const { startMariadb } = require('../test/helpers/mariadb-process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-socket-bench-'));
  let db;
  let proxy;
  try {
    const binary = buildLoadgen(dir);
    // A buffer pool that holds bench.big whole: the read leg measures the wire, not the disk.
    db = await startMariadb({ tcp: true, extraArgs: ['--max-allowed-packet=64M', '--innodb-buffer-pool-size=256M', '--innodb-log-file-size=64M'] });
    // -a: every thread now; threads created later inherit it.
    execFileSync('taskset', ['-a', '-p', '-c', MARIADBD_CPU, String(db.pid)], { stdio: 'ignore' });
    await setUpMariadb(db);
    proxy = await startProxy(dir, db.port);
    await createRelayedAccount(proxy.socketPath);

    const pids = { proxy: proxy.pid, mariadbd: db.pid };
    const targets = {
      direct: (mode, connections, seconds) => loadgen(binary, `127.0.0.1:${db.port}`, 'bench', mode, connections, seconds, pids),
      proxied: (mode, connections, seconds) => loadgen(binary, proxy.socketPath, 'bench', mode, connections, seconds, pids),
    };
    // Untimed first: the proxy's JIT warms up, bench.big is read once on each path.
    for (const target of ['proxied', 'direct']) {
      await targets[target]('select', 16, WARM_UP_SECONDS);
      await targets[target]('read', 1, WARM_UP_SECONDS);
    }

    const results = TESTS.map(() => ({ direct: [], proxied: [] }));
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so drift over a round hits both alike.
      const order = round % 2 === 0 ? ['direct', 'proxied'] : ['proxied', 'direct'];
      for (const [i, test] of TESTS.entries()) {
        for (const target of order) results[i][target].push(await targets[target](test.mode, test.connections, LEG_SECONDS));
      }
    }
    const lastLoadgen = results[0].direct[0];

    console.log(`proxy vs direct: same C client (bench/loadgen.c on libmariadb), ${ROUNDS} rounds x ${LEG_SECONDS} s per leg, direct and proxied alternating`);
    console.log(`  direct:  loadgen -> MariaDB 127.0.0.1:${db.port} (TCP) as bench@'%'`);
    console.log(`  proxied: loadgen -> ${proxy.socketPath} (auth_socket, bench@localhost) -> proxy -> 127.0.0.1:${db.port} (TCP, TLS DISABLED) as bench@'%'`);
    console.log(`CPU placement (${os.cpus().length} CPUs; read back from /proc/PID/task/*/status Cpus_allowed_list):`);
    console.log(`  mariadbd          pid ${String(db.pid).padEnd(7)} ${placement(db.pid)}`);
    console.log(`  proxy (node serve) pid ${String(proxy.pid).padEnd(6)} ${placement(proxy.pid)}`);
    console.log(`  loadgen           each run: CPU ${lastLoadgen.cpus} (sched_getaffinity, as loadgen reports it)`);
    console.log(`  this bench (node) pid ${String(process.pid).padEnd(7)} ${placement(process.pid)}, idle while a leg runs`);
    console.log('CPU columns: share of one CPU over the leg (proxy and mariadbd from /proc/PID/stat, loadgen from getrusage,');
    console.log(`  others: every other process on the machine, from /proc/stat; * marks a round where it passed ${pct(DISTURBED).trim()} in a leg)`);
    console.log('');
    console.log('test                       round   direct     proxied    ratio  | proxy  mariadbd d/p  loadgen d/p  others d/p');
    for (const [i, test] of TESTS.entries()) {
      const { direct, proxied } = results[i];
      for (let round = 0; round < ROUNDS; round++) {
        const d = direct[round];
        const p = proxied[round];
        console.log(
          `${(round === 0 ? test.name : '').padEnd(27)}${String(round + 1).padStart(5)}  ${rate(d).toFixed(0).padStart(8)}  ${rate(p).toFixed(0).padStart(8)} ${test.unit.padEnd(5)}` +
            ` ${(rate(p) / rate(d)).toFixed(2)}${disturbed(d, p) ? '*' : ' '} |  ${pct(p.cpu.proxy)}   ${pct(d.cpu.mariadbd)}/${pct(p.cpu.mariadbd)}    ${pct(d.cpu.loadgen)}/${pct(p.cpu.loadgen)}   ${pct(d.cpu.others)}/${pct(p.cpu.others)}`,
        );
      }
      if (test.mode === 'read') {
        // Every row relayed unchanged: a query's rows are the same size on both paths.
        const sizes = new Set([...direct, ...proxied].map((r) => r.bytes / r.ops));
        if (sizes.size !== 1) throw new Error(`read: row bytes per query differ between direct and proxied: ${[...sizes].join(', ')}`);
      }
    }
    console.log('');
    console.log('median ratio proxied/direct (per round):');
    for (const [i, test] of TESTS.entries()) {
      const { direct, proxied } = results[i];
      const ratios = direct.map((d, round) => rate(proxied[round]) / rate(d));
      const ratio = median(ratios);
      const quiet = ratios.filter((_, round) => !disturbed(direct[round], proxied[round]));
      const verdict = ratio >= test.goal ? 'meets the goal' : 'BELOW the goal';
      const perUnit = median(proxied.map((p) => p.proxyCpuPerUnit)) * 1e6;
      console.log(
        `  ${test.name.padEnd(27)} ${ratio.toFixed(2)}  (goal >= ${test.goal.toFixed(2)}: ${verdict})   median direct ${median(direct.map(rate)).toFixed(0)} ${test.unit},` +
          ` proxied ${median(proxied.map(rate)).toFixed(0)} ${test.unit}; proxy CPU ${perUnit.toFixed(0)} us per ${test.mode === 'read' ? 'MiB' : 'query'}`,
      );
      if (quiet.length < ratios.length) {
        const over = quiet.length === 0 ? 'none undisturbed' : `median over the ${quiet.length} undisturbed: ${median(quiet).toFixed(2)}`;
        console.log(`  ${''.padEnd(27)} ${ratios.length - quiet.length} of ${ratios.length} rounds disturbed (*); ${over}`);
      }
    }
    const problems = proxy.log().split('\n').filter((line) => /\b(error|warning)\b/i.test(line));
    if (problems.length > 0) console.log(`\nthe proxy's error log:\n${problems.slice(-10).join('\n')}`);
  } catch (error) {
    if (proxy !== undefined) console.error(`the proxy's output:\n${proxy.output()}\nits error log:\n${proxy.log()}`);
    throw error;
  } finally {
    await proxy?.stop();
    await db?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Ctrl-C goes through 'exit', where the proxy and mariadbd are killed by pid.
process.once('SIGINT', () => process.exit(130));
main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
