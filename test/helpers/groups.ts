// Real OS groups for the map tests (root only): a group made with groupadd, members added with
// gpasswd, removed again with groupdel; and peers whose kernel group list is set as login does
// (setpriv --init-groups, from the group database) or by hand (setpriv --groups), since Node's
// spawn with uid/gid drops every supplementary group (libuv calls setgroups(0, NULL)).
import { execFileSync } from 'child_process';
import net from 'net';

import { lookupGroupByNameSync } from '../../lib/peer/users';
import { fixtureForOthers } from './for-others';
import { connectChild, ConnectedPeer } from './peers';

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

/** A child running as `user` with `groups`, connected to `server` at `socketPath`; resolves with our end. */
export function connectWithGroups(server: net.Server, socketPath: string, user: string, groups: PeerGroups): Promise<ConnectedPeer> {
  return connectChild(server, 'setpriv', [...asUserArgs(user, groups), process.execPath, fixtureForOthers('connect-and-wait.js'), socketPath], {}, user);
}
