// `auth-socket serve --workers=N`: N server processes accepting on the same listening sockets,
// each with its own event loop, so a handshake-bound server uses every core (mysqld does it with
// threads; nginx and PgBouncer's so_reuseport with processes, as here). Node's cluster with
// SCHED_NONE shares the listening handle and lets the kernel give each connection to whichever
// worker is waiting in accept(). The primary owns what must stay single: the datadir's lock and
// writes, and the order of catalog changes. A worker changes its copy only under the primary's
// lock, saves through it, and its client hears OK only once every other worker has taken the new
// state, so a login on any worker after that OK sees the change.
import cluster, { Worker } from 'cluster';

import { ServeOptions } from '../config/serve-options';
import { codedError } from '../errors';
import { Catalog, CatalogStore } from '../server/catalog/catalog';
import type { CatalogState, Datadir } from '../server/datadir/datadir';
import { shareConnectionIds } from '../server/connection-ids';
import { combineStatus, StatusSource, StatusValues } from '../server/status';
import { ErrorLog } from './error-log';
import { catalogOf, noteUnverifiedUpstream, openCatalog, readyNote, serveCatalog, ServingCatalog, upstreamOptions } from './serve';

type ToPrimary =
  | { t: 'ready' }
  | { t: 'failed'; message: string }
  | { t: 'acquire'; id: number }
  | { t: 'release' }
  | { t: 'save'; id: number; state: CatalogState }
  | { t: 'answer'; id: number; values?: StatusValues }
  | { t: 'status'; id: number }
  | { t: 'flush-status'; id: number }
  | { t: 'shutdown' };

type ToWorker =
  | { t: 'start'; slot: number; dir: string; state: CatalogState }
  | { t: 'granted'; id: number }
  | { t: 'saved'; id: number; error?: { code: string; message: string } }
  | { t: 'state'; id: number; state: CatalogState }
  | { t: 'report'; id: number }
  | { t: 'flush'; id: number }
  | { t: 'status'; id: number; values?: StatusValues }
  | { t: 'stop' };

// A worker that keeps dying is a broken configuration, not bad luck: past this many exits in
// RESTART_WINDOW_MS the server stops instead of forking forever.
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 10_000;
// After a stop request: the sessions' grace (5 s) and some more before a worker is killed.
const STOP_BOUND_MS = 8_000;

/** The primary's side: the catalog's single writer and the workers' keeper. */
class Primary {
  private state: CatalogState;
  // Each worker by its slot, which fixes its share of the connection ids; a replacement takes the slot of the one it replaces.
  private readonly workers = new Map<Worker, number>();
  private holder: Worker | null = null;
  private readonly waiting: Array<{ worker: Worker; id: number }> = [];
  // What was asked of every worker (take a state, report or flush status): who is yet to answer, what came.
  private readonly pending = new Map<number, { left: Set<Worker>; answers: StatusValues[]; done: (answers: StatusValues[]) => void }>();
  private nextAsk = 0;
  private restarts: number[] = [];
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly options: ServeOptions,
    private readonly datadir: Datadir,
    catalog: Catalog,
    private readonly log: ErrorLog,
  ) {
    this.state = catalog.state();
  }

  /** Forks every worker; resolves once all listen, rejects when one cannot. */
  start(): Promise<void> {
    return Promise.all(Array.from({ length: this.options.workers }, (_, slot) => this.fork(slot))).then(() => undefined);
  }

  private fork(slot: number): Promise<void> {
    const worker = cluster.fork();
    this.workers.set(worker, slot);
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: ToPrimary) => {
        if (message.t === 'ready') resolve();
        else if (message.t === 'failed') reject(codedError('ERR_WORKER_START', message.message));
        else this.onMessage(worker, message);
      });
      worker.once('exit', (code, signal) => {
        reject(codedError('ERR_WORKER_START', `worker ${worker.process.pid} exited (${signal ?? code}) before it listened`));
        this.onExit(worker, code, signal);
      });
    });
    this.send(worker, { t: 'start', slot, dir: this.datadir.dir, state: this.state });
    return ready;
  }

  private send(worker: Worker, message: ToWorker): void {
    // A worker that just died cannot be told anything: its exit handler tidies up after it.
    if (worker.isConnected()) worker.send(message);
  }

  private onMessage(worker: Worker, message: ToPrimary): void {
    switch (message.t) {
      case 'acquire':
        this.waiting.push({ worker, id: message.id });
        return this.grant();
      case 'release':
        if (this.holder === worker) this.holder = null;
        return this.grant();
      case 'save':
        // Only the holder may save: anything else is a worker out of step, refused.
        if (this.holder !== worker) return this.send(worker, { t: 'saved', id: message.id, error: { code: 'ERR_CATALOG_LOCK', message: 'saved without the catalog lock' } });
        return void this.save(worker, message.id, message.state);
      case 'answer':
        return this.answered(worker, message.id, message.values);
      case 'status':
        return void this.askAll((id) => ({ t: 'report', id })).then((parts) => this.send(worker, { t: 'status', id: message.id, values: combineStatus(parts) }));
      case 'flush-status':
        return void this.askAll((id) => ({ t: 'flush', id })).then(() => this.send(worker, { t: 'status', id: message.id }));
      case 'shutdown':
        void this.stop();
    }
  }

  private grant(): void {
    while (this.holder === null && this.waiting.length > 0) {
      const { worker, id } = this.waiting.shift()!;
      if (!this.workers.has(worker)) continue;
      this.holder = worker;
      this.send(worker, { t: 'granted', id });
    }
  }

  private async save(worker: Worker, id: number, state: CatalogState): Promise<void> {
    let failure: NodeJS.ErrnoException | null = null;
    try {
      await this.datadir.save(state);
    } catch (error) {
      failure = error as NodeJS.ErrnoException;
      // Before the rename the old state stands; after it (a failed directory sync) the new one is the file's.
      if (failure.code !== 'ERR_DATADIR_SYNC') return this.send(worker, { t: 'saved', id, error: { code: failure.code ?? 'EIO', message: failure.message } });
    }
    this.state = state;
    // Every other worker takes the state before the change is acknowledged.
    await this.askAll((broadcast) => ({ t: 'state', id: broadcast, state }), worker);
    this.send(worker, { t: 'saved', id, ...(failure ? { error: { code: failure.code!, message: failure.message } } : {}) });
  }

  /** Sends `message` to every worker but `except`; resolves with their answers once each answered or died. */
  private askAll(message: (id: number) => ToWorker, except?: Worker): Promise<StatusValues[]> {
    const id = this.nextAsk++;
    const left = new Set([...this.workers.keys()].filter((worker) => worker !== except));
    return new Promise((done) => {
      if (left.size === 0) return done([]);
      this.pending.set(id, { left, answers: [], done });
      for (const worker of left) this.send(worker, message(id));
    });
  }

  private answered(worker: Worker, id: number, values?: StatusValues): void {
    const asked = this.pending.get(id);
    if (asked === undefined || !asked.left.delete(worker)) return;
    if (values !== undefined) asked.answers.push(values);
    if (asked.left.size === 0) {
      this.pending.delete(id);
      asked.done(asked.answers);
    }
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const slot = this.workers.get(worker)!;
    this.workers.delete(worker);
    for (const id of [...this.pending.keys()]) this.answered(worker, id);
    if (this.holder === worker) {
      this.holder = null;
      this.grant();
    }
    if (this.stopping !== null) return;
    const now = Date.now();
    this.restarts = [...this.restarts.filter((at) => now - at < RESTART_WINDOW_MS), now];
    if (this.restarts.length > MAX_RESTARTS) {
      this.log.note(`worker ${worker.process.pid} exited (${signal ?? code}); ${this.restarts.length} exits in ${RESTART_WINDOW_MS / 1000} s: stopping`);
      process.exitCode = 1;
      void this.stop();
      return;
    }
    this.log.note(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    this.fork(slot).catch((error) => this.log.note(`a replacement worker did not start: ${(error as Error).message}`));
  }

  /** Stops every worker (each gives its sessions their grace), then lets the datadir go. */
  stop(): Promise<void> {
    return (this.stopping ??= this.stopWorkers());
  }

  private async stopWorkers(): Promise<void> {
    this.log.note('shutting down');
    const exits = [...this.workers.keys()].map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          worker.once('exit', () => resolve());
          this.send(worker, { t: 'stop' });
          // Our own child, by its pid: one that does not stop in time is ended.
          setTimeout(() => worker.isDead() || worker.process.kill('SIGKILL'), STOP_BOUND_MS).unref();
        }),
    );
    await Promise.all(exits);
    this.datadir.close();
    this.log.note('shutdown complete');
    this.log.close();
  }
}

/** Starts the primary: opens the datadir and catalog as a one-process start does, then forks the workers. */
export async function startPrimary(options: ServeOptions, log: ErrorLog): Promise<{ datadir: Datadir; stop(): Promise<void> }> {
  const { datadir, catalog, upstream } = await openCatalog(options, log);
  // Before the first fork: the kernel, not the primary, hands out connections.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const primary = new Primary(options, datadir, catalog, log);
  try {
    await primary.start();
  } catch (error) {
    await primary.stop();
    throw error;
  }
  noteUnverifiedUpstream(upstream, log);
  log.note(readyNote(options, datadir));
  return { datadir, stop: () => primary.stop() };
}

/** A worker: its catalog is a copy that changes only through the primary (see the top of this file). */
export function runWorker(options: ServeOptions, log: ErrorLog): void {
  const send = (message: ToPrimary) => process.connected && process.send!(message);
  const waits = new Map<number, (message: ToWorker) => void>();
  let nextId = 0;
  const request = (message: (id: number) => ToPrimary): Promise<ToWorker> =>
    new Promise((resolve) => {
      const id = nextId++;
      waits.set(id, resolve);
      send(message(id));
    });
  let catalog: Catalog | null = null;
  let serving: ServingCatalog | null = null;

  const start = async (slot: number, dir: string, state: CatalogState) => {
    shareConnectionIds(slot, options.workers);
    const store: CatalogStore = {
      dir,
      acquire: async () => {
        await request((id) => ({ t: 'acquire', id }));
        return () => send({ t: 'release' });
      },
      save: async (next) => {
        const reply = await request((id) => ({ t: 'save', id, state: next }));
        if (reply.t === 'saved' && reply.error) throw codedError(reply.error.code, reply.error.message);
      },
    };
    // The primary said what did not load at its start; saying it again per worker is noise.
    catalog = catalogOf(store, state, options, { note: () => undefined }).catalog;
    // SHOW STATUS and FLUSH STATUS are the whole server's: the primary asks every worker.
    const status: StatusSource = {
      values: async () => (await request((id) => ({ t: 'status', id })) as Extract<ToWorker, { t: 'status' }>).values!,
      flush: async () => void (await request((id) => ({ t: 'flush-status', id }))),
    };
    serving = await serveCatalog(options, catalog, upstreamOptions(options), log, () => send({ t: 'shutdown' }), { status });
  };
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const closing = serving?.stop() ?? Promise.resolve();
    void closing.then(() => catalog?.idle()).then(() => {
      log.close();
      if (process.connected) process.disconnect();
    });
  };

  process.on('message', (message: ToWorker) => {
    switch (message.t) {
      case 'start':
        return void start(message.slot, message.dir, message.state).then(
          () => send({ t: 'ready' }),
          (error) => {
            send({ t: 'failed', message: (error as Error).message });
            process.exitCode = 1;
            if (process.connected) process.disconnect();
          },
        );
      case 'state':
        catalog?.adopt(message.state, (row, error) => log.note(`installed plugin ${row.name} (${row.library}) was not loaded: ${error.message}`));
        return send({ t: 'answer', id: message.id });
      case 'report':
        return send({ t: 'answer', id: message.id, values: serving?.server.statusValues() });
      case 'flush':
        serving?.server.flushStatus();
        return send({ t: 'answer', id: message.id });
      case 'granted':
      case 'saved':
      case 'status':
        waits.get(message.id)?.(message);
        waits.delete(message.id);
        return;
      case 'stop':
        return stop();
    }
  });
  // Ctrl-C reaches the whole process group: the primary decides, and tells every worker.
  process.on('SIGINT', () => undefined);
  // Killed on its own, a worker stops like a server; the primary starts another.
  process.on('SIGTERM', stop);
  // Without the primary nobody can save, and the listening socket is the primary's.
  process.on('disconnect', stop);
}

export const isWorker = (): boolean => cluster.isWorker;
