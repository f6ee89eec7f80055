// `auth-socket serve --workers=N`: N server processes accepting on the same listening sockets,
// each with its own event loop, so a handshake-bound server uses every core (mysqld does it with
// threads; nginx and PgBouncer's so_reuseport with processes, as here). Node's cluster with
// SCHED_NONE shares the listening handle and lets the kernel give each connection to whichever
// worker is waiting in accept(). The primary owns what must stay single: the datadir's lock and
// writes, and the order of catalog changes. A worker changes its copy only under the primary's
// lock, saves through it, and its client hears OK only once every other worker has taken the new
// state, so a login on any worker after that OK sees the change. A worker that does not answer
// in time is ended (its replacement starts from the primary's state), and a worker gives up on a
// primary that does not answer, so no statement waits forever. Only the primary reads the ident
// file and resolves its groups: workers take the bytes it checked and the gids it found, at start
// and after each reload it made.
import cluster, { Worker } from 'cluster';

import { ServeOptions } from '../config/serve-options';
import { codedError } from '../errors';
import { Catalog } from '../server/catalog/catalog';
import type { CatalogState, Datadir } from '../server/datadir/datadir';
import { combineStatus, StatusValues } from '../server/status';
import { ErrorLog } from './error-log';
import { IdentFile, IdentFileWatch } from './ident-file';
import { noteUnverifiedUpstream, openCatalog, readyNote } from './serve';
import type { IdentBytes, ToPrimary, ToWorker } from './worker-messages';

// A worker that keeps dying is a broken configuration, not bad luck: past this many exits in
// RESTART_WINDOW_MS the server stops instead of forking forever.
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 10_000;
// After a stop request: the sessions' grace (5 s) and some more before a worker is killed.
const STOP_BOUND_MS = 8_000;
// How long the primary waits for every worker to take a state (or report status) before it ends
// the silent ones: a stopped worker must not hold CREATE USER back forever.
const ASK_BOUND_MS = 5_000;

/** The primary's side: the catalog's single writer and the workers' keeper. */
export class Primary {
  private state: CatalogState;
  // Each worker by its slot, which fixes its share of the connection ids; a replacement takes the slot of the one it replaces.
  private readonly workers = new Map<Worker, number>();
  private holder: Worker | null = null;
  // Counts the states saved: a save made on an older one than this (its worker gave up on an
  // earlier save that then went through, and undid it) would silently undo that save: refused.
  private generation = 0;
  // A save and its broadcast under way: the lock is not handed on until they are done, whatever
  // its holder does meanwhile (gives up waiting and releases, or dies), so saves never overlap;
  // and the datadir is not let go before it is done.
  private saving: Promise<void> | null = null;
  private readonly waiting: Array<{ worker: Worker; id: number }> = [];
  // What was asked of every worker (take a state, report or flush status): who is yet to answer, what came.
  private readonly pending = new Map<number, { left: Set<Worker>; answers: StatusValues[]; done: (answers: StatusValues[]) => void }>();
  private nextAsk = 0;
  private restarts: number[] = [];
  private stopping: Promise<void> | null = null;
  private identVersion = 0;

  constructor(
    private readonly options: ServeOptions,
    private readonly datadir: Datadir,
    catalog: Catalog,
    private readonly log: ErrorLog,
    private readonly ident: IdentFileWatch,
    private readonly forkWorker: () => Worker = () => cluster.fork(),
  ) {
    this.state = catalog.state();
    ident.onReload = (loaded) => this.shareIdent(loaded);
  }

  /** Forks every worker; resolves once all listen, rejects when one cannot. */
  start(): Promise<void> {
    return Promise.all(Array.from({ length: this.options.workers }, (_, slot) => this.fork(slot))).then(() => undefined);
  }

  private fork(slot: number): Promise<void> {
    const worker = this.forkWorker();
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
    const { current } = this.ident;
    this.send(worker, { t: 'start', slot, dir: this.datadir.dir, state: this.state, generation: this.generation, ident: current === null ? null : this.identBytes(current) });
    return ready;
  }

  private identBytes(loaded: IdentFile): IdentBytes {
    return { file: loaded.file, base64: loaded.bytes.toString('base64'), groups: loaded.groups, version: this.identVersion };
  }

  /** A reload the primary made, taken by every worker before the reload is logged as done. */
  private async shareIdent(loaded: IdentFile): Promise<string> {
    this.identVersion++;
    const ident = this.identBytes(loaded);
    await this.askAll((id) => ({ t: 'ident', id, ident }));
    return `, by all ${this.workers.size} workers`;
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
        // Only the holder may save, one save at a time: anything else is a worker out of step, refused.
        if (this.holder !== worker || this.saving !== null) return this.send(worker, { t: 'saved', id: message.id, error: { code: 'ERR_CATALOG_LOCK', message: 'saved without the catalog lock' } });
        if (message.base !== this.generation) return this.send(worker, { t: 'saved', id: message.id, error: { code: 'ERR_CATALOG_STALE', message: 'the change was made on an older catalog than the one saved since' } });
        this.saving = this.saveAndShare(worker, message.id, message.state)
          .catch((error) => this.log.note(`a catalog save failed: ${(error as Error).message}`, 'ERROR'))
          .finally(() => {
            this.saving = null;
            this.grant();
          });
        return;
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
    while (this.holder === null && this.saving === null && this.waiting.length > 0) {
      const { worker, id } = this.waiting.shift()!;
      if (!this.workers.has(worker)) continue;
      this.holder = worker;
      this.send(worker, { t: 'granted', id });
    }
  }

  private async saveAndShare(worker: Worker, id: number, state: CatalogState): Promise<void> {
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
    const generation = ++this.generation;
    await this.askAll((broadcast) => ({ t: 'state', id: broadcast, state, generation }), worker);
    this.send(worker, { t: 'saved', id, generation, ...(failure ? { error: { code: failure.code!, message: failure.message } } : {}) });
  }

  /**
   * Sends `message` to every worker but `except`; resolves with their answers once each answered
   * or died. One silent for ASK_BOUND_MS is killed, and counts as died once it exited.
   */
  private askAll(message: (id: number) => ToWorker, except?: Worker): Promise<StatusValues[]> {
    const id = this.nextAsk++;
    const left = new Set([...this.workers.keys()].filter((worker) => worker !== except));
    return new Promise((done) => {
      if (left.size === 0) return done([]);
      const silent = setTimeout(() => {
        for (const worker of left) {
          this.log.note(`worker ${worker.process.pid} did not answer within ${ASK_BOUND_MS / 1000} s: ending it`, 'Warning');
          // Our own child, by its pid.
          worker.process.kill('SIGKILL');
        }
      }, ASK_BOUND_MS);
      const answered = (answers: StatusValues[]) => {
        clearTimeout(silent);
        done(answers);
      };
      this.pending.set(id, { left, answers: [], done: answered });
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
    this.ident.stop();
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
    await this.saving;
    this.datadir.close();
    this.log.note('shutdown complete');
    this.log.close();
  }
}

/** Starts the primary: opens the datadir and catalog as a one-process start does, then forks the workers. */
export async function startPrimary(options: ServeOptions, log: ErrorLog): Promise<{ datadir: Datadir; stop(): Promise<void> }> {
  const { datadir, catalog, upstream, ident } = await openCatalog(options, log);
  // Before the first fork: the kernel, not the primary, hands out connections.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const primary = new Primary(options, datadir, catalog, log, ident);
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
