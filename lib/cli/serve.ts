// `auth-socket serve`: our server as a command. Its mysqld-style options (from --defaults-file and
// the command line) are read by config/serve-options.ts; here they become a listening server:
// plugins from --plugin-dir as JS modules named after the plugin, accounts from --account.
import fs from 'fs';
import net from 'net';
import path from 'path';

import { parseAccountSpec, ServeOptions } from '../config/serve-options';
import { Accounts } from '../server/catalog/accounts';
import { codedError } from '../errors';
import { createServer } from '../server/listener';
import { DEFAULT_BACKLOG } from '../server/limits';
import { ServerAuthPlugin } from '../server/plugin';
import { builtinServerPlugins } from '../server/plugins/builtin';
import { lookupUserSync } from '../peer/users';

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
  // Every local user may try by default: the server, not the file mode, decides who gets in.
  fs.chmodSync(options.socketPath, options.socketMode ?? 0o666);
  log(`auth-socket serve: listening on ${options.socketPath}${options.port === null ? '' : ` and ${options.bindAddress}:${options.port}`}`);
  return listeners.map(([listener]) => listener);
}
