// The client plugin registry, as the C client library keeps it (sql-common/client_plugin.cc):
// register, find, load from a plugin directory, options, init/deinit, env preloading. Which of
// them a connection may run is client/policy.ts's business.
import fs from 'fs';
import path from 'path';

import { ClientAuthPlugin, checkPluginName, freezeClientPlugin, MYSQL_CLIENT_AUTHENTICATION_PLUGIN, MYSQL_CLIENT_AUTHENTICATION_PLUGIN_INTERFACE_VERSION, MYSQL_ERRMSG_SIZE, PluginErrorBuffer } from './plugin';
import { authSimple } from './plugins/auth-simple';
import { cachingSha2Password } from './plugins/caching-sha2-password';
import { mysqlClearPassword } from './plugins/clear-password';
import { dialog } from './plugins/dialog';
import { clientEd25519 } from './plugins/ed25519';
import { mysqlNativePassword } from './plugins/native-password';
import { codedError, CodedError } from '../errors';
import { MYSQL_ERRORS, mysqlError } from '../protocol/mysql-errors';

/** CR_AUTH_PLUGIN_CANNOT_LOAD: the C library's client error number for every refusal below. */
export const CR_AUTH_PLUGIN_CANNOT_LOAD = MYSQL_ERRORS.CR_AUTH_PLUGIN_CANNOT_LOAD.errno;

/** Env: the plugin directory when loadClientPlugin() is given none (C: LIBMYSQL_PLUGIN_DIR). */
export const PLUGIN_DIR_ENV = 'AUTH_SOCKET_PLUGIN_DIR';
/** Env: ';'-separated plugin names loaded before the first lookup (C: LIBMYSQL_PLUGINS). */
export const PRELOAD_PLUGINS_ENV = 'AUTH_SOCKET_PLUGINS';

/** The package's own plugin directory, used when neither the option nor the env names one. */
export const DEFAULT_PLUGIN_DIR = path.resolve(__dirname, '..', '..', 'plugin');

export interface PluginError extends CodedError {
  errno: number;
  pluginName?: string;
}

/** A refusal with MySQL's wording: "Authentication plugin 'x' cannot be loaded: why". */
export function pluginError(code: string, name: string | undefined, why: string): PluginError {
  const shownName = typeof name === 'string' ? name.slice(0, 80) : String(name);
  const error = codedError(code, mysqlError('CR_AUTH_PLUGIN_CANNOT_LOAD', shownName, why).message) as PluginError;
  error.errno = CR_AUTH_PLUGIN_CANNOT_LOAD;
  if (typeof name === 'string') error.pluginName = name;
  return error;
}

interface Entry {
  plugin: ClientAuthPlugin;
  /** The module file it came from; undefined for plugins registered in code. */
  file?: string;
}

/** Linked in, as the C library links its own: registered before anything else. */
export const builtinClientPlugins: readonly ClientAuthPlugin[] = Object.freeze([
  mysqlNativePassword,
  mysqlClearPassword,
  cachingSha2Password,
  dialog,
  clientEd25519,
  authSimple,
]);

const loaded = new Map<string, Entry>(builtinClientPlugins.map((plugin) => [plugin.name, { plugin }]));
let preloaded = false;
// Why preloading failed: thrown again by every later registry use.
let preloadFailure: Error | undefined;

function rethrowAsPluginError(error: unknown, name: string): never {
  const code = (error as CodedError)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_PLUGIN_')) {
    throw pluginError(code, name, (error as Error).message);
  }
  throw error;
}

function runInit(plugin: ClientAuthPlugin, args: readonly unknown[]): void {
  if (plugin.init === null) return;
  const errbuf: PluginErrorBuffer = { message: '' };
  let result: unknown;
  try {
    result = plugin.init(errbuf, Object.freeze([...args]));
  } catch (error) {
    throw pluginError('ERR_PLUGIN_INIT_FAILED', plugin.name, `init threw: ${(error as Error)?.message ?? error}`);
  }
  if (result !== 0) {
    const why = String(errbuf.message ?? '').slice(0, MYSQL_ERRMSG_SIZE - 1) || `init returned ${String(result)}`;
    throw pluginError('ERR_PLUGIN_INIT_FAILED', plugin.name, why);
  }
}

/** The common acceptance path of register and load (C: add_plugin). */
function addPlugin(plugin: ClientAuthPlugin, args: readonly unknown[], file?: string): ClientAuthPlugin {
  if (loaded.has(plugin.name)) throw pluginError('ERR_PLUGIN_ALREADY_LOADED', plugin.name, 'it is already loaded');
  runInit(plugin, args);
  loaded.set(plugin.name, { plugin, file });
  return plugin;
}

/**
 * Checks an object a module exported the way the C loader checks a library's descriptor: type,
 * interface version (same major, minor at least ours), name; then its members.
 */
function acceptExport(exported: unknown, name: string, type: number): ClientAuthPlugin {
  if (typeof exported !== 'object' || exported === null) {
    throw pluginError('ERR_PLUGIN_INVALID', name, 'the module exports no plugin descriptor');
  }
  const candidate = exported as Partial<ClientAuthPlugin>;
  if (candidate.type !== type) {
    throw pluginError('ERR_PLUGIN_TYPE_MISMATCH', name, `type mismatch (module declares ${String(candidate.type)}, expected ${type})`);
  }
  const ours = MYSQL_CLIENT_AUTHENTICATION_PLUGIN_INTERFACE_VERSION;
  const theirs = candidate.interfaceVersion;
  if (typeof theirs !== 'number' || theirs < ours || theirs >> 8 > ours >> 8) {
    throw pluginError(
      'ERR_PLUGIN_INTERFACE_VERSION',
      name,
      `incompatible client plugin interface (module 0x${Number(theirs).toString(16)}, library 0x${ours.toString(16)})`,
    );
  }
  if (candidate.name !== name) {
    throw pluginError('ERR_PLUGIN_NAME_MISMATCH', name, `name mismatch (the module declares ${JSON.stringify(candidate.name)})`);
  }
  try {
    return freezeClientPlugin(candidate as ClientAuthPlugin, theirs);
  } catch (error) {
    return rethrowAsPluginError(error, name);
  }
}

/**
 * mysql_client_register_plugin(): adds a declared plugin to the registry and runs its init with
 * no arguments. Refuses one whose name is already loaded (ERR_PLUGIN_ALREADY_LOADED).
 */
export function registerClientPlugin(plugin: ClientAuthPlugin): ClientAuthPlugin {
  preload();
  if (typeof plugin !== 'object' || plugin === null) {
    throw pluginError('ERR_PLUGIN_INVALID', undefined, 'expected a plugin from declareClientPlugin()');
  }
  const name = plugin.name;
  try {
    checkPluginName(name);
  } catch (error) {
    rethrowAsPluginError(error, String(name));
  }
  return addPlugin(acceptExport(plugin, name, MYSQL_CLIENT_AUTHENTICATION_PLUGIN), []);
}

/** mysql_client_find_plugin(): the loaded plugin of that name, or undefined. Never loads. */
export function findClientPlugin(name: string): ClientAuthPlugin | undefined {
  preload();
  return typeof name === 'string' ? loaded.get(name)?.plugin : undefined;
}

export interface LoadClientPluginOptions {
  /** Where the module lives; else env AUTH_SOCKET_PLUGIN_DIR; else DEFAULT_PLUGIN_DIR. */
  pluginDir?: string;
  /** Passed to the plugin's init. */
  args?: readonly unknown[];
  /** The plugin type expected (default and only one served: AUTHENTICATION). */
  type?: number;
}

/** The directory loadClientPlugin() reads from for these options. */
export function pluginDirectory(options: LoadClientPluginOptions = {}): string {
  return path.resolve(options.pluginDir ?? process.env[PLUGIN_DIR_ENV] ?? DEFAULT_PLUGIN_DIR);
}

function loadWithoutPreload(name: string, options: LoadClientPluginOptions = {}): ClientAuthPlugin {
  try {
    checkPluginName(name);
  } catch (error) {
    rethrowAsPluginError(error, String(name));
  }
  if (loaded.has(name)) throw pluginError('ERR_PLUGIN_ALREADY_LOADED', name, 'it is already loaded');
  // One plugin per module, the file named after the plugin (C: <plugin_dir>/<name>.so).
  const file = path.join(pluginDirectory(options), `${name}.js`);
  if (!fs.existsSync(file)) throw pluginError('ERR_PLUGIN_NOT_FOUND', name, `${file} does not exist`);
  let exported: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const moduleExports = require(file);
    exported = moduleExports?.default ?? moduleExports;
  } catch (error) {
    throw pluginError('ERR_PLUGIN_INVALID', name, `${file} failed to load: ${(error as Error)?.message ?? error}`);
  }
  const plugin = acceptExport(exported, name, options.type ?? MYSQL_CLIENT_AUTHENTICATION_PLUGIN);
  return addPlugin(plugin, options.args ?? [], file);
}

/**
 * mysql_load_plugin(): loads `<pluginDir>/<name>.js`, whose default export (or module.exports) is a
 * plugin from declareClientPlugin(), runs its init with `args` and registers it. Refusals, each a
 * PluginError with errno 2059: ERR_PLUGIN_NAME_INVALID (path separator, bad characters),
 * ERR_PLUGIN_NAME_TOO_LONG (over 64), ERR_PLUGIN_ALREADY_LOADED, ERR_PLUGIN_NOT_FOUND,
 * ERR_PLUGIN_INVALID (no descriptor, bad members, module threw), ERR_PLUGIN_TYPE_MISMATCH,
 * ERR_PLUGIN_INTERFACE_VERSION, ERR_PLUGIN_NAME_MISMATCH, ERR_PLUGIN_INIT_FAILED.
 */
export function loadClientPlugin(name: string, options: LoadClientPluginOptions = {}): ClientAuthPlugin {
  preload();
  return loadWithoutPreload(name, options);
}

/**
 * Unloads a plugin: runs its deinit and forgets it, so a later load reads the module afresh.
 * Returns false when no plugin of that name was loaded.
 */
export function unloadClientPlugin(name: string): boolean {
  const entry = loaded.get(name);
  if (entry === undefined) return false;
  loaded.delete(name);
  if (entry.file !== undefined) delete require.cache[entry.file];
  entry.plugin.deinit?.();
  return true;
}

/**
 * mysql_plugin_options(): hands an option to a loaded plugin's options function. Throws
 * ERR_PLUGIN_OPTION when the plugin has none or refuses the option.
 */
export function pluginOptions(plugin: ClientAuthPlugin | string, option: string, value: unknown): void {
  const found = typeof plugin === 'string' ? findClientPlugin(plugin) : plugin;
  const name = typeof plugin === 'string' ? plugin : plugin?.name;
  if (found === undefined || found === null) throw pluginError('ERR_PLUGIN_NOT_FOUND', name, 'it is not loaded');
  if (found.options === null) throw codedError('ERR_PLUGIN_OPTION', `plugin '${name}' takes no options`);
  if (found.options(option, value) !== 0) {
    throw codedError('ERR_PLUGIN_OPTION', `plugin '${name}' refused option ${JSON.stringify(option)}`);
  }
}

/** mysql_plugin_get_option(): a plugin's current value for an option. */
export function pluginGetOption(plugin: ClientAuthPlugin | string, option: string): unknown {
  const found = typeof plugin === 'string' ? findClientPlugin(plugin) : plugin;
  if (found === undefined || found === null) {
    throw pluginError('ERR_PLUGIN_NOT_FOUND', typeof plugin === 'string' ? plugin : undefined, 'it is not loaded');
  }
  if (found.getOptions === null) throw codedError('ERR_PLUGIN_OPTION', `plugin '${found.name}' has no getOptions`);
  return found.getOptions(option);
}

/**
 * Loads the plugins named in env AUTH_SOCKET_PLUGINS (';'-separated) once, before the first
 * registry use, from the env or default plugin directory. Unlike the C library, which only logs,
 * a failure is thrown (and thrown again on every later use): a configured plugin that did not
 * load must not leave connections running without it.
 */
function preload(): void {
  if (preloadFailure) throw preloadFailure;
  if (preloaded) return;
  preloaded = true;
  const names = (process.env[PRELOAD_PLUGINS_ENV] ?? '').split(';').map((name) => name.trim());
  for (const name of names.filter((n) => n.length > 0)) {
    if (loaded.has(name)) continue;
    try {
      loadWithoutPreload(name);
    } catch (error) {
      preloadFailure = error as Error;
      throw error;
    }
  }
}
