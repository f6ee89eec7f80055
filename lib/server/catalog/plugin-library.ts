// Opening a plugin library, as mysqld's plugin_dl_add() opens a .so in plugin_dir: the packaged
// libraries by their manual names (auth_socket.so, auth_simple.so; unix_socket.so for MariaDB's
// plugin, which MariaDB ships in its auth_socket.so; auth_socket_map.so, ours), else a JS module (or .node
// addon) in plugin_dir named after the library, whose exports are server plugin descriptors.
import fs from 'fs';
import Module from 'module';
import path from 'path';

import { ServerAuthPlugin } from '../plugin';
import { authSimpleServerPlugin } from '../plugins/auth-simple';
import { authSocketPlugin } from '../plugins/auth-socket';
import { authSocketMapPlugin } from '../plugins/auth-socket-map';
import { unixSocketPlugin } from '../plugins/unix-socket';
import { sqlError } from '../sql-error';

// Libraries this package ships, under the names the manual gives them.
const PACKAGED: Record<string, readonly ServerAuthPlugin[]> = {
  auth_socket: [authSocketPlugin],
  auth_simple: [authSimpleServerPlugin],
  unix_socket: [unixSocketPlugin],
  auth_socket_map: [authSocketMapPlugin],
};

// MariaDB's auth_socket.so holds unix_socket (INSTALL PLUGIN unix_socket SONAME 'auth_socket.so');
// MySQL's holds auth_socket. Asked for by name, the library has both; loaded whole (MySQL's
// plugin-load-add=auth_socket.so), only MySQL's.
const ALSO_BY_NAME: Record<string, readonly ServerAuthPlugin[]> = {
  auth_socket: [unixSocketPlugin],
};

// A library in plugin_dir declares itself with require('auth-socket'), wherever it lives: the
// name resolves to this package when Node's own lookup finds none. Installed when the first such
// library loads (a server that loads none leaves Node's resolution alone).
const PACKAGE_MAIN = path.resolve(__dirname, '..', '..', 'index.js');
let resolvesPackage = false;

function letLibrariesRequireThisPackage(): void {
  if (resolvesPackage) return;
  resolvesPackage = true;
  const moduleInternals = Module as unknown as { _resolveFilename(request: string, ...rest: unknown[]): string };
  const resolveFilename = moduleInternals._resolveFilename;
  moduleInternals._resolveFilename = function (request: string, ...rest: unknown[]): string {
    try {
      return resolveFilename.call(this, request, ...rest);
    } catch (error) {
      if (request === 'auth-socket' && fs.existsSync(PACKAGE_MAIN)) return PACKAGE_MAIN;
      throw error;
    }
  };
}

function isServerPlugin(value: unknown): value is ServerAuthPlugin {
  const plugin = value as ServerAuthPlugin;
  return typeof plugin === 'object' && plugin !== null && typeof plugin.name === 'string' && typeof plugin.authenticate === 'function';
}

/** The library's base name: `auth_socket.so`, `auth_socket.js` and `auth_socket` are one library. */
function libraryName(library: string): string {
  const base = library.replace(/\.(so|js|node)$/, '');
  // As mysqld: a library is a bare name inside plugin_dir, never a path.
  if (base === '' || /[/\\\0]/.test(base) || base === '.' || base === '..') {
    throw sqlError('ER_CANT_OPEN_LIBRARY', library, 22, 'a plugin library is a bare name inside plugin_dir');
  }
  return base;
}

/**
 * The server plugins a library declares (`byName`: those a plugin may be picked from by name, a
 * few more for a packaged library). Throws SqlErrors with MySQL's errors: 1126 when it cannot be
 * opened (no such file, no plugin_dir, or it threw while loading).
 */
export function openLibrary(library: string, pluginDir: string | null, byName = false): readonly ServerAuthPlugin[] {
  const base = libraryName(library);
  if (Object.hasOwn(PACKAGED, base)) return byName && Object.hasOwn(ALSO_BY_NAME, base) ? [...PACKAGED[base], ...ALSO_BY_NAME[base]] : PACKAGED[base];
  const file = pluginDir === null ? null : [`${base}.js`, `${base}.node`].map((name) => path.resolve(pluginDir, name)).find((f) => fs.existsSync(f));
  if (file === null || file === undefined) {
    const where = pluginDir === null ? `${base}.js` : path.resolve(pluginDir, `${base}.js`);
    throw sqlError('ER_CANT_OPEN_LIBRARY', where, 2, pluginDir === null ? 'no plugin_dir is set' : 'No such file or directory');
  }
  let exported: unknown;
  letLibrariesRequireThisPackage();
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    exported = require(file);
  } catch (error) {
    throw sqlError('ER_CANT_OPEN_LIBRARY', file, 8, (error as Error)?.message ?? String(error));
  }
  return [exported, (exported as { default?: unknown })?.default].flat().filter(isServerPlugin);
}
