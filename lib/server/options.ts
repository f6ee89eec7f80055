// createServer()'s and acceptConnection()'s options, checked once and resolved with their
// defaults (MySQL's own where MySQL has the setting: connect_timeout, max_connections, back_log).
import tls from 'tls';

import { codedError } from '../errors';
import type { IdentMap } from '../peer/ident-map';
import { Capability } from '../protocol/constants';
import { Accounts } from './catalog/accounts';
import type { AdmitHook } from './connection';
import { Catalog } from './catalog/catalog';
import { ServerPlugins } from './catalog/plugins';
import { ByteBudget, DEFAULT_BACKLOG } from './limits';
import { ServerAuthPlugin } from './plugin';
import { builtinServerPlugins } from './plugins/builtin';
import { cachingSha2PasswordPlugin } from './plugins/caching-sha2-password';
import { serverSecureContext } from './tls';
import type { StatusSource } from './status';

export interface ServerOptions {
  accounts: Accounts;
  /**
   * Accounts and plugins kept in a datadir (what `auth-socket serve` passes; its accounts are
   * `accounts`). Without it the server keeps an in-memory catalog over `accounts` and `plugins`,
   * which account and plugin statements change for the life of the server.
   */
  catalog?: Catalog;
  /** System variables the session answers beyond its own (@@socket, @@port, @@datadir, @@plugin_dir...). */
  variables?: Readonly<Record<string, string | number | null>>;
  /** Extra server plugins beside the built-in ones (a plugin with a built-in's name replaces it). */
  plugins?: ServerAuthPlugin[];
  /** MySQL's connect_timeout, in ms: the whole handshake must finish within it. Default 10 s. */
  connectTimeout?: number;
  /** Server version in the greeting. */
  serverVersion?: string;
  /** Largest handshake packet accepted, in bytes (a larger one is a bad handshake). Default 64 KiB. */
  maxHandshakePacketSize?: number;
  /**
   * MySQL's max_connections (default 151): connections past it get 1040 Too many connections,
   * except one more, kept for an account named in `adminAccounts`.
   */
  maxConnections?: number;
  /** Accounts ('user@host', as CURRENT_USER() shows them) that may take the extra slot. Default root@localhost. */
  adminAccounts?: readonly string[];
  /**
   * Bytes that all connections still in their handshake may hold together (default 16 MiB); the
   * connection whose data would go past it is refused with 1041 (out of resources).
   */
  maxHandshakeMemory?: number;
  /** The listen queue used when listen() names none (MySQL's back_log). Default 4096. */
  backlog?: number;
  /**
   * Capability flags the greeting offers beyond SERVER_CAPABILITIES: a proxy offers what its
   * upstream sessions can relay (MULTI_STATEMENTS, LOCAL_FILES, PS_MULTI_RESULTS, SESSION_TRACK).
   * CLIENT_SSL (see `tls`) and CLIENT_COMPRESS are never offered through this.
   */
  extraCapabilities?: number;
  /**
   * TLS (key and cert, or pfx; ca, ciphers... as Node's tls.createSecureContext takes them): the
   * greeting then offers CLIENT_SSL, and a client's SSLRequest is followed by TLS on the same
   * socket, inside which the login and the session run. Plugins see is_tls_established there.
   */
  tls?: tls.SecureContextOptions;
  /**
   * The ident map auth_socket_map accounts name a map of (parseIdentMap / loadIdentMap), or a
   * function asked for the map at each login's start (to reload one). It becomes the catalog's.
   */
  identMap?: IdentMap | (() => IdentMap | null);
  /** Runs after the plugin accepted and before the OK: where a proxy opens its upstream (connection.ts). */
  admit?: AdmitHook;
  /** Where SHOW STATUS and FLUSH STATUS read when this server is one process of several; default: its own counters. */
  status?: StatusSource;
}

/** What this server offers; the client's flags are intersected with these. */
export const SERVER_CAPABILITIES =
  (Capability.LONG_PASSWORD |
    Capability.FOUND_ROWS |
    Capability.LONG_FLAG |
    Capability.CONNECT_WITH_DB |
    Capability.NO_SCHEMA |
    Capability.ODBC |
    Capability.IGNORE_SPACE |
    Capability.PROTOCOL_41 |
    Capability.INTERACTIVE |
    Capability.IGNORE_SIGPIPE |
    Capability.TRANSACTIONS |
    Capability.SECURE_CONNECTION |
    Capability.MULTI_RESULTS |
    Capability.PLUGIN_AUTH |
    Capability.CONNECT_ATTRS |
    Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA |
    Capability.DEPRECATE_EOF) >>>
  0;

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_HANDSHAKE_PACKET_SIZE = 64 * 1024;
const DEFAULT_MAX_CONNECTIONS = 151;
const DEFAULT_MAX_HANDSHAKE_MEMORY = 16 * 1024 * 1024;
const DEFAULT_SERVER_VERSION = '8.0.36-auth-socket';
// The packet decoder's own ceiling (1 GiB, MySQL's max_allowed_packet limit).
const MAX_DECODER_PAYLOAD_SIZE = 1024 * 1024 * 1024;

function checkLimit(value: number | undefined, fallback: number, max: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0 || value > max) {
    throw codedError('ERR_INVALID_ARG_VALUE', `${what} must be an integer from 1 to ${max}`, TypeError);
  }
  return value;
}

export interface ResolvedOptions {
  accounts: Accounts;
  plugins: ServerPlugins;
  catalog: Catalog;
  variables: Readonly<Record<string, string | number | null>>;
  connectTimeout: number;
  serverVersion: string;
  maxHandshakePacketSize: number;
  maxConnections: number;
  adminAccounts: ReadonlySet<string>;
  handshakeMemory: ByteBudget;
  backlog: number;
  /** What the greeting offers. */
  capabilities: number;
  /** Made once from options.tls; null when the server offers no TLS. */
  secureContext: tls.SecureContext | null;
  admit: AdmitHook | null;
  status: StatusSource | null;
}

// The in-memory catalog of a server given no datadir: the built-in plugins, then the caller's
// (one with a built-in's name replaces it).
function memoryCatalog(accounts: Accounts, extra: ServerAuthPlugin[] | undefined): Catalog {
  const plugins = [...builtinServerPlugins, cachingSha2PasswordPlugin, ...(extra ?? [])];
  for (const plugin of plugins) {
    if (typeof plugin?.name !== 'string' || typeof plugin.authenticate !== 'function') {
      throw codedError('ERR_INVALID_ARG_VALUE', 'a server plugin needs a name and an authenticate function', TypeError);
    }
  }
  return new Catalog(accounts, new ServerPlugins(null, plugins), null);
}

function accountNames(names: readonly string[] | undefined): ReadonlySet<string> {
  if (names === undefined) return new Set(['root@localhost']);
  if (!Array.isArray(names) || !names.every((name) => typeof name === 'string' && name.includes('@'))) {
    throw codedError('ERR_INVALID_ARG_TYPE', "adminAccounts must be an array of 'user@host' strings", TypeError);
  }
  return new Set(names);
}

function capabilitiesOf(extra: number | undefined): number {
  if (extra === undefined) return SERVER_CAPABILITIES;
  if (!Number.isInteger(extra) || extra < 0 || extra > 0xffffffff) {
    throw codedError('ERR_INVALID_ARG_VALUE', 'extraCapabilities must be capability flags (a 32-bit unsigned integer)', TypeError);
  }
  // Compression would change the bytes under the session; TLS is options.tls's to offer.
  return (SERVER_CAPABILITIES | (extra & ~(Capability.SSL | Capability.COMPRESS))) >>> 0;
}

function admitHook(admit: AdmitHook | undefined): AdmitHook | null {
  if (admit !== undefined && typeof admit !== 'function') throw codedError('ERR_INVALID_ARG_TYPE', 'options.admit must be a function', TypeError);
  return admit ?? null;
}

function statusSource(source: StatusSource | undefined): StatusSource | null {
  if (source !== undefined && (typeof source?.values !== 'function' || typeof source.flush !== 'function')) {
    throw codedError('ERR_INVALID_ARG_TYPE', 'options.status must have values() and flush()', TypeError);
  }
  return source ?? null;
}

export function resolveOptions(options: ServerOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null || !(options.accounts instanceof Accounts)) {
    throw codedError('ERR_INVALID_ARG_TYPE', 'options.accounts must be an Accounts', TypeError);
  }
  const serverVersion = options.serverVersion ?? DEFAULT_SERVER_VERSION;
  if (typeof serverVersion !== 'string' || serverVersion.includes('\0')) {
    throw codedError('ERR_INVALID_ARG_VALUE', 'serverVersion must be a string without NUL', TypeError);
  }
  if (options.catalog !== undefined && options.catalog.accounts !== options.accounts) {
    throw codedError('ERR_INVALID_ARG_VALUE', "options.accounts must be the catalog's accounts", TypeError);
  }
  const catalog = options.catalog ?? memoryCatalog(options.accounts, options.plugins);
  if (options.identMap !== undefined) {
    if (typeof options.identMap !== 'function' && typeof options.identMap?.has !== 'function') {
      throw codedError('ERR_INVALID_ARG_TYPE', 'options.identMap must be an ident map (parseIdentMap, loadIdentMap) or a function returning one', TypeError);
    }
    catalog.setIdentMap(options.identMap);
  }
  const secureContext = serverSecureContext(options.tls);
  return {
    accounts: catalog.accounts,
    plugins: catalog.plugins,
    catalog,
    variables: { ...options.variables },
    // setTimeout's own limit.
    connectTimeout: checkLimit(options.connectTimeout, DEFAULT_CONNECT_TIMEOUT_MS, 0x7fffffff, 'connectTimeout'),
    serverVersion,
    maxHandshakePacketSize: checkLimit(
      options.maxHandshakePacketSize,
      DEFAULT_MAX_HANDSHAKE_PACKET_SIZE,
      MAX_DECODER_PAYLOAD_SIZE,
      'maxHandshakePacketSize',
    ),
    // MySQL's own ceiling for max_connections.
    maxConnections: checkLimit(options.maxConnections, DEFAULT_MAX_CONNECTIONS, 100_000, 'maxConnections'),
    adminAccounts: accountNames(options.adminAccounts),
    handshakeMemory: new ByteBudget(
      checkLimit(options.maxHandshakeMemory, DEFAULT_MAX_HANDSHAKE_MEMORY, Number.MAX_SAFE_INTEGER, 'maxHandshakeMemory'),
    ),
    backlog: checkLimit(options.backlog, DEFAULT_BACKLOG, 0x7fffffff, 'backlog'),
    capabilities: (capabilitiesOf(options.extraCapabilities) | (secureContext === null ? 0 : Capability.SSL)) >>> 0,
    secureContext,
    admit: admitHook(options.admit),
    status: statusSource(options.status),
  };
}
