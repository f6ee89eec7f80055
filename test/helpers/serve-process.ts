// The built `auth-socket serve` as a child process, as an operator runs it: started with a
// command line (and usually a my.cnf), waited for until it listens, stopped by signal or kill -9
// by its own pid, its output kept for the assertions. Needs dist/ (`npm run build`).
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import net from 'net';
import path from 'path';
import { packageFileForOthers } from './for-others';

// AUTH_SOCKET_SERVE_MAIN runs another build's main.js (a build of a work in progress, say).
export const SERVE_MAIN = process.env.AUTH_SOCKET_SERVE_MAIN ?? path.join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

// Bounds, not expectations: a start that takes longer is a hang.
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

export interface ServeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout and stderr so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves when the process has exited and its pipes are closed. */
  readonly exited: Promise<ServeExit>;
  /** True once it has exited. */
  hasExited(): boolean;
  /** Sends `signal` (SIGTERM by default) to our child and waits for its exit, SIGKILL past a bound. */
  stop(signal?: NodeJS.Signals): Promise<ServeExit>;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}

const live = new Set<ServeProcess>();

/** Spawns `node dist/cli/main.js serve ...args` (nothing awaited: see waitListening). */
export function spawnServe(args: string[], options: SpawnOptions = {}): ServeProcess {
  if (!fs.existsSync(SERVE_MAIN)) throw new Error(`${SERVE_MAIN} is missing: run npm run build first`);
  // Another OS user cannot read a checkout that lives in /root or a 0700 directory: it runs the
  // world-readable copy of the built package.
  const main = options.uid === undefined || options.uid === process.getuid!() ? SERVE_MAIN : packageFileForOthers('dist/cli/main.js');
  const child = spawn(process.execPath, [main, 'serve', ...args], {
    cwd: '/',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? { PATH: process.env.PATH, TMPDIR: process.env.TMPDIR, LANG: 'C' },
    uid: options.uid,
    gid: options.gid,
  });
  let stdout = '';
  let stderr = '';
  let done = false;
  child.stdout!.setEncoding('utf8').on('data', (data: string) => (stdout += data));
  child.stderr!.setEncoding('utf8').on('data', (data: string) => (stderr += data));
  const exited = new Promise<ServeExit>((resolve) =>
    child.once('close', (code, signal) => {
      done = true;
      resolve({ code, signal, stdout, stderr });
    }),
  );
  const proc: ServeProcess = {
    child,
    pid: child.pid!,
    output: () => ({ stdout, stderr }),
    exited,
    hasExited: () => done,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (!done) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

/** Kills (SIGKILL, by pid) every server this worker started that still runs: for afterAll/afterEach. */
export async function killAllStarted(): Promise<void> {
  await Promise.all([...live].map((proc) => proc.stop('SIGKILL')));
}

/** Polls `condition` every 10 ms until it is true; throws `what` past `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// What the server says once every listener is up and the socket's mode is set: mysqld's "ready
// for connections", our "ready: socket ...", or the older "listening on ...".
const READY = /\bready\b|\blistening\b/;

// The last line of the banner `serve` prints on stdout once it runs. It installs its SIGTERM and
// SIGINT handlers right after printing it, and a signal before then kills the process outright
// (Node's default), so a test that stops the server by signal waits for this line, not just "ready".
const BANNER_END = /^log in as .*$/m;

/**
 * Waits until the server says it is ready, on stdout, stderr, or in the `--log-error` file its
 * command line names (from byte `from` on: an earlier run's "ready" may be in it already), and
 * has printed its banner on stdout; throws with its output when it exits first.
 */
export async function waitListening(proc: ServeProcess, logFile: string | null = null, from = 0): Promise<void> {
  await waitFor(
    () => {
      const { stdout, stderr } = proc.output();
      if (proc.hasExited()) throw new Error(`serve exited before it was ready:\nstdout: ${stdout}\nstderr: ${stderr}`);
      const ready =
        READY.test(stdout) || READY.test(stderr) || (logFile !== null && fs.existsSync(logFile) && READY.test(fs.readFileSync(logFile).subarray(from).toString('utf8')));
      return ready && BANNER_END.test(stdout);
    },
    'the server to be ready',
    START_TIMEOUT_MS,
  );
}

/** spawnServe + waitListening. */
export async function startServe(args: string[], options: SpawnOptions = {}): Promise<ServeProcess> {
  const logError = args.filter((arg) => arg.startsWith('--log-error=')).pop()?.slice('--log-error='.length) ?? null;
  const from = logError !== null && fs.existsSync(logError) ? fs.statSync(logError).size : 0;
  const proc = spawnServe(args, options);
  try {
    await waitListening(proc, logError, from);
  } catch (error) {
    await proc.stop('SIGKILL');
    throw error;
  }
  return proc;
}

/** A run that must fail to start: resolves with its exit (SIGKILL past the bound). */
export async function failedStart(args: string[], options: SpawnOptions = {}): Promise<ServeExit> {
  const proc = spawnServe(args, options);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), START_TIMEOUT_MS);
  try {
    return await proc.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Writes a my.cnf whose [mysqld] group holds `lines`; returns its path. */
export function writeMyCnf(file: string, lines: string[]): string {
  fs.writeFileSync(file, ['[mysqld]', ...lines, ''].join('\n'));
  return file;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something accepts connections at `address` (a Unix socket path or a TCP port on 127.0.0.1). */
export function accepts(address: string | number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = typeof address === 'string' ? net.connect({ path: address }) : net.connect({ port: address, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The pids of serve --workers' worker processes: the primary's children, as the kernel lists them. */
export function workerPids(primary: number): number[] {
  const children = fs.readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8').trim();
  return children === '' ? [] : children.split(/\s+/).map(Number);
}
