// The server's ident file (`[auth-socket] ident-file=PATH`, pg_ident.conf's form, for
// auth_socket_map): read at start, where an error stops the start, and again on SIGHUP, as
// PostgreSQL rereads pg_ident.conf on SIGHUP (postmaster.c's SIGHUP_handler, load_ident()). A
// reload replaces the map whole and at once; a file that does not load leaves the map in force
// as it was (fail closed: never a half-read map, never none), and says so in the error log.
// Logins already under way keep the map they began with (the catalog hands each its own).
import cluster from 'cluster';

import { IdentMap, loadIdentMap } from '../peer/ident-map';
import { Catalog } from '../server/catalog/catalog';
import { ErrorLog } from './error-log';

/** The ident file's map; an error names the option and the file (a syntax error, its line too). */
export async function loadIdentFile(file: string): Promise<IdentMap> {
  try {
    return await loadIdentMap(file);
  } catch (error) {
    const failure = error as NodeJS.ErrnoException;
    throw Object.assign(new Error(`ident-file ${file}: ${failure.message}`), { code: failure.code ?? 'ERR_IDENT_MAP', cause: error });
  }
}

const describe = (map: IdentMap) => {
  const maps = [...new Set(map.lines.map((line) => line.map))];
  return `${map.lines.length} line${map.lines.length === 1 ? '' : 's'}, map${maps.length === 1 ? '' : 's'} ${maps.join(', ') || '(none)'}${whose()}`;
};

// Under --workers each process keeps its own copy, and says so for itself.
const whose = () => (cluster.isWorker ? ` (worker ${process.pid})` : '');

/**
 * Reloads `file` into `catalog` on every SIGHUP, logging the outcome; in serve's primary process
 * (--workers) the signal is passed on to each worker, which reloads its own copy. Returns the
 * function that stops listening. Reloads finish in the order they began: a slow one never
 * replaces what a later one loaded.
 */
export function reloadOnHangup(file: string, catalog: Catalog, log: Pick<ErrorLog, 'note'>): () => void {
  let started = 0;
  let applied = 0;
  const reload = async () => {
    const attempt = ++started;
    if (cluster.isPrimary) {
      // Our own children, by their pids.
      for (const worker of Object.values(cluster.workers ?? {})) if (worker?.isConnected()) worker.process.kill('SIGHUP');
    }
    try {
      const map = await loadIdentFile(file);
      if (attempt < applied) return;
      applied = attempt;
      catalog.setIdentMap(map);
      log.note(`SIGHUP: ident-file ${file} reloaded: ${describe(map)}`);
    } catch (error) {
      log.note(`SIGHUP: ${(error as Error).message}; the ident map loaded before stays in force${whose()} (a map is used whole or not at all)`, 'ERROR');
    }
  };
  const listener = () => void reload();
  process.on('SIGHUP', listener);
  return () => process.off('SIGHUP', listener);
}

/** Loads the ident file at start (an error stops it) and reloads it on SIGHUP; returns the stopper. */
export async function useIdentFile(file: string | null, catalog: Catalog, log: Pick<ErrorLog, 'note'>): Promise<() => void> {
  if (file === null) return () => undefined;
  const map = await loadIdentFile(file);
  catalog.setIdentMap(map);
  log.note(`ident-file ${file} loaded: ${describe(map)}`);
  return reloadOnHangup(file, catalog, log);
}
