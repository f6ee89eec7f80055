// The catalog: accounts and plugins, the only mutable server state (sql/auth/sql_auth_cache.cc's
// role), with the datadir that keeps it. Every change runs alone, is applied in memory and made
// durable before it is acknowledged; a change that cannot be made durable is undone and fails.
import { Datadir, CatalogState } from '../datadir/datadir';
import { PluginRow } from './plugins';
import { sqlError } from '../sql-error';
import { Accounts } from './accounts';
import { ServerPlugins } from './plugins';

export class Catalog {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly accounts: Accounts,
    readonly plugins: ServerPlugins,
    private readonly datadir: Datadir | null,
    /** Installed rows whose library did not load at start: kept, as MySQL keeps its mysql.plugin rows. */
    private readonly unloadable: PluginRow[] = [],
  ) {}

  /** What the datadir stores. */
  state(): CatalogState {
    const accounts = this.accounts.list().map(({ attributes, ...account }) => ({
      ...account,
      privileges: [...account.privileges],
      ...(attributes ? { attributes } : {}),
    }));
    return { accounts, plugins: [...this.plugins.installedRows(), ...this.unloadable] };
  }

  /** Forgets an installed row whose plugin never loaded (UNINSTALL PLUGIN of it); false when there is none. */
  dropUnloadable(name: string): boolean {
    const at = this.unloadable.findIndex((row) => row.name.toLowerCase() === name.toLowerCase());
    if (at >= 0) this.unloadable.splice(at, 1);
    return at >= 0;
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
      if (this.datadir === null) return result;
      try {
        await this.datadir.save(this.state());
      } catch (error) {
        // Before the rename the old state stands, so memory goes back to it; after it the new
        // state is the file's, and memory keeps it, though its durability is not proven.
        if ((error as NodeJS.ErrnoException).code !== 'ERR_DATADIR_SYNC') undo();
        throw sqlError('ER_ERROR_ON_WRITE', this.datadir.dir, (error as NodeJS.ErrnoException).code ?? String(error));
      }
      return result;
    });
    // The next change waits for this one, whatever its outcome.
    this.queue = run.catch(() => {});
    return run;
  }
}
