// TLS for connect(): MySQL's --ssl-mode as sql-common/client.cc applies it in cli_establish_ssl()
// (after the greeting, an SSLRequest, then the TLS handshake on the same socket; everything after
// travels inside TLS) and ssl_verify_server_cert() (the chain from VERIFY_CA, the host name from
// VERIFY_IDENTITY). Node's tls does the cryptography; this module decides when and what to check.
import net from 'net';
import tls from 'tls';

import { codedError } from '../errors';
import { Capability } from '../protocol/constants';
import { MYSQL_ERRORS, mysqlError } from '../protocol/mysql-errors';

/** MySQL's --ssl-mode values, weakest first. */
export const SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** Certificates and keys as PEM contents (what Node's tls takes), not file names. */
export interface SslOptions {
  /** Trusted CAs for VERIFY_CA and VERIFY_IDENTITY (MySQL's --ssl-ca). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate and its key, for accounts that REQUIRE X509 (MySQL's --ssl-cert, --ssl-key). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Sent as SNI, and the name VERIFY_IDENTITY checks in place of `host` (MySQL's --tls-sni-servername). */
  servername?: string;
}

/** What connect() does about TLS, decided once from its options. */
export interface TlsPlan {
  mode: SslMode;
  /** The CA (when the mode verifies), certificate and key as a context: made on first use, once per options.ssl object. */
  secureContext(): tls.SecureContext;
  /** MySQL's PREFERRED never encrypts a Unix socket; REQUIRED and stricter do. */
  overUnixSocket: boolean;
  /** The name VERIFY_IDENTITY checks the certificate against. */
  identity: string;
  /** The SNI server name, when there is a DNS name to send. */
  servername?: string;
}

const CR_SSL_CONNECTION_ERROR = MYSQL_ERRORS.CR_SSL_CONNECTION_ERROR;

/** A 2026 error (ERR_SSL_CONNECTION) with MySQL's "SSL connection error: ..." message. */
function sslConnectionError(reason: string, cause?: unknown): Error & { code: string; errno: number } {
  const error = codedError(CR_SSL_CONNECTION_ERROR.code, mysqlError('CR_SSL_CONNECTION_ERROR', reason).message) as Error & { code: string; errno: number };
  error.errno = CR_SSL_CONNECTION_ERROR.errno;
  if (cause !== undefined) error.cause = cause;
  return error;
}

const isPem = (value: unknown): value is string | Buffer => typeof value === 'string' || Buffer.isBuffer(value);

let warnedCaIgnored = false;

// A TLS context costs a millisecond or so to build from PEM: a caller that connects again and
// again with the same options.ssl object (a proxy's upstream) builds it once per verify setting.
const contexts = new WeakMap<object, Map<boolean, tls.SecureContext>>();

function secureContextFor(ssl: object, verifies: boolean, { ca, cert, key }: SslOptions): tls.SecureContext {
  let byVerify = contexts.get(ssl);
  if (byVerify === undefined) contexts.set(ssl, (byVerify = new Map()));
  let context = byVerify.get(verifies);
  if (context === undefined) {
    context = tls.createSecureContext({ minVersion: 'TLSv1.2', ca: verifies ? ca : undefined, cert, key });
    byVerify.set(verifies, context);
  }
  return context;
}

/**
 * The plan for a connection's options. Throws TypeError (ERR_INVALID_ARG_TYPE / _VALUE) for bad
 * options, and the 2026 error MySQL gives for VERIFY_CA or VERIFY_IDENTITY without a CA.
 *
 * Without sslMode, a CA means VERIFY_CA, as MySQL 8's client programs read --ssl-ca without
 * --ssl-mode (include/sslopt-case.h: "Don't change ssl-mode if set explicitly", else VERIFY_CA);
 * with an explicit mode below VERIFY_CA the CA is not used and nothing is verified, as theirs
 * (client/include/sslopt-vars.h passes no CA then, and warns "no verification of server
 * certificate will be done": so do we, once per process).
 */
export function tlsPlan(options: { sslMode?: unknown; ssl?: unknown; host?: string; socketPath?: string }): TlsPlan {
  const invalid = (message: string, code = 'ERR_INVALID_ARG_VALUE') => codedError(code, message, TypeError);
  const ssl: unknown = options.ssl ?? {};
  if (typeof ssl !== 'object' || ssl === null || Array.isArray(ssl)) throw invalid('options.ssl must be an object', 'ERR_INVALID_ARG_TYPE');
  const { ca, cert, key, servername } = ssl as SslOptions;
  if (ca !== undefined && !isPem(ca) && !(Array.isArray(ca) && ca.length > 0 && ca.every(isPem))) {
    throw invalid('options.ssl.ca must be PEM text (a string or Buffer) or an array of them', 'ERR_INVALID_ARG_TYPE');
  }
  for (const [name, value] of [['cert', cert], ['key', key]] as const) {
    if (value !== undefined && !isPem(value)) throw invalid(`options.ssl.${name} must be PEM text (a string or Buffer)`, 'ERR_INVALID_ARG_TYPE');
  }
  if ((cert === undefined) !== (key === undefined)) throw invalid('options.ssl.cert and options.ssl.key go together: give both or neither');
  if (servername !== undefined && (typeof servername !== 'string' || servername === '')) {
    throw invalid('options.ssl.servername must be a non-empty string', 'ERR_INVALID_ARG_TYPE');
  }
  const explicit: unknown = options.sslMode;
  if (explicit !== undefined && !SSL_MODES.includes(explicit as SslMode)) throw invalid(`options.sslMode must be one of ${SSL_MODES.join(', ')}`);
  const mode: SslMode = (explicit as SslMode | undefined) ?? (ca !== undefined ? 'VERIFY_CA' : 'PREFERRED');
  const verifies = mode === 'VERIFY_CA' || mode === 'VERIFY_IDENTITY';
  if (verifies && ca === undefined) throw sslConnectionError('CA certificate is required if ssl-mode is VERIFY_CA or VERIFY_IDENTITY');
  if (!verifies && ca !== undefined && mode !== 'DISABLED' && !warnedCaIgnored) {
    warnedCaIgnored = true;
    process.emitWarning(`connect(): no verification of server certificate will be done with sslMode ${mode}; use VERIFY_CA or VERIFY_IDENTITY to check it against options.ssl.ca`, {
      code: 'AUTH_SOCKET_SSL_CA_IGNORED',
    });
  }
  const host = options.socketPath === undefined ? (options.host ?? 'localhost') : 'localhost';
  const sniHost = options.socketPath === undefined && net.isIP(host) === 0 ? host : undefined;
  return {
    mode,
    secureContext: () => secureContextFor(ssl, verifies, { ca, cert, key }),
    overUnixSocket: options.socketPath !== undefined,
    identity: servername ?? host,
    servername: servername ?? sniHost,
  };
}

/**
 * Whether to send an SSLRequest to a server that greeted with `serverCapabilities`. Throws the
 * 2026 error MySQL gives when REQUIRED or stricter meets a server without CLIENT_SSL.
 */
export function useTls(plan: TlsPlan, serverCapabilities: number): boolean {
  if (plan.mode === 'DISABLED' || (plan.mode === 'PREFERRED' && plan.overUnixSocket)) return false;
  if (serverCapabilities & Capability.SSL) return true;
  if (plan.mode === 'PREFERRED') return false;
  throw sslConnectionError("SSL is required but the server doesn't support it");
}

/**
 * Starts the client side of TLS on `socket` (already past the SSLRequest, with nothing of the
 * server's unread). `secured` resolves once the handshake is done and the server's certificate
 * passed the plan's checks; it rejects with a 2026 error carrying the TLS failure as its cause.
 * `socket` is returned at once so that the caller can destroy it if the handshake outlasts it.
 */
export function startTls(socket: net.Socket, plan: TlsPlan): { socket: tls.TLSSocket; secured: Promise<void> } {
  const verifies = plan.mode === 'VERIFY_CA' || plan.mode === 'VERIFY_IDENTITY';
  const secure = tls.connect({
    socket,
    servername: plan.servername,
    secureContext: plan.secureContext(),
    // Below VERIFY_CA any certificate goes, as MySQL's REQUIRED: encryption without identity.
    rejectUnauthorized: verifies,
    // Node checks the name only once the chain passed; VERIFY_CA checks no name at all.
    checkServerIdentity: (_name, certificate) =>
      plan.mode === 'VERIFY_IDENTITY' ? tls.checkServerIdentity(plan.identity, certificate) : undefined,
  });
  const secured = new Promise<void>((resolve, reject) => {
    const done = () => {
      secure.off('secureConnect', onSecure);
      secure.off('error', onError);
      secure.off('close', onClose);
    };
    const onSecure = () => {
      done();
      resolve();
    };
    const onError = (error: Error) => {
      done();
      // Until another owner listens, a later error must not go unheard (it would crash).
      secure.on('error', () => {});
      reject(sslConnectionError(error.message, error));
    };
    const onClose = () => {
      done();
      reject(sslConnectionError('the server closed the connection during the TLS handshake'));
    };
    secure.once('secureConnect', onSecure);
    secure.once('error', onError);
    secure.once('close', onClose);
  });
  return { socket: secure, secured };
}
