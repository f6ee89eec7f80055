import { spawnSync } from 'child_process';
import path from 'path';

import { lookupGroup, lookupGroupByName, lookupGroupByNameSync, lookupGroupSync, lookupUser, lookupUserByName, lookupUserByNameSync, lookupUserSync } from '../../lib/peer/users';
import { unmappedUid } from '../helpers/root';

describe('passwd and group lookups', () => {
  it('finds root by uid and by name, async and sync alike', async () => {
    const root = await lookupUser(0);
    expect(root).toMatchObject({ name: 'root', uid: 0, gid: 0 });
    expect(root!.rawName).toEqual(Buffer.from('root'));
    expect(lookupUserSync(0)).toEqual(root);
    expect(await lookupUserByName('root')).toEqual(root);
    expect(lookupUserByNameSync('root')).toEqual(root);
  });

  it('finds groups by gid and by name', async () => {
    const group = await lookupGroup(0);
    expect(group).toMatchObject({ name: 'root', gid: 0 });
    expect(Array.isArray(group!.members)).toBe(true);
    expect(lookupGroupSync(0)).toEqual(group);
    expect(await lookupGroupByName('root')).toEqual(group);
    expect(lookupGroupByNameSync('root')).toEqual(group);
  });

  it('answers null when there is no entry', async () => {
    const uid = unmappedUid();
    expect(await lookupUser(uid)).toBeNull();
    expect(lookupUserSync(uid)).toBeNull();
    expect(await lookupUserByName('no-such-user-auth-socket')).toBeNull();
    expect(await lookupGroupByName('no-such-group-auth-socket')).toBeNull();
  });

  it('never matches by accident: exact names only', async () => {
    expect(await lookupUserByName('ROOT')).toBeNull();
    expect(await lookupUserByName('root ')).toBeNull();
    expect(await lookupUserByName('')).toBeNull();
  });

  it('refuses bad keys with a clear error instead of looking up something else', () => {
    expect(() => lookupUserByName('root\0x')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => lookupGroupByNameSync('root\0')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    for (const bad of [-1, 1.5, 2 ** 32, NaN, '0']) {
      expect(() => lookupUser(bad as number)).toThrow(TypeError);
    }
    expect(() => lookupUserByName(7 as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('finds the highest uid without truncation', async () => {
    // 4294967295 is (uid_t)-1, never a real user: the lookup must not wrap it to something else.
    expect(await lookupUser(0xffffffff)).toBeNull();
  });

  it('runs async lookups on the thread pool, not on the event loop', () => {
    // With a pool of one thread held by a blocking FIFO open, a timer fires while the lookup is
    // still pending, and the lookup completes only after the pool thread is released.
    const probe = spawnSync(process.execPath, [path.join(__dirname, '..', 'fixtures', 'threadpool-probe.js')], {
      env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(probe.status).toBe(0);
    expect(JSON.parse(probe.stdout)).toEqual(['timer-fired-while-pool-busy', 'pool-released', 'lookup-done:root']);
  });
});
