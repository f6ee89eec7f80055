// Real OS groups for the map tests (root only): a group made with groupadd, members added with
// gpasswd, removed again with groupdel; and peers whose kernel group list is set as login does
// (setpriv --init-groups, from the group database) or by hand (setpriv --groups), since Node's
// spawn with uid/gid drops every supplementary group (libuv calls setgroups(0, NULL)).
import { ChildProcess, execFileSync, spawn } from 'child_process';
import net from 'net';

import { lookupGroupByNameSync } from '../../lib/peer/users';
import { fixtureForOthers } from './for-others';

export interface TestGroup {
  name: string;
  gid: number;
  /** groupdel: the group and its memberships go. */
  remove(): void;
}

/** A new group (a name unique to this run) with `members` added to it. */
export function createGroup(prefix: string, members: string[]): TestGroup {
  const name = `${prefix}-${process.pid}`.slice(0, 31);
  if (lookupGroupByNameSync(name) !== null) execFileSync('groupdel', [name]);
  execFileSync('groupadd', ['--system', name]);
  for (const member of members) execFileSync('gpasswd', ['--add', member, name], { stdio: 'ignore' });
  const gid = lookupGroupByNameSync(name)!.gid;
  return { name, gid, remove: () => execFileSync('groupdel', [name]) };
}

/** How a peer's supplementary groups are set: from the group database, explicitly, or none. */
export type PeerGroups = 'init' | number[] | 'none';

/** setpriv's arguments (then `--`) to run as `user` with `groups`. */
export function asUserArgs(user: string, groups: PeerGroups): string[] {
  const set = groups === 'init' ? ['--init-groups'] : groups === 'none' ? ['--clear-groups'] : [`--groups=${groups.join(',')}`];
  return [`--reuid=${user}`, `--regid=${user}`, ...set, '--'];
}

export interface GroupPeer {
  socket: net.Socket;
  child: ChildProcess;
  close(): Promise<void>;
}

/** A child running as `user` with `groups`, connected to `server` at `socketPath`; resolves with our end. */
export function connectWithGroups(server: net.Server, socketPath: string, user: string, groups: PeerGroups): Promise<GroupPeer> {
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', [...asUserArgs(user, groups), process.execPath, fixtureForOthers('connect-and-wait.js'), socketPath], {
      cwd: '/',
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (data) => (stderr += data));
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const onExit = (code: number | null) => reject(new Error(`client as ${user} exited (${code}) before connecting: ${stderr}`));
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
