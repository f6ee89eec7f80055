// A worker of `auth-socket serve --workers=N` (workers.ts has the primary and the whole design):
// it serves its own copy of the catalog, changed only under the primary's lock and saved through
// it, and the ident map the primary loaded, parsed from the bytes it sends.
import cluster from 'cluster';

import { ServeOptions } from '../config/serve-options';
import { codedError } from '../errors';
import { Catalog, CatalogStore } from '../server/catalog/catalog';
import type { CatalogState } from '../server/datadir/datadir';
import { shareConnectionIds } from '../server/connection-ids';
import { sqlError } from '../server/sql-error';
import { StatusSource } from '../server/status';
import { ErrorLog } from './error-log';
import { identFileOf } from './ident-file';
import { catalogOf, serveCatalog, ServingCatalog, upstreamOptions } from './serve';
import { IdentBytes, REQUEST_BOUND_MS, ToPrimary, ToWorker } from './worker-messages';

/** A worker: its catalog is a copy that changes only through the primary (see the top of workers.ts). */
export function runWorker(options: ServeOptions, log: ErrorLog): void {
  // The primary reloads the ident file and hands over its map: a hangup sent to the whole
  // process group must not end a worker (Node's default for SIGHUP), even one still starting.
  process.on('SIGHUP', () => undefined);
  const send = (message: ToPrimary) => process.connected && process.send!(message);
  const waits = new Map<number, (message: ToWorker) => void>();
  let nextId = 0;
  // A reply that does not come in REQUEST_BOUND_MS rejects with `late()`.
  const request = (message: (id: number) => ToPrimary, late: () => Error): Promise<ToWorker> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waits.delete(id);
        reject(late());
      }, REQUEST_BOUND_MS);
      waits.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      send(message(id));
    });
  let catalog: Catalog | null = null;
  let serving: ServingCatalog | null = null;
  let identVersion = -1;
  // The generation of the state this copy holds (workers.ts): a save says what it was made on.
  let generation = 0;
  // The primary's ident map, parsed here from its bytes; a reload that crossed a later one is dropped.
  const takeIdent = async (into: Catalog, ident: IdentBytes) => {
    const { map } = await identFileOf(ident.file, Buffer.from(ident.base64, 'base64'), ident.groups);
    if (ident.version <= identVersion) return;
    identVersion = ident.version;
    into.setIdentMap(map);
  };

  const start = async (slot: number, dir: string, state: CatalogState, ident: IdentBytes | null) => {
    shareConnectionIds(slot, options.workers);
    const store: CatalogStore = {
      dir,
      acquire: async () => {
        await request((id) => ({ t: 'acquire', id }), () => sqlError('ER_LOCK_WAIT_TIMEOUT'));
        return () => send({ t: 'release' });
      },
      save: async (next) => {
        const reply = await request(
          (id) => ({ t: 'save', id, state: next, base: generation }),
          () => {
            // The primary may still save it: this copy cannot know, so it makes way for one that starts from the primary's state.
            log.note(`worker ${process.pid}: the primary did not confirm a save within ${REQUEST_BOUND_MS / 1000} s: this worker stops`, 'ERROR');
            process.exitCode = 1;
            setImmediate(stop);
            return codedError('ERR_PRIMARY_TIMEOUT', 'the primary did not confirm the save');
          },
        );
        // Only a reply waited for: a late one is of a save this copy has undone.
        if (reply.t === 'saved' && reply.generation !== undefined) generation = reply.generation;
        if (reply.t === 'saved' && reply.error) throw codedError(reply.error.code, reply.error.message);
      },
    };
    // The primary said what did not load at its start; saying it again per worker is noise.
    catalog = catalogOf(store, state, options, { note: () => undefined }).catalog;
    if (ident !== null) await takeIdent(catalog, ident);
    // SHOW STATUS and FLUSH STATUS are the whole server's: the primary asks every worker.
    const timeout = () => sqlError('ER_STATEMENT_TIMEOUT');
    const status: StatusSource = {
      values: async () => (await request((id) => ({ t: 'status', id }), timeout) as Extract<ToWorker, { t: 'status' }>).values!,
      flush: async () => void (await request((id) => ({ t: 'flush-status', id }), timeout)),
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
        generation = message.generation;
        return void start(message.slot, message.dir, message.state, message.ident).then(
          () => send({ t: 'ready' }),
          (error) => {
            send({ t: 'failed', message: (error as Error).message });
            process.exitCode = 1;
            if (process.connected) process.disconnect();
          },
        );
      case 'state':
        generation = message.generation;
        catalog?.adopt(message.state, (row, error) => log.note(`installed plugin ${row.name} (${row.library}) was not loaded: ${error.message}`));
        return send({ t: 'answer', id: message.id });
      case 'ident':
        // No process may run another map than the primary's: one that cannot take it stops, and its replacement starts with it.
        return void takeIdent(catalog!, message.ident).then(
          () => send({ t: 'answer', id: message.id }),
          (error) => {
            log.note(`worker ${process.pid} could not take the reloaded ${(error as Error).message}: this worker stops`, 'ERROR');
            process.exitCode = 1;
            stop();
          },
        );
      case 'report':
        return send({ t: 'answer', id: message.id, values: serving?.server.statusValues() });
      case 'flush':
        serving?.server.flushStatus();
        return send({ t: 'answer', id: message.id });
      case 'granted':
      case 'saved':
      case 'status': {
        const waiting = waits.get(message.id);
        waits.delete(message.id);
        // The lock granted after its wait was given up: handed straight back, or nobody could change the catalog again.
        if (waiting === undefined && message.t === 'granted') return void send({ t: 'release' });
        return waiting?.(message);
      }
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
