// Client authentication plugin descriptor: what mysql_declare_client_plugin(AUTHENTICATION) declares
// in C (include/mysql/client_plugin.h), as a validated, frozen TypeScript object.
import { codedError } from '../errors';
import { CR_ERROR, CR_OK, CR_OK_HANDSHAKE_COMPLETE, CrCode, PluginVio } from '../auth/vio';

/** MYSQL_CLIENT_AUTHENTICATION_PLUGIN: the only plugin type this package declares and loads. */
export const MYSQL_CLIENT_AUTHENTICATION_PLUGIN = 2;
/** MYSQL_CLIENT_AUTHENTICATION_PLUGIN_INTERFACE_VERSION. */
export const MYSQL_CLIENT_AUTHENTICATION_PLUGIN_INTERFACE_VERSION = 0x0200;
/** NAME_CHAR_LEN: longest plugin name the C library accepts. */
export const MAX_PLUGIN_NAME_LENGTH = 64;
/** MYSQL_ERRMSG_SIZE: the size of the error buffer handed to init(), as of every MySQL message. */
export { MYSQL_ERRMSG_SIZE } from '../protocol/responses';

/** The error buffer init() may fill before returning non-zero (C: char *errbuf, size_t errbuf_len). */
export interface PluginErrorBuffer {
  message: string;
}

/** Per-connection settings for plugins (C: mysql_options()); plugins read the ones they know. */
export interface ConnectionPluginOptions {
  /** caching_sha2_password: the server's RSA public key (PEM) for full authentication over TCP. */
  serverPublicKey?: string | Buffer;
  /** caching_sha2_password: ask the server for its key over an insecure connection (trusts the network). */
  getServerPublicKey?: boolean;
  /** dialog: answers the server's questions beyond the first password question. */
  dialogAsk?: (prompt: string, echo: boolean) => string | Promise<string>;
  readonly [option: string]: unknown;
}

/**
 * The connection handle a plugin sees (C: MYSQL *mysql): the credentials the caller gave and what
 * the server said about itself.
 */
export interface MysqlHandle {
  readonly user: string;
  /** The password the caller gave (C: mysql->passwd); '' when none. */
  readonly password: string;
  readonly database?: string;
  /** Set for TCP connections. */
  readonly host?: string;
  readonly port?: number;
  /** Set for Unix-socket connections. */
  readonly socketPath?: string;
  /** The server's version string from its greeting. */
  readonly serverVersion: string;
  /** The server's thread id from its greeting. */
  readonly connectionId: number;
  /** The greeting's scramble (auth-plugin-data), as the server sent it. */
  readonly scramble: Buffer;
  /** Whether the caller allowed plugins that send the password in cleartext for this connection. */
  readonly cleartextPluginEnabled: boolean;
  readonly options: Readonly<ConnectionPluginOptions>;
  /** Records why the plugin failed; the caller's error carries this message. */
  setError(message: string): void;
}

/** A handle over `fields`; what the plugin passes to setError() comes back as `error`. */
export function mysqlHandle(fields: Omit<MysqlHandle, 'setError'>): MysqlHandle & { error?: string } {
  const handle = {
    ...fields,
    error: undefined as string | undefined,
    setError(message: string) {
      handle.error = String(message);
    },
  };
  return handle;
}

/**
 * The main function. Typed as number so that plain `return cond ? CR_OK : CR_ERROR` compiles; any
 * value other than CR_OK, CR_OK_HANDSHAKE_COMPLETE or CR_ERROR counts as a failure.
 */
export type AuthenticateFunction = (vio: PluginVio, mysql: MysqlHandle) => number | Promise<number>;

/** The members of mysql_declare_client_plugin(AUTHENTICATION), in MySQL's order. */
export interface ClientPluginDescriptor {
  name: string;
  author: string;
  description: string;
  /** [major, minor, patch]. */
  version: readonly [number, number, number];
  license: string;
  /** Reserved for internal use (C: mysql_api); must be null or absent. */
  mysqlApi?: null;
  /** Called once on load with the load's arguments; non-zero refuses the load, with errbuf's message. */
  init?: ((errbuf: PluginErrorBuffer, args: readonly unknown[]) => number) | null;
  /** Called on unload. */
  deinit?: (() => number | void) | null;
  /** mysql_plugin_options(): 0 when the option was taken, non-zero when refused. */
  options?: ((option: string, value: unknown) => number) | null;
  /** mysql_plugin_get_option(): the current value of an option. */
  getOptions?: ((option: string) => unknown) | null;
  /** The main function: talks to the server and returns CR_OK, CR_OK_HANDSHAKE_COMPLETE or CR_ERROR. */
  authenticate: AuthenticateFunction;
  /**
   * True when the plugin sends the password (or any secret typed by the user) as plain bytes: it
   * then runs only when the caller allowed cleartext plugins (enableCleartextPlugin). Default false.
   */
  sendsCleartextPassword?: boolean;
}

/** A declared plugin: the descriptor plus its type and interface version, frozen. */
export interface ClientAuthPlugin extends Readonly<Required<Omit<ClientPluginDescriptor, 'version'>>> {
  readonly type: typeof MYSQL_CLIENT_AUTHENTICATION_PLUGIN;
  readonly interfaceVersion: number;
  readonly version: readonly [number, number, number];
}

/** The main function's legitimate results. */
export function isClientAuthResult(code: unknown): code is CrCode {
  return code === CR_OK || code === CR_OK_HANDSHAKE_COMPLETE || code === CR_ERROR;
}

function invalid(message: string): Error {
  return codedError('ERR_PLUGIN_INVALID', `invalid client plugin descriptor: ${message}`, TypeError);
}

/**
 * Checks a plugin name as the C loader does before it touches the file system. Throws
 * ERR_PLUGIN_NAME_INVALID (empty, NUL, path separator, characters outside [A-Za-z0-9_]) or
 * ERR_PLUGIN_NAME_TOO_LONG.
 */
export function checkPluginName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw codedError('ERR_PLUGIN_NAME_INVALID', 'a plugin name must be a non-empty string', TypeError);
  }
  if (name.length > MAX_PLUGIN_NAME_LENGTH) {
    throw codedError(
      'ERR_PLUGIN_NAME_TOO_LONG',
      `plugin name is ${name.length} characters long; the limit is ${MAX_PLUGIN_NAME_LENGTH}`,
    );
  }
  if (/[/\\]/.test(name)) {
    throw codedError('ERR_PLUGIN_NAME_INVALID', `plugin name ${JSON.stringify(name)} contains a path separator`);
  }
  // Names become file names: anything beyond MySQL's own plugin names' alphabet is refused.
  if (!/^[A-Za-z0-9_]+$/.test(name)) {
    throw codedError('ERR_PLUGIN_NAME_INVALID', `plugin name ${JSON.stringify(name)} may only hold A-Z, a-z, 0-9 and _`);
  }
  return name;
}

function optionalFunction<T>(value: unknown, member: string): T | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'function') throw invalid(`${member} must be a function or null`);
  return value as T;
}

function requiredString(value: unknown, member: string): string {
  if (typeof value !== 'string') throw invalid(`${member} must be a string`);
  return value;
}

/** Validates a descriptor's members (not its type or interface version) and freezes a plugin from it. */
export function freezeClientPlugin(
  descriptor: ClientPluginDescriptor,
  interfaceVersion: number = MYSQL_CLIENT_AUTHENTICATION_PLUGIN_INTERFACE_VERSION,
): ClientAuthPlugin {
  if (typeof descriptor !== 'object' || descriptor === null) throw invalid('expected an object');
  const name = checkPluginName(descriptor.name);
  const version = descriptor.version;
  if (
    !Array.isArray(version) ||
    version.length !== 3 ||
    !version.every((part) => Number.isInteger(part) && part >= 0 && part <= 0xffff)
  ) {
    throw invalid('version must be [major, minor, patch] of integers from 0 to 65535');
  }
  if (descriptor.mysqlApi !== undefined && descriptor.mysqlApi !== null) {
    throw invalid('mysqlApi is reserved for internal use and must be null');
  }
  if (typeof descriptor.authenticate !== 'function') throw invalid('authenticate must be a function');
  const cleartext = descriptor.sendsCleartextPassword;
  if (cleartext !== undefined && typeof cleartext !== 'boolean') throw invalid('sendsCleartextPassword must be a boolean');
  return Object.freeze({
    type: MYSQL_CLIENT_AUTHENTICATION_PLUGIN,
    interfaceVersion,
    name,
    author: requiredString(descriptor.author, 'author'),
    description: requiredString(descriptor.description, 'description'),
    version: Object.freeze([version[0], version[1], version[2]] as const),
    license: requiredString(descriptor.license, 'license'),
    mysqlApi: null,
    init: optionalFunction<ClientAuthPlugin['init']>(descriptor.init, 'init'),
    deinit: optionalFunction<ClientAuthPlugin['deinit']>(descriptor.deinit, 'deinit'),
    options: optionalFunction<ClientAuthPlugin['options']>(descriptor.options, 'options'),
    getOptions: optionalFunction<ClientAuthPlugin['getOptions']>(descriptor.getOptions, 'getOptions'),
    authenticate: descriptor.authenticate,
    sendsCleartextPassword: cleartext === true,
  });
}

/**
 * mysql_declare_client_plugin(AUTHENTICATION) ... mysql_end_client_plugin: validates the
 * descriptor and returns a frozen AUTHENTICATION plugin of the current interface version.
 * Throws ERR_PLUGIN_INVALID, ERR_PLUGIN_NAME_INVALID or ERR_PLUGIN_NAME_TOO_LONG.
 */
export function declareClientPlugin(descriptor: ClientPluginDescriptor): ClientAuthPlugin {
  return freezeClientPlugin(descriptor);
}
