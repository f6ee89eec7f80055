// Real peers: a child process, run as a given OS user, connected to a Unix socket of ours.
import { ChildProcess, spawn, SpawnOptions } from 'child_process';
import net from 'net';

import { fixtureForOthers } from './for-others';

export interface ConnectedPeer {
  /** Our end of the connection. */
  socket: net.Socket;
  child: ChildProcess;
  /** Hangs up and waits for the child to exit. */
  close(): Promise<void>;
}

/** Spawns a client as uid/gid that connects to `server` at `socketPath`; resolves with our end. */
export function connectAs(server: net.Server, socketPath: string, as: { uid: number; gid: number }): Promise<ConnectedPeer> {
  return connectChild(server, process.execPath, [fixtureForOthers('connect-and-wait.js'), socketPath], { uid: as.uid, gid: as.gid }, `uid ${as.uid}`);
}

/** Runs `command args` (which ends up connecting to `server`, as `who`); resolves with our end of its connection. */
export function connectChild(server: net.Server, command: string, args: string[], options: SpawnOptions, who: string): Promise<ConnectedPeer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, cwd: '/', stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (data) => (stderr += data));
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const onExit = (code: number | null) => reject(new Error(`client as ${who} exited (${code}) before connecting: ${stderr}`));
    child.once('exit', onExit);
    server.once('connection', (socket: net.Socket) => {
      child.off('exit', onExit);
      resolve({
        socket,
        child,
        close: async () => {
          socket.destroy();
          await exited;
        },
      });
    });
  });
}
