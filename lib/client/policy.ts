// Which client plugins a connection may run: MySQL's check_plugin_enabled() (sql-common/client.cc),
// widened from mysql_clear_password to every plugin that sends the password in cleartext, plus
// the mariadb connector's restrictedAuth list. One policy for connect() and the mysql2 adapter.
import { checkPluginName, ClientAuthPlugin } from './plugin';
import { findClientPlugin, pluginError } from './registry';
import { codedError } from '../errors';

/** Env, honoured under MySQL's own name: a value starting with 1, y or Y enables cleartext plugins. */
export const ENABLE_CLEARTEXT_ENV = 'LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN';

// Protocols whose server expects the password in clear: whatever plugin answers under one of
// these names hands the secret over, so the name alone is enough to gate it.
const CLEARTEXT_PROTOCOLS: ReadonlySet<string> = new Set(['mysql_clear_password', 'dialog', 'auth_simple']);

export interface ClientPluginPolicy {
  /** Plugins that send the password in cleartext may run. */
  readonly cleartextEnabled: boolean;
  /** When set, only plugins of these names may run (the caller's restrictedAuth). */
  readonly restrictedAuth?: ReadonlySet<string>;
}

/** What a caller says about plugins (connect()'s options; mysql2's config for the adapter). */
export interface ClientPluginPolicyOptions {
  enableCleartextPlugin?: boolean;
  restrictedAuth?: string | readonly string[];
}

/** Whether cleartext plugins may run: the caller's option, else env LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN. */
export function cleartextPluginEnabled(option: boolean | undefined): boolean {
  if (option !== undefined) return option === true;
  return /^[1yY]/.test(process.env[ENABLE_CLEARTEXT_ENV] ?? '');
}

/**
 * restrictedAuth as the mariadb connector takes it: an array of plugin names or one
 * comma-separated string. Undefined means no list. An empty list is refused rather than read as
 * "no restriction" or "nothing allowed": either reading would surprise someone.
 */
export function parseRestrictedAuth(value: unknown): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  const invalid = (message: string, code = 'ERR_INVALID_ARG_VALUE') => codedError(code, `options.restrictedAuth ${message}`, TypeError);
  let names: unknown[];
  if (typeof value === 'string') names = value.split(',');
  else if (Array.isArray(value)) names = value;
  else throw invalid('must be an array of plugin names or a comma-separated string', 'ERR_INVALID_ARG_TYPE');
  const allowed = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string') throw invalid('must hold plugin names (strings)', 'ERR_INVALID_ARG_TYPE');
    const trimmed = name.trim();
    if (trimmed === '') continue;
    try {
      allowed.add(checkPluginName(trimmed));
    } catch (error) {
      throw invalid(`holds an invalid name: ${(error as Error).message}`);
    }
  }
  if (allowed.size === 0) throw invalid('names no plugin; leave it out to allow every plugin');
  return allowed;
}

export function clientPluginPolicy(options: ClientPluginPolicyOptions): ClientPluginPolicy {
  return {
    cleartextEnabled: cleartextPluginEnabled(options.enableCleartextPlugin),
    restrictedAuth: parseRestrictedAuth(options.restrictedAuth),
  };
}

/** Whether the plugin hands the password over in clear: it says so, or it speaks a cleartext protocol. */
export function sendsCleartextPassword(plugin: ClientAuthPlugin): boolean {
  return plugin.sendsCleartextPassword === true || CLEARTEXT_PROTOCOLS.has(plugin.name);
}

/** The refusal for a plugin the policy forbids (errno 2059, ERR_PLUGIN_NOT_ENABLED), or undefined. */
function refusal(plugin: ClientAuthPlugin, policy: ClientPluginPolicy): Error | undefined {
  if (policy.restrictedAuth !== undefined && !policy.restrictedAuth.has(plugin.name)) {
    const list = [...policy.restrictedAuth].join(', ');
    return pluginError('ERR_PLUGIN_NOT_ENABLED', plugin.name, `plugin not enabled (restrictedAuth allows only ${list}; add it there to allow it)`);
  }
  if (sendsCleartextPassword(plugin) && !policy.cleartextEnabled) {
    return pluginError(
      'ERR_PLUGIN_NOT_ENABLED',
      plugin.name,
      `plugin not enabled (it sends the password in cleartext; enable it with the enableCleartextPlugin option or ${ENABLE_CLEARTEXT_ENV}=1)`,
    );
  }
  return undefined;
}

/** Throws ERR_PLUGIN_NOT_ENABLED (errno 2059) when the policy forbids the plugin. */
export function assertPluginAllowed(plugin: ClientAuthPlugin, policy: ClientPluginPolicy): void {
  const error = refusal(plugin, policy);
  if (error !== undefined) throw error;
}

function lookUp(name: string, connectionPlugins: readonly ClientAuthPlugin[]): ClientAuthPlugin | undefined {
  return connectionPlugins.find((candidate) => candidate.name === name) ?? findClientPlugin(name);
}

/**
 * The plugin for `name` in a connection: one the caller passed for it, else the registry's.
 * Throws ERR_PLUGIN_UNKNOWN (errno 2059) when there is none, and ERR_PLUGIN_NOT_ENABLED when the
 * policy forbids it.
 */
export function resolveClientPlugin(name: string, connectionPlugins: readonly ClientAuthPlugin[], policy: ClientPluginPolicy): ClientAuthPlugin {
  const plugin = lookUp(name, connectionPlugins);
  if (plugin === undefined) {
    throw pluginError('ERR_PLUGIN_UNKNOWN', name, 'unknown plugin: none of that name is registered or passed to this connection');
  }
  assertPluginAllowed(plugin, policy);
  return plugin;
}

/**
 * The plugin that makes the first response to a greeting advertising `advertised`: the caller's
 * defaultAuth (refused when forbidden), else the advertised plugin when known and allowed, else
 * mysql_native_password, whose scramble gives no password away; the server may then switch.
 */
export function firstClientPlugin(
  advertised: string | undefined,
  defaultAuth: string | undefined,
  connectionPlugins: readonly ClientAuthPlugin[],
  policy: ClientPluginPolicy,
): ClientAuthPlugin {
  if (defaultAuth !== undefined) return resolveClientPlugin(defaultAuth, connectionPlugins, policy);
  const offered = advertised === undefined ? undefined : lookUp(advertised, connectionPlugins);
  if (offered !== undefined && refusal(offered, policy) === undefined) return offered;
  const native = lookUp('mysql_native_password', connectionPlugins);
  if (native !== undefined && refusal(native, policy) === undefined) return native;
  throw pluginError(
    'ERR_PLUGIN_NOT_ENABLED',
    advertised,
    'plugin not enabled, nor is mysql_native_password to answer in its place; name an allowed plugin in defaultAuth',
  );
}
