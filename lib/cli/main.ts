#!/usr/bin/env node
// auth-socket command line. `auth-socket demo [--socket PATH]`: a Unix-socket server that tells
// each client who the kernel says it is. `auth-socket serve [--defaults-file=FILE] ...`: the
// MySQL-protocol server (options in config/serve-options.ts, the server in serve.ts).
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';

import { getPeerCredentials } from '../peer/credentials';
import { lookupUser } from '../peer/users';
import { isHelpRequest, parseServeArgs, SERVE_USAGE } from '../config/serve-options';
import { claimSocketPath, RunningServer, startServe } from './serve';
import { openErrorLog } from './error-log';
import { isWorker, runWorker } from './worker';
import { startPrimary } from './workers';

const DEFAULT_DEMO_SOCKET = path.join(os.tmpdir(), 'auth-socket-demo.sock');

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

async function describe(socket: net.Socket): Promise<string> {
  const peer = getPeerCredentials(socket, { groups: true });
  const user = await lookupUser(peer.uid);
  const groups = peer.groups?.length ? ` groups=${peer.groups.join(',')}` : '';
  return `pid=${peer.pid} uid=${peer.uid}(${user?.name ?? 'no passwd entry'}) gid=${peer.gid}${groups}`;
}

function demo(args: string[]): void {
  const socketPath = option(args, '--socket', DEFAULT_DEMO_SOCKET);
  const server = net.createServer((socket) => {
    describe(socket).then(
      (who) => {
        console.log(`connection from ${who}`);
        socket.end(`you are ${who}\n`);
      },
      (error) => {
        console.log(`refused: ${error.code ?? error.message}`);
        socket.destroy();
      },
    );
  });
  const listening = () => {
    fs.chmodSync(socketPath, 0o666); // let every local user try, so the demo shows them apart
    console.log(`auth-socket demo listening on ${socketPath}`);
    console.log(`try: socat - UNIX-CONNECT:${socketPath}   (Ctrl-C stops the demo)`);
    // Connect once ourselves so a fresh run shows a result without another terminal.
    const self = net.connect(socketPath);
    self.on('data', (data) => process.stdout.write(`self-check: ${data}`));
  };
  claimSocketPath(socketPath).then(
    () => server.listen(socketPath, listening),
    (error) => {
      console.error(`auth-socket demo: ${error.message}`);
      process.exitCode = 1;
    },
  );
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function serve(args: string[]): void {
  const options = parseServeArgs(args);
  if (isWorker()) return runWorker(options, openErrorLog(options.logError, options.logFormat));
  // Signals are taken from the start: one that comes while the server starts stops it once it
  // is up, and a second one during the shutdown's grace does not kill it half-way.
  let running: Pick<RunningServer, 'datadir' | 'stop'> | null = null;
  let stopRequested = false;
  const onSignal = () => {
    stopRequested = true;
    if (running !== null) void running.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const log = openErrorLog(options.logError, options.logFormat);
  (options.workers > 1 ? startPrimary(options, log) : startServe(options, log)).then(
    (started) => {
      running = started;
      const where = options.port === null ? '' : ` and ${options.bindAddress}:${options.port}`;
      console.log(`auth-socket serve: listening on ${options.socketPath}${where}`);
      console.log(`datadir: ${started.datadir.dir}`);
      console.log(`log in as root (or as your own OS user): mariadb --socket=${options.socketPath} --user=$(id -un)`);
      if (stopRequested) void started.stop();
    },
    (error) => {
      console.error(`auth-socket serve: ${error.message}`);
      process.exitCode = 1;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  );
}

function main(argv: string[]): void {
  const [command = 'serve', ...rest] = argv;
  if (command === 'demo') return demo(rest);
  if (command === 'serve') {
    if (isHelpRequest(rest)) {
      console.log(SERVE_USAGE);
      return;
    }
    try {
      return serve(rest);
    } catch (error) {
      console.error((error as Error).message);
      process.exitCode = 2;
      return;
    }
  }
  const usage = `usage: auth-socket demo [--socket PATH]\n${SERVE_USAGE}`;
  if (command === '--help' || command === '-?') return console.log(usage);
  console.error(usage);
  process.exitCode = 2;
}

main(process.argv.slice(2));
