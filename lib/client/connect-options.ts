// connect()'s options (sql-common/client.cc's mysql_options() and mysql_real_connect() arguments),
// checked once before anything is sent, and the capability flags they ask the server for.
import { ClientAuthPlugin, ConnectionPluginOptions } from './plugin';
import { ClientPluginPolicy, clientPluginPolicy } from './policy';
import { SslMode, SslOptions, TlsPlan, tlsPlan } from './tls';
import { codedError } from '../errors';
import { Capability } from '../protocol/constants';

/** MySQL's connect_timeout default, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT = 10_000;
/** Largest handshake packet taken from a server by default: greetings, RSA keys and PAM prompts are far smaller. */
export const DEFAULT_MAX_HANDSHAKE_PAYLOAD = 64 * 1024;
/** utf8mb4_general_ci: understood by MySQL 5.5.3+ and every MariaDB in use. */
export const DEFAULT_CHARACTER_SET = 45;
/** The max_packet_size the client announces. */
export const MAX_PACKET_SIZE = 16 * 1024 * 1024;

// What this client offers unless told otherwise; the server's own flags cut it down
// (CONNECT_WITH_DB and CONNECT_ATTRS are added when used, SSL when TLS is negotiated).
const CLIENT_CAPABILITIES =
  Capability.LONG_PASSWORD |
  Capability.LONG_FLAG |
  Capability.PROTOCOL_41 |
  Capability.TRANSACTIONS |
  Capability.SECURE_CONNECTION |
  Capability.MULTI_RESULTS |
  Capability.PLUGIN_AUTH |
  Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA;


export interface ConnectOptions {
  /** Unix socket path; or host/port for TCP. */
  socketPath?: string;
  host?: string;
  port?: number;
  user: string;
  password?: string;
  database?: string;
  /** Plugins for this connection only; they win over registered plugins of the same name. */
  plugins?: readonly ClientAuthPlugin[];
  /**
   * The plugin that makes the first response (MySQL's default_auth). Default: the plugin the
   * server advertised when we have it, else mysql_native_password.
   */
  defaultAuth?: string;
  connectAttributes?: Record<string, string>;
  /** Whole connection phase, in milliseconds (default 10 s). */
  timeout?: number;
  /** Aborting it drops the connection at once and rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Allows plugins that send the password in cleartext (mysql_clear_password, dialog,
   * auth_simple, any declared with sendsCleartextPassword); default from env
   * LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN.
   */
  enableCleartextPlugin?: boolean;
  /**
   * Only these plugins may run, whether advertised, chosen by defaultAuth or switched to: an
   * array of names or a comma-separated string (the mariadb connector's option). Default: any.
   */
  restrictedAuth?: string | readonly string[];
  /** Settings plugins read (serverPublicKey, getServerPublicKey, dialogAsk, ...). */
  pluginOptions?: ConnectionPluginOptions;
  /** Largest packet accepted from the server during the handshake (default 64 KiB). */
  maxPayloadSize?: number;
  /**
   * MySQL's --ssl-mode. Default PREFERRED (TLS when the server offers it, never over a Unix
   * socket), or VERIFY_CA when ssl.ca is given. REQUIRED and stricter fail with 2026 when the
   * server offers no TLS; VERIFY_CA checks the chain against ssl.ca, VERIFY_IDENTITY also the
   * name (ssl.servername, else host). Below VERIFY_CA no certificate is checked, as MySQL's.
   */
  sslMode?: SslMode;
  /** PEM contents: ca (needed by VERIFY_CA and VERIFY_IDENTITY), cert and key, servername (SNI). */
  ssl?: SslOptions;
  /**
   * The capability flags to ask for instead of the defaults; the server's flags cut them down.
   * PROTOCOL_41 and SECURE_CONNECTION are always asked (the response is built that way),
   * CONNECT_WITH_DB only with a database, CONNECT_ATTRS also with connectAttributes; SSL follows
   * sslMode and COMPRESS is never asked, whatever this says.
   */
  capabilities?: number;
  /** The collation id the response announces (default 45, utf8mb4_general_ci). */
  characterSet?: number;
}

export interface CheckedOptions {
  policy: ClientPluginPolicy;
  tls: TlsPlan;
}

export function checkOptions(options: ConnectOptions): CheckedOptions {
  const invalid = (message: string, code = 'ERR_INVALID_ARG_VALUE') => codedError(code, message, TypeError);
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object', 'ERR_INVALID_ARG_TYPE');
  if (typeof options.user !== 'string') throw invalid('options.user must be a string', 'ERR_INVALID_ARG_TYPE');
  for (const key of ['password', 'database', 'socketPath', 'host', 'defaultAuth'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'string') throw invalid(`options.${key} must be a string`, 'ERR_INVALID_ARG_TYPE');
  }
  if (options.socketPath === undefined && options.host === undefined) throw invalid('give socketPath, or host (and port)');
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port > 0 && options.port < 65536)) {
    throw invalid('options.port must be an integer from 1 to 65535');
  }
  for (const key of ['timeout', 'maxPayloadSize'] as const) {
    const value = options[key];
    // setTimeout's and the packet decoder's own limits.
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0 && value <= 0x7fffffff)) {
      throw invalid(`options.${key} must be an integer from 1 to 2147483647`);
    }
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw invalid('options.signal must be an AbortSignal', 'ERR_INVALID_ARG_TYPE');
  const { capabilities, characterSet } = options;
  if (capabilities !== undefined && !(Number.isInteger(capabilities) && capabilities >= 0 && capabilities <= 0xffffffff)) {
    throw invalid('options.capabilities must be capability flags (an integer from 0 to 4294967295)');
  }
  // One byte on the wire; 0 names no collation.
  if (characterSet !== undefined && !(Number.isInteger(characterSet) && characterSet > 0 && characterSet <= 0xff)) {
    throw invalid('options.characterSet must be a collation id from 1 to 255');
  }
  const plugins: unknown = options.plugins;
  if (plugins !== undefined) {
    const isPlugin = (p: unknown) =>
      typeof p === 'object' && p !== null && typeof (p as ClientAuthPlugin).name === 'string' && typeof (p as ClientAuthPlugin).authenticate === 'function';
    if (!Array.isArray(plugins) || !plugins.every(isPlugin)) {
      throw invalid('options.plugins must be an array of plugins from declareClientPlugin()', 'ERR_INVALID_ARG_TYPE');
    }
  }
  const attributes: unknown = options.connectAttributes;
  if (attributes !== undefined) {
    const strings = typeof attributes === 'object' && attributes !== null && Object.values(attributes).every((v) => typeof v === 'string');
    if (!strings) throw invalid('options.connectAttributes must map names to strings', 'ERR_INVALID_ARG_TYPE');
  }
  const cleartext: unknown = options.enableCleartextPlugin;
  if (cleartext !== undefined && typeof cleartext !== 'boolean') throw invalid('options.enableCleartextPlugin must be a boolean', 'ERR_INVALID_ARG_TYPE');
  const policy = clientPluginPolicy(options);
  return { policy, tls: tlsPlan(options) };
}

/** The flags the client asks for, before the server's cut them down (see ConnectOptions.capabilities). */
export function wantedCapabilities(options: ConnectOptions): number {
  const layout = Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION;
  let wanted = ((options.capabilities ?? CLIENT_CAPABILITIES) | layout) & ~(Capability.SSL | Capability.COMPRESS | Capability.CONNECT_WITH_DB);
  if (options.database !== undefined) wanted |= Capability.CONNECT_WITH_DB;
  if (options.connectAttributes !== undefined) wanted |= Capability.CONNECT_ATTRS;
  return wanted >>> 0;
}
