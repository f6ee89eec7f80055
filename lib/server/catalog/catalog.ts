// The catalog: accounts and plugins, the only mutable server state (sql/auth/sql_auth_cache.cc's
// role), with the datadir that keeps it. Every change runs alone, is applied in memory and made
// durable before it is acknowledged; a change that cannot be made durable is undone and fails.
// With several server processes (serve --workers) each has a copy, kept equal by its store.
import type { AccountRow, CatalogState } from '../datadir/datadir';
import type { IdentMap } from '../../peer/ident-map';
import { PluginRow } from './plugins';
import { sqlError } from '../sql-error';
import { Accounts } from './accounts';
import { ServerPlugins } from './plugins';

/**
 * Where changes are made durable: the Datadir itself in a server of one process; in a worker,
 * the primary process that owns the datadir and hands the new state to every other worker.
 */
export interface CatalogStore {
  readonly dir: string;
  save(state: CatalogState): Promise<void>;
  /** Keeps every other process from changing the catalog until the release it resolves with is called. */
  acquire?(): Promise<() => void>;
}

/** Accounts from stored rows; throws at the first row that does not load, naming it. */
export function accountsFromRows(rows: readonly AccountRow[]): Accounts {
  const accounts = new Accounts();
  rows.forEach((row, i) => {
    try {
      accounts.create(row);
    } catch (error) {
      throw new Error(`account row ${i}: ${(error as Error).message}`);
    }
  });
  return accounts;
}

export class Catalog {
  private queue: Promise<unknown> = Promise.resolve();
  private identMapSource: () => IdentMap | null = () => null;

  constructor(
    readonly accounts: Accounts,
    readonly plugins: ServerPlugins,
    private readonly store: CatalogStore | null,
    /** Installed rows whose library did not load at start: kept, as MySQL keeps its mysql.plugin rows. */
    private readonly unloadable: PluginRow[] = [],
  ) {}

  /** The datadir that keeps it; null for a catalog kept in memory only. */
  get dir(): string | null {
    return this.store?.dir ?? null;
  }

  /**
   * The server's ident map (ident-file) for auth_socket_map, or null: a login takes the one there
   * is when it begins and keeps it, whatever a reload puts here meanwhile. Not in the datadir.
   */
  get identMap(): IdentMap | null {
    return this.identMapSource();
  }

  /**
   * Replaces the ident map, whole and at once, for every login that begins from now on; a
   * function is asked at each login's start instead (a library's own reload).
   */
  setIdentMap(map: IdentMap | null | (() => IdentMap | null)): void {
    this.identMapSource = typeof map === 'function' ? map : () => map;
  }

  /** What the datadir stores. */
  state(): CatalogState {
    const accounts = this.accounts.list().map(({ attributes, or, ...account }) => ({
      ...account,
      privileges: [...account.privileges],
      ...(attributes ? { attributes } : {}),
      // Written only when there is a chain, so a state without one loads in a server from before them.
      ...(or.length > 0 ? { or: or.map(({ plugin, authenticationString }) => ({ plugin, authenticationString })) } : {}),
    }));
    return { accounts, plugins: [...this.plugins.installedRows(), ...this.unloadable] };
  }

  /** Forgets an installed row whose plugin never loaded (UNINSTALL PLUGIN of it); false when there is none. */
  dropUnloadable(name: string): boolean {
    const at = this.unloadable.findIndex((row) => row.name.toLowerCase() === name.toLowerCase());
    if (at >= 0) this.unloadable.splice(at, 1);
    return at >= 0;
  }

  /**
   * Takes a state another process made durable, between this process's own changes: the
   * accounts as they are there, and its installed plugins loaded or unloaded here too (one
   * whose library does not load here is kept as a row, as at a start).
   */
  adopt(state: CatalogState, onUnloadable: (row: PluginRow, error: Error) => void): void {
    this.accounts.restore(accountsFromRows(state.accounts).list());
    const wanted = new Set(state.plugins.map((row) => row.name.toLowerCase()));
    for (const row of this.plugins.installedRows()) {
      if (!wanted.has(row.name.toLowerCase())) this.plugins.uninstall(row.name);
    }
    const unloadable: PluginRow[] = [];
    for (const row of state.plugins) {
      if (this.plugins.get(row.name) !== undefined) continue;
      try {
        this.plugins.install(row.name, row.library);
      } catch (error) {
        unloadable.push(row);
        onUnloadable(row, error as Error);
      }
    }
    this.unloadable.splice(0, this.unloadable.length, ...unloadable);
  }

  /** Resolves once every change asked for so far is written (or failed). */
  idle(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  /**
   * Runs `apply` (which changes accounts or plugins, or throws and changes nothing) after every
   * earlier change, then makes the result durable; resolves with apply's result once it is.
   */
  change<T>(apply: () => T): Promise<T> {
    const run = this.queue.then(async () => {
      const release = await this.store?.acquire?.();
      try {
        return await this.applyDurably(apply);
      } finally {
        release?.();
      }
    });
    // The next change waits for this one, whatever its outcome.
    this.queue = run.catch(() => {});
    return run;
  }

  private async applyDurably<T>(apply: () => T): Promise<T> {
    const accounts = this.accounts.list();
    const plugins = this.plugins.list();
    const unloadable = [...this.unloadable];
    const undo = () => {
      this.accounts.restore(accounts);
      this.plugins.restore(plugins);
      this.unloadable.splice(0, this.unloadable.length, ...unloadable);
    };
    let result: T;
    try {
      result = apply();
    } catch (error) {
      undo();
      throw error;
    }
    if (this.store === null) return result;
    try {
      await this.store.save(this.state());
    } catch (error) {
      // Before the rename the old state stands, so memory goes back to it; after it the new
      // state is the file's, and memory keeps it, though its durability is not proven.
      if ((error as NodeJS.ErrnoException).code !== 'ERR_DATADIR_SYNC') undo();
      throw sqlError('ER_ERROR_ON_WRITE', this.store.dir, (error as NodeJS.ErrnoException).code ?? String(error));
    }
    return result;
  }
}
