// Tests that act as other OS users need root. Without root they skip with a loud message, and
// under CI (where root is expected) they fail instead, so a skipped suite cannot pass as green.
import { execFileSync } from 'child_process';

import { lookupUserByNameSync, lookupUserSync } from '../../lib/peer/users';

export const isRoot = process.getuid?.() === 0;

export function describeAsRoot(name: string, body: () => void): void {
  if (isRoot) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      it('needs root', () => {
        throw new Error(`"${name}" needs root; CI is set, so this fails instead of skipping`);
      });
    });
  } else {
    console.warn(`\n*** SKIPPED "${name}": it needs root (CI would fail here) ***\n`);
    describe.skip(name, body);
  }
}

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

/** The named OS user, created as a system user without home or shell when missing (root only). */
export function ensureOsUser(name: string): OsUser {
  let user = lookupUserByNameSync(name);
  if (user === null) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', name]);
    user = lookupUserByNameSync(name);
    if (user === null) throw new Error(`useradd ${name} did not create a passwd entry`);
  }
  return { name: user.name, uid: user.uid, gid: user.gid };
}

/** A uid (and gid) that has no passwd entry on this machine. */
export function unmappedUid(): number {
  for (let uid = 4_000_000; uid < 4_001_000; uid++) {
    if (lookupUserSync(uid) === null) return uid;
  }
  throw new Error('no free uid found for the no-passwd-entry tests');
}
