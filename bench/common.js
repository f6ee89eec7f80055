'use strict';
// What the benches that drive servers with bench/loadgen.c share: building loadgen (cc on
// libmariadb, flags from mariadb_config), running it pinned with taskset, starting `auth-socket
// serve` pinned in a process of its own, reading CPU use and placement from /proc, and a median.
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const SERVE_START_TIMEOUT_MS = 15_000;
const SERVE_STOP_TIMEOUT_MS = 10_000;
const MAIN = path.join(__dirname, '..', 'dist', 'cli', 'main.js');

const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Servers started here, killed by pid if the bench exits without stopping them.
const children = new Set();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Builds bench/loadgen.c into `dir` (scripts/install-bench-peers.sh installs libmariadb-dev). */
function buildLoadgen(dir) {
  const config = (flag) => {
    try {
      return execFileSync('mariadb_config', [flag], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
    } catch (error) {
      throw new Error(`mariadb_config ${flag} failed (${error.message.split('\n')[0]}): run scripts/install-bench-peers.sh (libmariadb-dev)`);
    }
  };
  const binary = path.join(dir, 'loadgen');
  // The libraries after the source, for linkers that drop what nothing before them needs.
  execFileSync('cc', ['-O2', '-Wall', ...config('--cflags'), '-pthread', '-o', binary, path.join(__dirname, 'loadgen.c'), ...config('--libs')], { stdio: 'inherit' });
  return binary;
}

function run(command, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (data) => (stdout += data));
    child.stderr.setEncoding('utf8').on('data', (data) => (stderr += data));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}:\n${stderr}`));
    });
  });
}

/**
 * One loadgen run on CPU `cpu`: its JSON result, plus `stderr` (loadgen's note of a failed login)
 * and `wall` (seconds, start to exit). `options`: mode, address, user, seconds, connections, and
 * optionally maxId (-n) and total (-N).
 */
async function runLoadgen(binary, cpu, { mode, address, user, seconds, connections, maxId, total }) {
  const args = ['-c', cpu, binary, '-m', mode, '-a', address, '-u', user, '-t', String(seconds), '-c', String(connections)];
  if (maxId !== undefined) args.push('-n', String(maxId));
  if (total !== undefined) args.push('-N', String(total));
  const started = process.hrtime.bigint();
  const { stdout, stderr } = await run('taskset', args, seconds * 1000 + 60_000);
  return { ...JSON.parse(stdout), stderr: stderr.trim(), wall: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** user+system CPU seconds of a whole process (every thread) so far. */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime, stime (fields 14 and 15)
}

/** CPU seconds every process on the machine has used so far (/proc/stat: all but idle and iowait). */
function machineCpuSeconds() {
  const [user, nice, system, , , irq, softirq, steal] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / clockTicks;
}

/** The CPUs each thread of `pid` may run on, as "CPU 0 (all 9 threads)" or every distinct list. */
function placement(pid) {
  const lists = fs.readdirSync(`/proc/${pid}/task`).map((tid) => {
    const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(status)[1];
  });
  const distinct = [...new Set(lists)];
  return distinct.length === 1 ? `CPU ${distinct[0]} (all ${lists.length} threads)` : `CPUs ${distinct.join(' / ')} (${lists.length} threads)`;
}

/**
 * `node dist/cli/main.js serve --socket=DIR/NAME.sock --datadir=DIR/NAME-datadir ...extraArgs`
 * under `taskset -c cpu`; resolves once its log says ready and its banner is out. A first start:
 * root@localhost and the OS user running it are its auth_socket administrators.
 */
async function startServe(dir, name, cpu, extraArgs = []) {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const socketPath = path.join(dir, `${name}.sock`);
  const logFile = path.join(dir, `${name}.log`);
  const args = [MAIN, 'serve', `--socket=${socketPath}`, `--datadir=${path.join(dir, `${name}-datadir`)}`, `--log-error=${logFile}`, ...extraArgs];
  const child = spawn('taskset', ['-c', cpu, process.execPath, ...args], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (data) => (stdout += data));
  child.stderr.setEncoding('utf8').on('data', (data) => (stderr += data));
  const exited = new Promise((resolve) => child.once('close', resolve));
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  // Ready once its log says so and the banner (whose last line is "log in as ...") is out.
  const deadline = Date.now() + SERVE_START_TIMEOUT_MS;
  while (!(/\bready\b/.test(log()) && /^log in as /m.test(stdout))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`serve (${name}) exited during start:\n${stdout}${stderr}${log()}`);
    if (Date.now() > deadline) throw new Error(`serve (${name}) was not ready within ${SERVE_START_TIMEOUT_MS} ms:\n${stdout}${stderr}${log()}`);
    await sleep(20);
  }
  return {
    socketPath,
    pid: child.pid,
    log,
    output: () => stdout + stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), SERVE_STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      children.delete(child);
    },
  };
}

/** A child process we started ourselves (the bare server), killed with the bench if need be. */
function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

module.exports = { buildLoadgen, cpuSeconds, machineCpuSeconds, median, placement, run, runLoadgen, sleep, startServe, track };
