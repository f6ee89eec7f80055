// `auth-socket serve`: the server as mysqld runs, from options config/serve-options.ts reads. The
// datadir gives the catalog (its first start sets up root@localhost IDENTIFIED WITH auth_socket);
// --plugin-load-add loads plugins for this run; --account declares accounts at start; the socket
// file and the TCP port are checked before anything listens, so a start that fails leaves
// nothing behind; SIGTERM, SIGINT and SHUTDOWN stop it cleanly; the ident file is read at start
// and reread on SIGHUP (ident-file.ts).
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';

import { parseAccountSpec, ServeOptions } from '../config/serve-options';
import { codedError } from '../errors';
import { lookupUserSync } from '../peer/users';
import { Accounts } from '../server/catalog/accounts';
import { accountsFromRows, Catalog, CatalogStore } from '../server/catalog/catalog';
import { PluginRow, ServerPlugins } from '../server/catalog/plugins';
import { CatalogState, corruptState, Datadir } from '../server/datadir/datadir';
import { DEFAULT_BACKLOG } from '../server/limits';
import { AuthServer, createServer } from '../server/listener';
import { ServerOptions } from '../server/options';
import type { AuthenticatedConnection } from '../server/connection';
import { tlsPlan } from '../client/tls';
import { createProxy } from '../proxy/proxy';
import { UpstreamOptions } from '../proxy/upstream';
import { mysqlNativePasswordPlugin } from '../server/plugins/native-password';
import { cachingSha2PasswordPlugin } from '../server/plugins/caching-sha2-password';
import { ErrorLog, openErrorLog } from './error-log';
import { IdentFileWatch, watchIdentFile } from './ident-file';

/**
 * Where the datadir lives when none is given: /var/lib/auth-socket for root, as mysqld's
 * /var/lib/mysql; another user's own state directory (XDG_STATE_HOME). Never a shared temp
 * directory, where another user could have put one first.
 */
export function defaultDatadir(): string {
  if (process.geteuid?.() === 0) return '/var/lib/auth-socket';
  return path.join(process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state'), 'auth-socket');
}

// sun_path holds 108 bytes with its NUL.
const MAX_SOCKET_PATH = 107;
// How long sessions may go on after a shutdown starts.
const SHUTDOWN_GRACE_MS = 5_000;
const AUTH_SOCKET_ROW: PluginRow = { name: 'auth_socket', library: 'auth_socket.so' };

export interface RunningServer {
  server: AuthServer;
  listeners: net.Server[];
  datadir: Datadir;
  /** Stops accepting, gives sessions SHUTDOWN_GRACE_MS, removes the socket file, releases the datadir. */
  stop(): Promise<void>;
}

/**
 * The socket path is free to take: a live server there stops the start; a socket file a dead
 * server left is removed, as mysqld removes it; anything else at the path is never touched.
 */
export async function claimSocketPath(socketPath: string): Promise<void> {
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw codedError('ERR_SOCKET_PATH', `the socket path ${socketPath} is ${Buffer.byteLength(socketPath)} bytes; sun_path takes at most ${MAX_SOCKET_PATH}`);
  }
  const dir = path.dirname(socketPath);
  if (!fs.existsSync(dir)) throw codedError('ERR_SOCKET_PATH', `the socket's directory ${dir} does not exist`);
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw codedError('ERR_SOCKET_PATH', `${socketPath} exists and is not a socket; it is left alone`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    // Only a refusal says nobody listens; a full backlog (EAGAIN) or a denied connect is a live server's.
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code !== 'ECONNREFUSED'));
  });
  if (live) throw codedError('ERR_SOCKET_IN_USE', `a server is already listening on ${socketPath}`);
  fs.unlinkSync(socketPath);
}

/**
 * The catalog from the datadir's state, or, on a first start, the one an operator begins with:
 * auth_socket installed and root@localhost (and the server's own OS user) administering. An
 * account row that does not load throws (the start's caller says whose state it was).
 */
export function catalogOf(store: CatalogStore, state: CatalogState | null, options: ServeOptions, log: Pick<ErrorLog, 'note'>): { catalog: Catalog; first: boolean } {
  const plugins = new ServerPlugins(options.pluginDir, [mysqlNativePasswordPlugin, cachingSha2PasswordPlugin]);
  // As mysqld: a plugin that cannot be loaded is logged, and the server runs on without it; an
  // installed one keeps its row.
  const unloadable: PluginRow[] = [];
  for (const row of state?.plugins ?? [AUTH_SOCKET_ROW]) {
    try {
      plugins.install(row.name, row.library);
    } catch (error) {
      log.note(`installed plugin ${row.name} (${row.library}) was not loaded: ${(error as Error).message}`);
      unloadable.push(row);
    }
  }
  for (const entry of options.pluginLoad) {
    try {
      plugins.loadForRun(entry);
    } catch (error) {
      log.note(`plugin-load-add=${entry} was not loaded: ${(error as Error).message}`);
    }
  }
  const accounts = state === null ? new Accounts() : accountsFromRows(state.accounts);
  if (state === null) {
    const admins = new Set(['root', lookupUserSync(process.getuid?.() ?? 0)?.name].filter((name): name is string => typeof name === 'string'));
    for (const user of admins) accounts.create({ user, host: 'localhost', plugin: 'auth_socket', privileges: ['ALL'], grantOption: true });
  }
  return { catalog: new Catalog(accounts, plugins, store, unloadable), first: state === null };
}

// A PEM file the upstream's TLS needs: read once at start, so a missing one stops the start.
function pemFile(file: string | null, option: string): Buffer | undefined {
  if (file === null) return undefined;
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw codedError('ERR_UPSTREAM_SSL_FILE', `${option}=${file}: ${(error as Error).message}`);
  }
}

/** The upstream leg's settings from the serve options (files read now). */
export function upstreamOptions(options: ServeOptions): UpstreamOptions | null {
  const sslFiles = { 'upstream-ssl-ca': options.upstreamSslCa, 'upstream-ssl-cert': options.upstreamSslCert, 'upstream-ssl-key': options.upstreamSslKey };
  if (options.upstream === null) {
    const stray = Object.entries(sslFiles).find(([, file]) => file !== null)?.[0] ?? (options.upstreamSslMode !== null ? 'upstream-ssl-mode' : null);
    if (stray !== null) throw codedError('ERR_INVALID_ARG_VALUE', `${stray} is set but upstream is not`);
    return null;
  }
  return {
    ...options.upstream,
    sslMode: options.upstreamSslMode ?? undefined,
    ssl: {
      ca: pemFile(options.upstreamSslCa, 'upstream-ssl-ca'),
      cert: pemFile(options.upstreamSslCert, 'upstream-ssl-cert'),
      key: pemFile(options.upstreamSslKey, 'upstream-ssl-key'),
    },
    connectTimeout: options.upstreamConnectTimeoutSeconds === null ? undefined : options.upstreamConnectTimeoutSeconds * 1000,
  };
}

/** The first half of a start: the options checked, the socket path claimed, the datadir opened and locked, the catalog durable. */
export interface OpenedCatalog {
  datadir: Datadir;
  catalog: Catalog;
  upstream: UpstreamOptions | null;
  /** The ident file in force (reloaded on SIGHUP until its stop()). */
  ident: IdentFileWatch;
}

/** Opens the datadir and loads (or, on a first start, sets up) the catalog; nothing listens yet. */
export async function openCatalog(options: ServeOptions, log: ErrorLog): Promise<OpenedCatalog> {
  const upstream = upstreamOptions(options);
  // The socket path first: a start refused there must not set up a datadir either.
  await claimSocketPath(options.socketPath);
  const { datadir, state } = await Datadir.open(options.datadir ?? defaultDatadir());
  try {
    let loaded: ReturnType<typeof catalogOf>;
    try {
      loaded = catalogOf(datadir, state, options, log);
    } catch (error) {
      throw corruptState(datadir, (error as Error).message);
    }
    const { catalog, first } = loaded;
    // Installed rows and first-start accounts are durable before anyone can log in.
    for (const spec of options.accounts) {
      const account = parseAccountSpec(spec);
      await catalog.change(() => (catalog.accounts.get(account.user, account.host) === null ? catalog.accounts.create(account) : catalog.accounts.alter(account)));
    }
    if (first) {
      await catalog.change(() => undefined);
      log.note(`first start: datadir ${datadir.dir} set up; auth_socket installed; ${catalog.accounts.list().map((a) => `'${a.user}'@'${a.host}'`).join(', ')} IDENTIFIED WITH auth_socket with all privileges`);
    }
    // Before anyone can log in; an ident file that does not load stops the start.
    const ident = await watchIdentFile(options.identFile, catalog, log);
    return { datadir, catalog, upstream, ident };
  } catch (error) {
    datadir.close();
    throw error;
  }
}

/** A server on a catalog, listening: one process's whole server, or one worker of several. */
export interface ServingCatalog {
  server: AuthServer;
  listeners: net.Server[];
  /** Stops accepting, gives sessions SHUTDOWN_GRACE_MS; resolves once every session is gone. */
  stop(): Promise<void>;
}

/** The second half of a start: the server on `catalog`, listening on the socket (and port). `onShutdown` hears a SHUTDOWN statement. */
export async function serveCatalog(
  options: ServeOptions,
  catalog: Catalog,
  upstream: UpstreamOptions | null,
  log: ErrorLog,
  onShutdown: () => void,
  more: Pick<ServerOptions, 'status'> = {},
): Promise<ServingCatalog> {
  const listeners: net.Server[] = [];
  try {
    const server = (upstream === null ? createServer : (serverOptions: ServerOptions) => createProxy({ ...serverOptions, upstream }))({
      accounts: catalog.accounts,
      catalog,
      connectTimeout: options.connectTimeoutSeconds === null ? undefined : options.connectTimeoutSeconds * 1000,
      maxConnections: maxConnectionsPerProcess(options),
      serverVersion: options.serverVersion ?? undefined,
      variables: {
        socket: options.socketPath,
        port: options.port ?? 0,
        bind_address: options.bindAddress,
        datadir: `${catalog.dir}/`,
        plugin_dir: options.pluginDir === null ? null : `${path.resolve(options.pluginDir)}/`,
        log_error: options.logError ?? 'stderr',
      },
      ...more,
    });
    server.on('login', (connection) => log.login(connection));
    server.on('change-user', (connection: AuthenticatedConnection) => log.login(connection));
    server.on('refuse', (error) => log.refuse(error));
    const addresses: Array<[net.Server, string | net.ListenOptions]> = [[server, options.socketPath]];
    // One server behind both listeners, so max_connections and the handshake budget count them together.
    if (options.port !== null) {
      const tcp = net.createServer((socket) => server.emit('connection', socket));
      addresses.push([tcp, { port: options.port, host: options.bindAddress, backlog: DEFAULT_BACKLOG }]);
    }
    for (const [listener, address] of addresses) {
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen(address, () => {
          listener.off('error', reject);
          resolve();
        });
      });
      listeners.push(listener);
    }
    // Every local user may try by default: the server, not the file mode, decides who gets in.
    fs.chmodSync(options.socketPath, options.socketMode ?? 0o666);
    const sockets = new Set<net.Socket>();
    server.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    server.on('shutdown', (connection) => {
      log.note(`shutdown requested by '${connection.user}'@'${connection.host}'`);
      onShutdown();
    });
    let stopping: Promise<void> | null = null;
    const stop = () => (stopping ??= closeListeners(listeners, sockets));
    return { server, listeners, stop };
  } catch (error) {
    // Nothing of a failed start stays: listeners closed, their socket file with them.
    await Promise.all(listeners.map((listener) => new Promise((resolve) => listener.close(resolve))));
    throw error;
  }
}

// max_connections bounds the whole server: workers share it out, never each taking all of it.
function maxConnectionsPerProcess(options: ServeOptions): number | undefined {
  if (options.maxConnections === null) return undefined;
  return Math.max(1, Math.floor(options.maxConnections / options.workers));
}

/** The ready line every start logs, whatever its number of processes. */
export function readyNote(options: ServeOptions, datadir: Datadir): string {
  const relaying = options.upstream === null ? '' : `, relaying accounts with upstream credentials to ${'socketPath' in options.upstream ? options.upstream.socketPath : `${options.upstream.host}:${options.upstream.port}`}`;
  const workers = options.workers === 1 ? '' : `, ${options.workers} worker processes`;
  return `ready: socket ${options.socketPath}${options.port === null ? '' : `, port ${options.bindAddress}:${options.port}`}, datadir ${datadir.dir}${relaying}${workers}`;
}

/** MySQL's default, PREFERRED, and REQUIRED check no certificate: said at every start, not refused. */
export function noteUnverifiedUpstream(upstream: UpstreamOptions | null, log: ErrorLog): void {
  // Over a network a man in the middle could take the upstream password's proof.
  if (upstream !== null && upstream.socketPath === undefined && !/^VERIFY_/.test(tlsPlan(upstream).mode)) {
    log.note(`upstream-ssl-mode ${tlsPlan(upstream).mode} checks no certificate of ${upstream.host}: set VERIFY_IDENTITY (and upstream-ssl-ca) unless the path to it is trusted`);
  }
}

/** Opens the datadir, builds the server from `options` and starts listening, in this process; resolves once it does. */
export async function startServe(options: ServeOptions, log: ErrorLog = openErrorLog(options.logError, options.logFormat)): Promise<RunningServer> {
  const { datadir, catalog, upstream, ident } = await openCatalog(options, log);
  let serving: ServingCatalog;
  try {
    serving = await serveCatalog(options, catalog, upstream, log, () => void stop());
  } catch (error) {
    ident.stop();
    datadir.close();
    throw error;
  }
  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= (ident.stop(), shutdown(serving, catalog, datadir, log)));
  noteUnverifiedUpstream(upstream, log);
  log.note(readyNote(options, datadir));
  return { server: serving.server, listeners: serving.listeners, datadir, stop };
}

// The listeners close and sessions get their grace; those still open after it are ended.
function closeListeners(listeners: net.Server[], sockets: Set<net.Socket>): Promise<void> {
  const closed = Promise.all(listeners.map((listener) => new Promise((resolve) => listener.close(resolve))));
  const grace = setTimeout(() => {
    for (const socket of sockets) socket.destroy();
  }, SHUTDOWN_GRACE_MS);
  return closed.then(() => clearTimeout(grace));
}

async function shutdown(serving: ServingCatalog, catalog: Catalog, datadir: Datadir, log: ErrorLog): Promise<void> {
  log.note('shutting down');
  await serving.stop();
  // A change still being written finishes before the datadir is let go.
  await catalog.idle();
  datadir.close();
  log.note('shutdown complete');
  log.close();
}
