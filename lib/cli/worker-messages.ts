// What serve's primary and its workers say to each other over the cluster's IPC channel
// (workers.ts is the primary's side, worker.ts a worker's): requests carry an id the answer
// repeats, so several can be in flight.
import type { IdentMapGroups } from '../peer/ident-map';
import type { CatalogState } from '../server/datadir/datadir';
import type { StatusValues } from '../server/status';

export type ToPrimary =
  | { t: 'ready' }
  | { t: 'failed'; message: string }
  | { t: 'acquire'; id: number }
  | { t: 'release' }
  // base: the generation of the state the change was made on.
  | { t: 'save'; id: number; state: CatalogState; base: number }
  | { t: 'answer'; id: number; values?: StatusValues }
  | { t: 'status'; id: number }
  | { t: 'flush-status'; id: number }
  | { t: 'shutdown' };

// The primary's ident file as it loaded it, with the gids it resolved; version orders reloads
// that cross on the way.
export interface IdentBytes {
  file: string;
  base64: string;
  groups: IdentMapGroups;
  version: number;
}

export type ToWorker =
  | { t: 'start'; slot: number; dir: string; state: CatalogState; generation: number; ident: IdentBytes | null }
  | { t: 'ident'; id: number; ident: IdentBytes }
  | { t: 'granted'; id: number }
  // generation: present when the saved state is now the primary's (even with an error after the rename).
  | { t: 'saved'; id: number; generation?: number; error?: { code: string; message: string } }
  | { t: 'state'; id: number; state: CatalogState; generation: number }
  | { t: 'report'; id: number }
  | { t: 'flush'; id: number }
  | { t: 'status'; id: number; values?: StatusValues }
  | { t: 'stop' };

// How long a worker waits for the primary (the catalog lock, a save, the whole server's status):
// past a few of the primary's own bounds (workers.ts), so only a primary that is stuck makes it give up.
export const REQUEST_BOUND_MS = 15_000;
