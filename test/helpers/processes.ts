// Real processes for the process-identity tests (root only): peers placed in a cgroup of our own,
// a pid handed to a new process on purpose (ns_last_pid), and servers run inside new pid or user
// namespaces (unshare), from the built package.
import { ChildProcess, spawn, SpawnOptions } from 'child_process';
import fs from 'fs';
import net from 'net';
import path from 'path';

import { packageFileForOthers } from './for-others';

/** Resolves once the child has exited and been reaped by Node. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** The directory where cgroup v2 is mounted (/proc/self/mountinfo), or null. */
export function cgroup2Dir(): string | null {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash > 0 && fields[dash + 1] === 'cgroup2' && fields[3] === '/') return fields[4];
  }
  return null;
}

export interface TestCgroup {
  /** The cgroup path as /proc/PID/cgroup shows it (our cgroup namespace is the root one). */
  path: string;
  dir: string;
  /** Spawns `command` inside this cgroup: a shell moves itself in, then execs the command. */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Removes the cgroups (after their processes have exited). */
  remove(): void;
}

/**
 * A cgroup `relative` (e.g. 'auth-socket-1.slice/demo.service') under the cgroup v2 root, or null
 * where cgroup v2 is not mounted or not writable here.
 */
export function makeCgroup(relative: string): TestCgroup | null {
  const root = cgroup2Dir();
  if (root === null) return null;
  const dir = path.join(root, relative);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch {
    return null;
  }
  return {
    path: `/${relative}`,
    dir,
    spawn: (command, args, options = {}) =>
      spawn('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, command, ...args], options),
    remove: () => {
      for (let d = dir; d !== root; d = path.dirname(d)) {
        try {
          fs.rmdirSync(d);
        } catch {
          return;
        }
      }
    },
  };
}

/**
 * Starts `start()` (which must spawn exactly one process) right after setting ns_last_pid so
 * that the new process gets `pid`, retrying where something else took it first; null when it
 * never did. The caller checks child.pid itself: a test must not pass on a process that did not
 * really reuse the pid.
 */
export async function spawnWithPid(pid: number, start: () => ChildProcess): Promise<ChildProcess | null> {
  for (let attempt = 0; attempt < 100; attempt++) {
    fs.writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
    const child = start();
    if (child.pid === pid) return child;
    child.kill('SIGKILL');
    await exited(child);
  }
  return null;
}

/** A peer that connects to `socketPath` and stays until we hang up (the fixture, as root). */
export function connectAndWaitArgs(socketPath: string): [string, string[]] {
  return [process.execPath, [path.join(__dirname, '..', 'fixtures', 'connect-and-wait.js'), socketPath]];
}

/** Resolves with the server end of the next connection to `server`. */
export function nextConnection(server: net.Server): Promise<net.Socket> {
  return new Promise((resolve) => server.once('connection', resolve));
}

/**
 * Runs a Unix-socket server inside `unshare ...unshareArgs`, from the built package: for its
 * first connection it runs `handler` (the source of an async function (socket, lib) whose lib
 * holds the package's peer modules), prints the JSON of what it returns and exits. With
 * `selfConnect` the server connects to itself (a peer inside the namespace); otherwise `connect`
 * is called once it listens. Resolves with the handler's value.
 */
export async function namespacedServer(options: {
  unshare: string[];
  socketPath: string;
  handler: string;
  selfConnect?: boolean;
  connect?: () => ChildProcess | net.Socket;
}): Promise<unknown> {
  const lib = Object.fromEntries(['credentials', 'process', 'guard'].map((m) => [m, packageFileForOthers(`dist/peer/${m}.js`)]));
  const script = `
    const net = require('net'); const fs = require('fs');
    const lib = Object.fromEntries(Object.entries(${JSON.stringify(lib)}).map(([k, v]) => [k, require(v)]));
    const handler = ${options.handler};
    const socketPath = ${JSON.stringify(options.socketPath)};
    const server = net.createServer(async (socket) => {
      server.close();
      let value;
      try { value = await handler(socket, lib); } catch (error) { value = { thrown: error.code || String(error) }; }
      process.stdout.write('result ' + JSON.stringify(value) + '\\n');
      socket.destroy();
      process.exit(0);
    });
    server.listen(socketPath, () => {
      fs.chmodSync(socketPath, 0o666);
      process.stdout.write('listening\\n');
      if (${options.selfConnect === true}) net.connect(socketPath).on('error', () => {});
    });`;
  const child = spawn('unshare', [...options.unshare, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (data: string) => (out += data));
  child.stderr!.setEncoding('utf8').on('data', (data: string) => (err += data));
  const done = exited(child);
  let peer: ChildProcess | net.Socket | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', () => out.includes('listening\n') && resolve());
      void done.then(() => reject(new Error(`the namespaced server exited early: ${err}`)));
    });
    if (options.connect) peer = options.connect();
    await done;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    if (peer instanceof net.Socket) peer.destroy();
    else if (peer) peer.kill('SIGKILL');
  }
  const line = out.split('\n').find((l) => l.startsWith('result '));
  if (line === undefined) throw new Error(`the namespaced server gave no result: ${out} ${err}`);
  return JSON.parse(line.slice('result '.length));
}
