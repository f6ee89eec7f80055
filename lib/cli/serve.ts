// `auth-socket serve`: our server as a command, with mysqld-style options: --socket, --port,
// --bind-address, --connect-timeout (seconds, as MySQL's), --plugin-dir and --plugin-load-add
// (server plugins as JS modules named after the plugin), and --account to declare accounts.
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';

import { Accounts } from '../server/catalog/accounts';
import { codedError } from '../errors';
import { createServer } from '../server/listener';
import { DEFAULT_BACKLOG } from '../server/limits';
import { ServerAuthPlugin } from '../server/plugin';
import { builtinServerPlugins } from '../server/plugins/builtin';
import { lookupUserSync } from '../peer/users';

export const DEFAULT_SERVE_SOCKET = path.join(os.tmpdir(), 'auth-socket-mysqld.sock');

export interface ServeOptions {
  socketPath: string;
  port: number | null;
  bindAddress: string;
  connectTimeoutSeconds: number | null;
  /** MySQL's max_connections, shared by the socket and the TCP listener. */
  maxConnections: number | null;
  serverVersion: string | null;
  pluginDir: string | null;
  pluginLoad: string[];
  /** user@host:plugin[:authentication_string] */
  accounts: string[];
}

export const SERVE_USAGE = `usage: auth-socket serve [--socket=PATH] [--port=N] [--bind-address=ADDR]
    [--connect-timeout=SECONDS] [--max-connections=N] [--server-version=STRING]
    [--plugin-dir=DIR] [--plugin-load-add=NAME[.js|.so]]...
    [--account=USER@HOST:PLUGIN[:AUTHENTICATION_STRING]]...
  Without --account, the OS user running the server gets USER@localhost IDENTIFIED WITH auth_socket.`;

/**
 * Removes a socket file left by an earlier run, as mysqld does; anything that is not a socket is
 * left alone, so a mistyped --socket cannot delete a regular file (listen then fails EADDRINUSE).
 */
export function removeStaleSocket(socketPath: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (stat.isSocket()) fs.unlinkSync(socketPath);
}

function usageError(message: string): Error {
  return codedError('ERR_INVALID_ARG_VALUE', `${message}\n${SERVE_USAGE}`);
}

const SERVE_OPTIONS = new Set([
  'socket',
  'port',
  'bind-address',
  'connect-timeout',
  'max-connections',
  'server-version',
  'plugin-dir',
  'plugin-load-add',
  'plugin-load',
  'account',
]);

/** Parses `--name=value` and `--name value` forms; repeated options accumulate where they may. */
export function parseServeArgs(args: string[]): ServeOptions {
  const options: ServeOptions = {
    socketPath: DEFAULT_SERVE_SOCKET,
    port: null,
    bindAddress: '127.0.0.1',
    connectTimeoutSeconds: null,
    maxConnections: null,
    serverVersion: null,
    pluginDir: null,
    pluginLoad: [],
    accounts: [],
  };
  for (let i = 0; i < args.length; i++) {
    const match = /^--([a-z_-]+)(?:=(.*))?$/s.exec(args[i]);
    if (!match) throw usageError(`unexpected argument: ${args[i]}`);
    const name = match[1].replace(/_/g, '-');
    if (!SERVE_OPTIONS.has(name)) throw usageError(`unknown option --${name}`);
    let value = match[2];
    if (value === undefined) {
      if (i + 1 >= args.length) throw usageError(`--${name} needs a value`);
      value = args[++i];
    }
    switch (name) {
      case 'socket':
        options.socketPath = value;
        break;
      case 'port':
        options.port = wholeNumber(value, name, 65535);
        break;
      case 'bind-address':
        options.bindAddress = value;
        break;
      case 'connect-timeout':
        options.connectTimeoutSeconds = wholeNumber(value, name, 31536000);
        break;
      case 'max-connections':
        options.maxConnections = wholeNumber(value, name, 100000);
        break;
      case 'server-version':
        options.serverVersion = value;
        break;
      case 'plugin-dir':
        options.pluginDir = value;
        break;
      case 'plugin-load-add':
      case 'plugin-load':
        // MySQL's lists are ';'-separated.
        options.pluginLoad.push(...value.split(';').filter((entry) => entry !== ''));
        break;
      case 'account':
        options.accounts.push(value);
        break;
    }
  }
  return options;
}

function wholeNumber(value: string, name: string, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) throw usageError(`--${name} must be a whole number from 1 to ${max}`);
  return n;
}

/** `user@host:plugin[:authentication_string]`; the host defaults to localhost. */
export function parseAccountSpec(spec: string): { user: string; host: string; plugin: string; authenticationString?: string } {
  const [userHost, plugin, ...rest] = spec.split(':');
  if (!plugin) throw usageError(`--account needs USER@HOST:PLUGIN, got ${spec}`);
  const at = userHost.lastIndexOf('@');
  const user = at < 0 ? userHost : userHost.slice(0, at);
  const host = at < 0 ? 'localhost' : userHost.slice(at + 1);
  return rest.length > 0 ? { user, host, plugin, authenticationString: rest.join(':') } : { user, host, plugin };
}

function isServerPlugin(value: unknown): value is ServerAuthPlugin {
  const plugin = value as ServerAuthPlugin;
  return typeof plugin === 'object' && plugin !== null && typeof plugin.name === 'string' && typeof plugin.authenticate === 'function';
}

/**
 * Loads the plugins named by --plugin-load-add: `name`, `name.js`, `name.so` or `name=library`.
 * Built-in plugins (auth_socket, mysql_native_password, auth_simple) need no file; any other is
 * `<plugin-dir>/<library>.js`, whose export (or default export, or array of them) must include
 * the plugin. Names with a path in them are refused, as MySQL refuses them.
 */
export function loadServerPlugins(entries: string[], pluginDir: string | null): ServerAuthPlugin[] {
  const builtin = new Set(builtinServerPlugins.map((plugin) => plugin.name));
  const loaded: ServerAuthPlugin[] = [];
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const wanted = eq < 0 ? null : entry.slice(0, eq);
    const library = eq < 0 ? entry : entry.slice(eq + 1);
    const base = library.replace(/\.(so|js)$/, '');
    if (base === '' || /[/\\]/.test(base) || base === '.' || base === '..') {
      throw codedError('ERR_INVALID_ARG_VALUE', `plugin library '${library}' must be a bare name inside --plugin-dir`);
    }
    if (builtin.has(wanted ?? base)) continue;
    if (pluginDir === null) throw codedError('ERR_INVALID_ARG_VALUE', `--plugin-load-add=${entry} needs --plugin-dir`);
    const file = path.resolve(pluginDir, `${base}.js`);
    if (!fs.existsSync(file)) throw codedError('ERR_PLUGIN_NOT_FOUND', `no plugin library ${file}`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported: unknown = require(file);
    const candidates = [exported, (exported as { default?: unknown })?.default].flat().filter(isServerPlugin);
    const plugins = wanted === null ? candidates : candidates.filter((plugin) => plugin.name === wanted);
    if (plugins.length === 0) {
      throw codedError('ERR_PLUGIN_NOT_FOUND', `${file} exports no server plugin${wanted === null ? '' : ` named ${wanted}`}`);
    }
    loaded.push(...plugins);
  }
  return loaded;
}

/** Builds the server from parsed options and starts listening; resolves once it listens. */
export async function startServe(options: ServeOptions, log: (line: string) => void = console.log): Promise<net.Server[]> {
  const accounts = new Accounts();
  if (options.accounts.length === 0) {
    const me = lookupUserSync(process.getuid?.() ?? -1);
    if (me === null) throw codedError('ERR_INVALID_ARG_VALUE', 'the OS user running the server has no passwd entry; give --account');
    accounts.create({ user: me.name, host: 'localhost', plugin: 'auth_socket' });
  }
  for (const spec of options.accounts) accounts.create(parseAccountSpec(spec));
  const serverOptions = {
    accounts,
    plugins: loadServerPlugins(options.pluginLoad, options.pluginDir),
    connectTimeout: options.connectTimeoutSeconds === null ? undefined : options.connectTimeoutSeconds * 1000,
    maxConnections: options.maxConnections ?? undefined,
    serverVersion: options.serverVersion ?? undefined,
  };
  const server = createServer(serverOptions);
  server.on('refuse', (error) => log(`refused: ${error.errno ?? '-'} ${error.reason}`));
  const listeners: Array<[net.Server, string | { port: number; host: string; backlog: number }]> = [[server, options.socketPath]];
  // One server behind both listeners, so max_connections and the handshake budget count them together.
  if (options.port !== null) {
    const tcp = net.createServer((socket) => server.emit('connection', socket));
    listeners.push([tcp, { port: options.port, host: options.bindAddress, backlog: DEFAULT_BACKLOG }]);
  }
  removeStaleSocket(options.socketPath);
  for (const [listener, address] of listeners) {
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(address, () => {
        listener.off('error', reject);
        resolve();
      });
    });
  }
  // Every local user may try: the server, not the file mode, decides who gets in.
  fs.chmodSync(options.socketPath, 0o666);
  log(`auth-socket serve: listening on ${options.socketPath}${options.port === null ? '' : ` and ${options.bindAddress}:${options.port}`}`);
  return listeners.map(([listener]) => listener);
}
