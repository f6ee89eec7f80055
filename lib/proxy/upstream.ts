// The upstream leg of the proxy: the account's upstream credentials (its ATTRIBUTE, as MySQL 8
// stores user attributes), the connection opened with client/connect() once the local login
// succeeded, and its failures as the MySQL errors the local client reads (MySQL Router's
// "Can't connect to remote MySQL server" answers, sql-common/client.cc's CR_* numbers).
import os from 'os';

import { connect, ClientConnection, DEFAULT_CONNECT_TIMEOUT } from '../client/connect';
import { tlsPlan } from '../client/tls';
import { ConnectOptions } from '../client/connect-options';
import { codedError, errorCode } from '../errors';
import { passwdLookup } from '../peer/user-cache';
import { Capability } from '../protocol/constants';
import { mysqlError } from '../protocol/mysql-errors';
import { Account } from '../server/catalog/accounts';
import type { AuthenticatedConnection } from '../server/connection';
import { Refusal, refusal, upstreamRefused } from '../server/refusal';

export interface UpstreamOptions {
  /** The upstream's Unix socket; or host and port for TCP. */
  socketPath?: string;
  host?: string;
  port?: number;
  /** MySQL's --ssl-mode for the upstream leg (default PREFERRED: TLS over TCP when offered). */
  sslMode?: ConnectOptions['sslMode'];
  /** CA, client certificate and key (PEM) for the upstream's TLS. */
  ssl?: ConnectOptions['ssl'];
  /** Milliseconds for the whole upstream connection phase (default 10 s, MySQL's connect_timeout). */
  connectTimeout?: number;
}

const VERIFIED_TLS = new Set(['VERIFY_CA', 'VERIFY_IDENTITY']);

export interface UpstreamCredentials {
  user: string;
  password: string;
}

/**
 * The flags whose meaning reaches past the login: the client's and the upstream session's must be
 * the same for every byte to be relayed unchanged (result set framing, multi-statements, LOCAL
 * INFILE, session tracking, and what the server's answers mean).
 */
const RELAYED_CAPABILITIES =
  (Capability.FOUND_ROWS |
    Capability.LONG_FLAG |
    Capability.NO_SCHEMA |
    Capability.LOCAL_FILES |
    Capability.IGNORE_SPACE |
    Capability.PROTOCOL_41 |
    Capability.INTERACTIVE |
    Capability.TRANSACTIONS |
    Capability.MULTI_STATEMENTS |
    Capability.MULTI_RESULTS |
    Capability.PS_MULTI_RESULTS |
    Capability.CAN_HANDLE_EXPIRED_PASSWORDS |
    Capability.SESSION_TRACK |
    Capability.DEPRECATE_EOF) >>>
  0;

/** What the proxy's greeting offers beyond the server's own: what an upstream session relays. */
export const PROXY_EXTRA_CAPABILITIES =
  (Capability.LOCAL_FILES | Capability.MULTI_STATEMENTS | Capability.PS_MULTI_RESULTS | Capability.SESSION_TRACK) >>> 0;

// The login's own flags: the proxy's leg speaks 4.1 with plugins whatever the client's did.
const LOGIN_CAPABILITIES =
  (Capability.LONG_PASSWORD | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH | Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA) >>> 0;

/**
 * The upstream credentials of an account, or null when it has none and is served locally. An
 * account that has them in a wrong shape (upstream_user or upstream_password not a string) is
 * refused rather than served locally or relayed without its password.
 */
export function upstreamCredentials(account: Account): UpstreamCredentials | null {
  const attributes = account.attributes;
  if (attributes === null || !(Object.hasOwn(attributes, 'upstream_user') || Object.hasOwn(attributes, 'upstream_password'))) return null;
  const { upstream_user: user, upstream_password: password = '' } = attributes;
  if (typeof user !== 'string' || typeof password !== 'string') {
    const why = `the upstream_user and upstream_password attributes of '${account.user}'@'${account.host}' must be strings`;
    throw refusal('upstream-credentials-invalid', codedError('ERR_UPSTREAM_CREDENTIALS', why), why);
  }
  return { user, password };
}

function describe(options: UpstreamOptions): string {
  return options.socketPath ?? `${options.host ?? 'localhost'}:${options.port ?? 3306}`;
}

// The names the proxy sets, and what a client's own name must not pass for: MariaDB compares
// attribute names ignoring trailing spaces (utf8mb3_bin); a _ci collation elsewhere would also
// ignore case and accents, hence lower case here and plain ASCII only. A name that is an array
// index would be written before ours (JavaScript orders such keys first) and could crowd them out.
const KERNEL_ATTRIBUTES = new Set(['os_user', 'os_uid', 'os_pid']);
const dropped = (name: string) =>
  !/^[\x21-\x7e ]*$/.test(name) || KERNEL_ATTRIBUTES.has(name.toLowerCase().trimEnd()) || /^(?:0|[1-9][0-9]*)$/.test(name);

/**
 * Attributes the upstream sees in performance_schema.session_connect_attrs: who really connected,
 * as the kernel told us, first (the upstream keeps only as many bytes as its
 * performance_schema_session_connect_attrs_size allows, so a client's own cannot crowd them out),
 * then the client's own, less any name that could pass for one of ours or go before them. The
 * OS user name is the passwd entry of the kernel's uid, whatever the account's plugin reported.
 */
async function connectAttributes(connection: AuthenticatedConnection): Promise<Record<string, string>> {
  const attributes: Record<string, string> = Object.create(null);
  const peer = connection.peer;
  if (peer !== null) {
    const osUser = (await passwdLookup(peer.uid).catch(() => null))?.name;
    if (osUser !== undefined) attributes.os_user = osUser;
    attributes.os_uid = String(peer.uid);
    attributes.os_pid = String(peer.pid);
  }
  for (const [name, value] of Object.entries(connection.connectAttributes ?? {})) {
    if (!dropped(name)) attributes[name] = value;
  }
  return attributes;
}

/** A connect() failure as the refusal the local client gets in place of its OK. */
function upstreamRefusal(error: unknown, options: UpstreamOptions): Refusal {
  const code = errorCode(error) ?? '';
  const { errno, sqlState, message = code } = error as { errno?: number; sqlState?: string | null; message?: string };
  if (code === 'ERR_SERVER_ERROR' && typeof errno === 'number') return upstreamRefused({ errno, sqlState: sqlState ?? 'HY000', message }, error);
  // The client library's 2003 and 2026 texts, inside the server error a client can read (1429).
  if (code === 'ERR_SSL_CONNECTION') return refusal('upstream-tls', error, message);
  // The system error number, as libmysql prints it: (111) refused, (110) timed out, (2) no socket file.
  const timedOut = code === 'ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT';
  const number = timedOut ? os.constants.errno.ETIMEDOUT : (os.constants.errno as Record<string, number>)[code];
  if (number !== undefined || code === 'ERR_SERVER_LOST') {
    return refusal('upstream-unreachable', error, mysqlError('CR_CONN_HOST_ERROR', describe(options), String(number ?? 0)).message);
  }
  // A client-side failure of the upstream's login (a plugin we lack or refuse, a malformed packet).
  return refusal('upstream-failed', error, `${describe(options)}: ${message}`);
}

/**
 * Opens and authenticates the upstream session for a local login, asking for exactly the client's
 * session flags; resolves only when the upstream granted every one of them. Rejects with the
 * Refusal to answer the local login with. A login the handshake gave up on (signal) closes it.
 */
export async function openUpstream(
  options: UpstreamOptions,
  connection: AuthenticatedConnection,
  credentials: UpstreamCredentials,
  signal: AbortSignal,
  deadline = Infinity,
): Promise<ClientConnection> {
  const timeout = Math.max(1, Math.floor(Math.min(options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT, deadline - Date.now())));
  const wanted = (connection.capabilities & RELAYED_CAPABILITIES) >>> 0;
  let upstream: ClientConnection;
  try {
    upstream = await connect({
      socketPath: options.socketPath,
      host: options.host,
      port: options.port,
      sslMode: options.sslMode,
      ssl: options.ssl,
      timeout,
      user: credentials.user,
      password: credentials.password,
      database: connection.database ?? undefined,
      characterSet: connection.characterSet,
      capabilities: wanted | LOGIN_CAPABILITIES,
      connectAttributes: await connectAttributes(connection),
      // A password in clear (mysql_clear_password, dialog) only to a local socket or inside TLS
      // whose certificate was checked (REQUIRED alone lets a man in the middle ask for it),
      // whatever LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN says in the proxy's environment.
      enableCleartextPlugin: options.socketPath !== undefined || VERIFIED_TLS.has(tlsPlan(options).mode),
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw upstreamRefusal(error, options);
  }
  const missing = wanted & ~upstream.capabilities;
  if (missing !== 0) {
    upstream.socket.destroy();
    const what = `relaying capability flags 0x${missing.toString(16)} to an upstream without them`;
    throw refusal('upstream-capabilities', codedError('ERR_UPSTREAM_CAPABILITIES', what), what);
  }
  return upstream;
}
