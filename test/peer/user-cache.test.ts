// cachedUserLookup(): answers at most maxAgeMs old, against the real passwd database: a user
// deleted (or renamed) stops matching within the bound, concurrent lookups share one NSS call,
// failures are not kept. Adding and deleting users needs root.
import { execFileSync } from 'child_process';

import { cachedUserLookup } from '../../lib/peer/user-cache';
import { lookupUserByNameSync } from '../../lib/peer/users';
import { describeAsRoot } from '../helpers/root';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('answers the passwd entry of a uid, and null for a uid without one', async () => {
  const lookup = cachedUserLookup({ maxAgeMs: 1000 });
  expect((await lookup(0))?.name).toBe('root');
  expect(await lookup(4_000_123)).toBeNull();
});

test('concurrent lookups of one uid share one answer', async () => {
  const lookup = cachedUserLookup({ maxAgeMs: 0 });
  const [a, b] = await Promise.all([lookup(0), lookup(0)]);
  // One NSS call: the very same record object, even with nothing kept afterwards.
  expect(a).toBe(b);
  expect(await lookup(0)).not.toBe(a);
});

test('options are checked', () => {
  expect(() => cachedUserLookup({ maxAgeMs: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  expect(() => cachedUserLookup({ maxAgeMs: 10, maxEntries: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
});

describeAsRoot('staleness against a real passwd database', () => {
  const name = `cachetest${process.pid % 100000}`;
  afterAll(() => {
    if (lookupUserByNameSync(name) !== null) execFileSync('userdel', [name]);
  });

  test('a deleted user is still answered within maxAgeMs, and no longer after it', async () => {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
    const uid = lookupUserByNameSync(name)!.uid;
    const lookup = cachedUserLookup({ maxAgeMs: 300 });
    expect((await lookup(uid))?.name).toBe(name);
    execFileSync('userdel', [name]);
    // Within the bound the cached answer stands (what the bound allows, not a promise to keep it)...
    expect((await lookup(uid))?.name).toBe(name);
    await sleep(350);
    // ...past it, NSS is asked again.
    expect(await lookup(uid)).toBeNull();
  });

  test('the eldest answer goes first when maxEntries is reached', async () => {
    const lookup = cachedUserLookup({ maxAgeMs: 60_000, maxEntries: 1 });
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
    const uid = lookupUserByNameSync(name)!.uid;
    expect((await lookup(uid))?.name).toBe(name);
    await lookup(0); // pushes the first one out
    execFileSync('userdel', [name]);
    expect(await lookup(uid)).toBeNull();
  });
});
