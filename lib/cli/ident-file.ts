// The server's ident file (`[auth-socket] ident-file=PATH`, pg_ident.conf's form, for
// auth_socket_map): read at start, where an error stops the start, and again on SIGHUP, as
// PostgreSQL rereads pg_ident.conf on SIGHUP (postmaster.c's SIGHUP_handler, load_ident()). A
// reload replaces the map whole and at once; a file that does not load leaves the map in force
// as it was (fail closed: never a half-read map, never none), and says so in the error log.
// Logins already under way keep the map they began with (the catalog hands each its own).
// Under --workers only the primary opens the file and asks NSS for its groups: workers parse the
// bytes it checked and take the gids it resolved (workers.ts), so every process runs the same map
// and none depends on the file, or on NSS, as they are now.
import { IdentMap, IdentMapGroups, identMapGroups, identMapOf, readIdentFile } from '../peer/ident-map';
import { Catalog } from '../server/catalog/catalog';
import { ErrorLog } from './error-log';

/** A loaded ident file: the checked bytes it was parsed from, the gids of its @groups, and its map. */
export interface IdentFile {
  file: string;
  bytes: Buffer;
  groups: IdentMapGroups;
  map: IdentMap;
}

// An error names the option and the file (a syntax error, its line too).
async function named(file: string, load: () => Promise<IdentFile>): Promise<IdentFile> {
  try {
    return await load();
  } catch (error) {
    const failure = error as NodeJS.ErrnoException;
    throw Object.assign(new Error(`ident-file ${file}: ${failure.message}`), { code: failure.code ?? 'ERR_IDENT_MAP', cause: error });
  }
}

// The map in `bytes`, its @groups resolved (those in `known` as given), with what a worker needs.
async function parsed(file: string, bytes: Buffer, known: IdentMapGroups): Promise<IdentFile> {
  const map = await identMapOf(bytes, file, known);
  return { file, bytes, groups: await identMapGroups(map), map };
}

/** The ident file at `file`, read, checked and parsed. */
export const loadIdentFile = (file: string): Promise<IdentFile> => named(file, async () => parsed(file, await readIdentFile(file), []));

/** The map in bytes already read from `file`, its groups taken from `known` (a worker's copy of the primary's). */
export const identFileOf = (file: string, bytes: Buffer, known: IdentMapGroups = []): Promise<IdentFile> => named(file, () => parsed(file, bytes, known));

// What a map holds, for the log.
const describeIdentMap = (map: IdentMap): string => {
  const maps = [...new Set(map.lines.map((line) => line.map))];
  return `${map.lines.length} line${map.lines.length === 1 ? '' : 's'}, map${maps.length === 1 ? '' : 's'} ${maps.join(', ') || '(none)'}`;
};

/** The ident file in force, reloaded on SIGHUP until stop(). */
export interface IdentFileWatch {
  /** The file as last loaded, or null without an ident file. */
  current: IdentFile | null;
  /** Hears each reload once this process took it (serve's primary passes it to its workers): what to add to the log's line; never rejects. */
  onReload: ((loaded: IdentFile) => Promise<string>) | null;
  stop(): void;
}

/**
 * Loads the ident file at start (an error stops it) into `catalog`, and reloads it on every
 * SIGHUP, logging the outcome. Reloads finish in the order they began: a slow one never replaces
 * what a later one loaded.
 */
export async function watchIdentFile(file: string | null, catalog: Catalog, log: Pick<ErrorLog, 'note'>): Promise<IdentFileWatch> {
  if (file === null) return { current: null, onReload: null, stop: () => undefined };
  const first = await loadIdentFile(file);
  const watch: IdentFileWatch = { current: first, onReload: null, stop: () => process.off('SIGHUP', listener) };
  catalog.setIdentMap(first.map);
  log.note(`ident-file ${file} loaded: ${describeIdentMap(first.map)}`);
  let started = 0;
  let applied = 0;
  const reload = async () => {
    const attempt = ++started;
    let loaded: IdentFile;
    try {
      loaded = await loadIdentFile(file);
    } catch (error) {
      return log.note(`SIGHUP: ${(error as Error).message}; the ident map loaded before stays in force (a map is used whole or not at all)`, 'ERROR');
    }
    if (attempt < applied) return;
    applied = attempt;
    watch.current = loaded;
    catalog.setIdentMap(loaded.map);
    const shared = (await watch.onReload?.(loaded)) ?? '';
    log.note(`SIGHUP: ident-file ${file} reloaded: ${describeIdentMap(loaded.map)}${shared}`);
  };
  const listener = () => void reload();
  process.on('SIGHUP', listener);
  return watch;
}
