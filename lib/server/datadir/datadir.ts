// The datadir: where the catalog (the mysql.user and mysql.plugin rows) lives between runs, as
// MySQL's data directory holds the mysql schema. One JSON file, readable by the server's user
// only, replaced atomically before a change is acknowledged (written beside it, fsynced, renamed
// over it, the directory fsynced), so a kill -9 at any instant leaves the old state or the new
// one. A state that does not read back stops the start: it never starts empty over it. One
// server at a time: a lock held for the life of the process.
import fs from 'fs';
import net from 'net';
import path from 'path';

import { codedError } from '../../errors';
import type { Privilege } from '../catalog/accounts';
import type { PluginRow } from '../catalog/plugins';

const STATE_FILE = 'auth-socket-catalog.json';
const FORMAT = 1;

/** A mysql.user row as stored. */
export interface AccountRow {
  user: string;
  host: string;
  plugin: string;
  authenticationString: string;
  privileges: Privilege[];
  grantOption: boolean;
}

export interface CatalogState {
  accounts: AccountRow[];
  plugins: PluginRow[];
}

function corrupt(file: string, why: string): Error {
  return codedError('ERR_DATADIR_CORRUPT', `the datadir's state ${file} cannot be read back (${why}); fix or restore it: the server does not start empty over it`);
}

const isString = (value: unknown): value is string => typeof value === 'string';

function checkState(file: string, parsed: unknown): CatalogState {
  const state = parsed as { format?: unknown; accounts?: unknown; plugins?: unknown };
  if (typeof state !== 'object' || state === null || state.format !== FORMAT) throw corrupt(file, `not format ${FORMAT}`);
  if (!Array.isArray(state.accounts) || !Array.isArray(state.plugins)) throw corrupt(file, 'accounts and plugins must be lists');
  for (const row of state.accounts as AccountRow[]) {
    const ok = [row?.user, row?.host, row?.plugin, row?.authenticationString].every(isString) && Array.isArray(row.privileges) && typeof row.grantOption === 'boolean';
    if (!ok) throw corrupt(file, `bad account row ${JSON.stringify(row)?.slice(0, 200)}`);
  }
  for (const row of state.plugins as PluginRow[]) {
    if (![row?.name, row?.library].every(isString)) throw corrupt(file, `bad plugin row ${JSON.stringify(row)?.slice(0, 200)}`);
  }
  return { accounts: state.accounts as AccountRow[], plugins: state.plugins as PluginRow[] };
}

// The lock: an abstract Unix socket named after the datadir's real path. The kernel frees it
// when the process dies, however it dies, so a crash leaves no stale lock to clean up.
function lock(dir: string): Promise<net.Server> {
  const server = net.createServer((socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? codedError('ERR_DATADIR_IN_USE', `another auth-socket server is running on the datadir ${dir}`)
          : error,
      ),
    );
    server.listen({ path: `\0auth-socket-datadir:${dir}` }, () => resolve(server.unref()));
  });
}

export class Datadir {
  private constructor(
    readonly dir: string,
    private readonly lockServer: net.Server,
  ) {}

  private get file(): string {
    return path.join(this.dir, STATE_FILE);
  }

  /**
   * Opens (creating it, mode 0700, when missing) and locks the datadir, and reads its state:
   * null on a first start. Throws ERR_DATADIR_IN_USE, ERR_DATADIR_CORRUPT, or the file system's
   * own error (EACCES, ENOTDIR, ...).
   */
  static async open(dir: string): Promise<{ datadir: Datadir; state: CatalogState | null }> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const real = fs.realpathSync(dir);
    const datadir = new Datadir(real, await lock(real));
    try {
      // A write that a crash interrupted before its rename: the state it was to replace stands.
      fs.rmSync(`${datadir.file}.tmp`, { force: true });
      let text: string;
      try {
        text = fs.readFileSync(datadir.file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { datadir, state: null };
        throw error;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw corrupt(datadir.file, (error as Error).message);
      }
      return { datadir, state: checkState(datadir.file, parsed) };
    } catch (error) {
      datadir.close();
      throw error;
    }
  }

  /** Replaces the state durably: resolves once a crash can no longer lose it. */
  async save(state: CatalogState): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const file = await fs.promises.open(tmp, 'w', 0o600);
    try {
      await file.writeFile(`${JSON.stringify({ format: FORMAT, ...state }, null, 1)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await fs.promises.rename(tmp, this.file);
    // The rename itself is durable only once the directory is.
    const directory = await fs.promises.open(this.dir, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }

  /** Releases the lock. */
  close(): void {
    this.lockServer.close();
  }
}
