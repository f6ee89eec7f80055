// The datadir: where the catalog (the mysql.user and mysql.plugin rows) lives between runs, as
// MySQL's data directory holds the mysql schema. One JSON file, readable by the server's user
// only (the accounts' attributes hold secrets), replaced atomically before a change is
// acknowledged (written beside it, fsynced, renamed over it, the directory fsynced), so a kill -9
// at any instant leaves the old state or the new one. A state that does not read back stops the
// start: it never starts empty over it. One server at a time: a lock held for the life of the
// process.
import crypto from 'crypto';
import fs from 'fs';
import net from 'net';
import path from 'path';

import { codedError } from '../../errors';
import type { Privilege } from '../catalog/accounts';
import type { Attributes } from '../catalog/attributes';
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
  /**
   * Only when the account has attributes: a state written before they existed loads, and one
   * where no account has any loads in a server from before them.
   */
  attributes?: Attributes;
  /** Only when the account has an OR chain (MariaDB's auth_or): the methods after `plugin`, likewise optional. */
  or?: Array<{ plugin: string; authenticationString: string }>;
}

export interface CatalogState {
  accounts: AccountRow[];
  plugins: PluginRow[];
}

function corrupt(file: string, why: string): Error {
  return codedError('ERR_DATADIR_CORRUPT', `the datadir's state ${file} cannot be read back (${why}); fix or restore it: the server does not start empty over it`);
}

// The state is small (accounts and plugins); a far larger file is not one this server wrote.
const MAX_STATE_BYTES = 64 * 1024 * 1024;
const ACCOUNT_KEYS = ['authenticationString', 'grantOption', 'host', 'plugin', 'privileges', 'user'];
const OPTIONAL_ACCOUNT_KEYS = ['attributes', 'or'];
const METHOD_KEYS = ['authenticationString', 'plugin'];
const PLUGIN_KEYS = ['library', 'name'];

const isString = (value: unknown): value is string => typeof value === 'string';
const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null && !Array.isArray(value);
const hasKeys = (row: unknown, keys: readonly string[], optional: readonly string[] = []) =>
  isObject(row) && Object.keys(row).filter((key) => !optional.includes(key)).sort().join() === keys.join();

// Every row as this server writes it: exactly its fields, of their types; the catalog then
// checks their values (names, privileges, hashes) as it loads them.
function checkState(file: string, parsed: unknown): CatalogState {
  const state = parsed as { format?: unknown; accounts?: unknown; plugins?: unknown };
  if (typeof state !== 'object' || state === null || state.format !== FORMAT) throw corrupt(file, `not format ${FORMAT}`);
  if (!Array.isArray(state.accounts) || !Array.isArray(state.plugins)) throw corrupt(file, 'accounts and plugins must be lists');
  state.accounts.forEach((row: AccountRow, i: number) => {
    const ok =
      hasKeys(row, ACCOUNT_KEYS, OPTIONAL_ACCOUNT_KEYS) &&
      [row.user, row.host, row.plugin, row.authenticationString].every(isString) &&
      Array.isArray(row.privileges) &&
      row.privileges.every(isString) &&
      typeof row.grantOption === 'boolean' &&
      (!Object.hasOwn(row, 'attributes') || isObject(row.attributes)) &&
      (!Object.hasOwn(row, 'or') || (Array.isArray(row.or) && row.or.length > 0 && row.or.every((m) => hasKeys(m, METHOD_KEYS) && isString(m.plugin) && isString(m.authenticationString))));
    if (!ok) throw corrupt(file, `account row ${i} is not one this server writes`);
  });
  state.plugins.forEach((row: PluginRow, i: number) => {
    if (!hasKeys(row, PLUGIN_KEYS) || ![row.name, row.library].every(isString)) throw corrupt(file, `plugin row ${i} is not one this server writes`);
  });
  return { accounts: state.accounts as AccountRow[], plugins: state.plugins as PluginRow[] };
}

/** A datadir's state that reads back but does not load (a duplicate account, an unknown privilege...). */
export function corruptState(datadir: Datadir, why: string): Error {
  return corrupt(path.join(datadir.dir, STATE_FILE), why);
}

// Only the server's own user may have written what it loads: a directory or state file of
// someone else's, or one others may write, could have been planted.
function checkOwnership(what: string, target: string, stat: fs.Stats): void {
  const uid = process.geteuid?.() ?? 0;
  if (stat.isSymbolicLink()) throw codedError('ERR_DATADIR_UNSAFE', `${what} ${target} is a symbolic link`);
  if (stat.uid !== uid) throw codedError('ERR_DATADIR_UNSAFE', `${what} ${target} belongs to uid ${stat.uid}, not to uid ${uid} running the server`);
  if (stat.mode & 0o077) {
    throw codedError('ERR_DATADIR_UNSAFE', `${what} ${target} has mode 0${(stat.mode & 0o777).toString(8)}; other users may not have any access to it (chmod 700)`);
  }
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
    // A digest of the path: an abstract name is cut to sun_path's 107 bytes, and two long paths
    // with one prefix must not share a lock.
    const digest = crypto.createHash('sha256').update(dir).digest('hex');
    server.listen({ path: `\0auth-socket-datadir:${digest}` }, () => resolve(server.unref()));
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
    checkOwnership('the datadir', dir, fs.lstatSync(dir));
    const real = fs.realpathSync(dir);
    const datadir = new Datadir(real, await lock(real));
    try {
      // A write that a crash interrupted before its rename: the state it was to replace stands.
      fs.rmSync(`${datadir.file}.tmp`, { force: true });
      let stat: fs.Stats;
      try {
        stat = fs.lstatSync(datadir.file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { datadir, state: null };
        throw error;
      }
      checkOwnership('the datadir state', datadir.file, stat);
      if (stat.size > MAX_STATE_BYTES) throw corrupt(datadir.file, `${stat.size} bytes, over ${MAX_STATE_BYTES}`);
      const text = fs.readFileSync(datadir.file, 'utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        // A syntax error, or a nesting deep enough to exhaust the stack.
        throw corrupt(datadir.file, (error as Error).message);
      }
      return { datadir, state: checkState(datadir.file, parsed) };
    } catch (error) {
      datadir.close();
      throw error;
    }
  }

  /**
   * Replaces the state durably: resolves once a crash can no longer lose it. A state over
   * MAX_STATE_BYTES is ERR_DATADIR_FULL, nothing written. A failure after the rename (the
   * directory's fsync) is ERR_DATADIR_SYNC: the new state is the file's then.
   */
  async save(state: CatalogState): Promise<void> {
    const tmp = `${this.file}.tmp`;
    // Created afresh, never through a link someone left at that name.
    await fs.promises.rm(tmp, { force: true });
    const text = `${JSON.stringify({ format: FORMAT, ...state }, null, 1)}\n`;
    // Never a state that the next start would refuse to read.
    if (Buffer.byteLength(text) > MAX_STATE_BYTES) throw codedError('ERR_DATADIR_FULL', `the state would take over ${MAX_STATE_BYTES} bytes`);
    const file = await fs.promises.open(tmp, 'wx', 0o600);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await fs.promises.rename(tmp, this.file);
    // The rename itself is durable only once the directory is.
    try {
      const directory = await fs.promises.open(this.dir, 'r');
      try {
        await directory.sync();
      } finally {
        await directory.close();
      }
    } catch (error) {
      const failure = codedError('ERR_DATADIR_SYNC', `the datadir ${this.dir} could not be synced after its state was replaced`);
      failure.cause = error;
      throw failure;
    }
  }

  /** Releases the lock. */
  close(): void {
    this.lockServer.close();
  }
}
