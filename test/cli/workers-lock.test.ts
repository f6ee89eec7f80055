// serve --workers' catalog lock (lib/cli/workers.ts) against a save that is slow to finish: the
// lock stays taken until the save and its broadcast are done, whatever its holder does meanwhile
// (gives up waiting and releases, or dies), so two saves never overlap. Real worker processes
// cannot be made to release or die exactly while the primary's fsync runs, so the workers here
// are stand-ins speaking the primary's IPC messages, and the datadir's save ends when the test
// says; the rest of serve --workers runs for real in workers.test.ts.
import { Worker } from 'cluster';
import { EventEmitter } from 'events';

import { Primary } from '../../lib/cli/workers';

interface StandIn extends EventEmitter {
  inbox: Array<{ t: string; id?: number; generation?: number; error?: { code: string } }>;
  dead: boolean;
}

function setUp() {
  const saves: Array<{ state: unknown; done: () => void }> = [];
  let inFlight = 0;
  let mostAtOnce = 0;
  const events: string[] = [];
  const datadir = {
    dir: '/nonexistent',
    close: () => void events.push('datadir closed'),
    save: (state: unknown) =>
      new Promise<void>((resolve) => {
        mostAtOnce = Math.max(mostAtOnce, ++inFlight);
        saves.push({ state, done: () => (inFlight--, events.push('save done'), resolve()) });
      }),
  };
  const workers: StandIn[] = [];
  let pid = 1_000_000;
  const fork = () => {
    const worker = Object.assign(new EventEmitter(), { inbox: [], dead: false }) as StandIn;
    Object.assign(worker, {
      process: { pid: pid++, kill: () => worker.emit('exit', null, 'SIGKILL') },
      isConnected: () => !worker.dead,
      isDead: () => worker.dead,
      send: (message: { t: string; id: number }) => {
        worker.inbox.push(message);
        if (message.t === 'start') setImmediate(() => worker.emit('message', { t: 'ready' }));
        if (message.t === 'state') setImmediate(() => worker.emit('message', { t: 'answer', id: message.id }));
      },
    });
    workers.push(worker);
    return worker as unknown as Worker;
  };
  const notes: string[] = [];
  const primary = new Primary(
    { workers: 2 } as never,
    datadir as never,
    { state: () => ({ accounts: [], plugins: [] }) } as never,
    { note: (line: string) => notes.push(line), close: () => undefined } as never,
    { current: null, onReload: null, stop: () => undefined },
    fork,
  );
  return { primary, workers, saves, notes, events, mostAtOnce: () => mostAtOnce };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const granted = (worker: StandIn) => worker.inbox.some((message) => message.t === 'granted');

describe("serve --workers' catalog lock while the primary saves", () => {
  it.each([
    ['releases after its wait ran out', (worker: StandIn) => worker.emit('message', { t: 'release' })],
    ['dies', (worker: StandIn) => ((worker.dead = true), worker.emit('exit', null, 'SIGKILL'))],
  ])('the next worker gets the lock only once the save is done when its holder %s', async (_, leave) => {
    const { primary, workers, saves, mostAtOnce } = setUp();
    await primary.start();
    const [first, second] = workers;
    first.emit('message', { t: 'acquire', id: 1 });
    second.emit('message', { t: 'acquire', id: 1 });
    await turn();
    expect([granted(first), granted(second)]).toEqual([true, false]);
    first.emit('message', { t: 'save', id: 2, state: { accounts: ['one'], plugins: [] }, base: 0 });
    await turn();
    leave(first);
    await turn();
    expect(granted(second)).toBe(false);
    saves[0].done();
    // The broadcast of the saved state to the other worker(s), then the lock moves on.
    for (let i = 0; i < 5 && !granted(second); i++) await turn();
    expect(granted(second)).toBe(true);
    expect(second.inbox.map((message) => message.t)).toEqual(['start', 'state', 'granted']);
    expect(mostAtOnce()).toBe(1);
  });

  it('refuses a second save from the holder while its first is under way', async () => {
    const { primary, workers, saves } = setUp();
    await primary.start();
    const [first] = workers;
    first.emit('message', { t: 'acquire', id: 1 });
    await turn();
    first.emit('message', { t: 'save', id: 2, state: { accounts: ['one'], plugins: [] }, base: 0 });
    first.emit('message', { t: 'save', id: 3, state: { accounts: ['two'], plugins: [] }, base: 0 });
    await turn();
    expect(saves).toHaveLength(1);
    expect(first.inbox.find((message) => message.id === 3)).toMatchObject({ t: 'saved', error: { code: 'ERR_CATALOG_LOCK' } });
    saves[0].done();
  });

  it('refuses a save made on an older state: a worker that gave up on a save that then went through cannot undo it', async () => {
    const { primary, workers, saves } = setUp();
    await primary.start();
    const [first, second] = workers;
    first.emit('message', { t: 'acquire', id: 1 });
    await turn();
    first.emit('message', { t: 'save', id: 2, state: { accounts: ['one'], plugins: [] }, base: 0 });
    await turn();
    // It gave up waiting (its copy back at generation 0) and released; the save goes through.
    first.emit('message', { t: 'release' });
    saves[0].done();
    for (let i = 0; i < 5 && !first.inbox.some((message) => message.t === 'saved'); i++) await turn();
    expect(second.inbox.find((message) => message.t === 'state')).toMatchObject({ generation: 1 });
    // Its next change, made on generation 0, would drop 'one': refused, nothing saved.
    first.emit('message', { t: 'acquire', id: 3 });
    await turn();
    first.emit('message', { t: 'save', id: 4, state: { accounts: ['two'], plugins: [] }, base: 0 });
    await turn();
    expect(first.inbox.find((message) => message.id === 4)).toMatchObject({ t: 'saved', error: { code: 'ERR_CATALOG_STALE' } });
    expect(saves).toHaveLength(1);
    // Made on the state saved since, it goes through.
    first.emit('message', { t: 'save', id: 5, state: { accounts: ['one', 'two'], plugins: [] }, base: 1 });
    await turn();
    expect(saves).toHaveLength(2);
    saves[1].done();
  });

  it('lets the datadir go only once a save under way is done', async () => {
    const { primary, workers, saves, events } = setUp();
    await primary.start();
    const [first] = workers;
    first.emit('message', { t: 'acquire', id: 1 });
    await turn();
    first.emit('message', { t: 'save', id: 2, state: { accounts: ['one'], plugins: [] }, base: 0 });
    await turn();
    const stopped = primary.stop();
    // The stand-ins exit when told to stop.
    for (const worker of workers) ((worker.dead = true), worker.emit('exit', 0, null));
    for (let i = 0; i < 5; i++) await turn();
    expect(events).toEqual([]);
    saves[0].done();
    await stopped;
    expect(events).toEqual(['save done', 'datadir closed']);
  });
});
