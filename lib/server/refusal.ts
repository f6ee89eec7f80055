// How the server refuses a handshake: every reason it refuses for, mapped through the one table
// of MySQL errors (protocol/mysql-errors.ts) to the ERR the client reads, and the HandshakeError
// the server reports; then the ERR written and the connection closed (MySQL's login_failed_error
// and the connection's end in sql/auth/sql_authentication.cc).
import net from 'net';

import { errorCode } from '../errors';
import { accessDenied, ER_ACCESS_DENIED_NO_PASSWORD_ERROR, MYSQL_ERRORS, mysqlError, PasswordUsed, ServerErrorName } from '../protocol/mysql-errors';
import { buildErr, ErrPacket } from '../protocol/responses';
import { PacketChannel } from '../transport/packet-channel';

// A failed login: 1698 when the plugin never mentioned a password, else 1045 (login_failed_error).
const LOGIN_FAILED = 'login-failed';

/**
 * Every reason this server refuses a handshake for, with the MySQL error the client gets. The
 * built-in plugins' own reasons (auth_socket's from authenticateSocket, the password plugins')
 * are login failures too; a third-party plugin's reason is one as well.
 */
export const REFUSALS = {
  'malformed-response': 'ER_HANDSHAKE_ERROR',
  'oversized-packet': 'ER_HANDSHAKE_ERROR',
  'bad-sequence': 'ER_HANDSHAKE_ERROR',
  'tls-not-offered': 'ER_HANDSHAKE_ERROR',
  'admission-failed': 'ER_HANDSHAKE_ERROR',
  // A proxy's admission (lib/proxy): the upstream could not be reached, spoke TLS wrong, failed
  // its login on our side, or cannot relay the session; the account's credentials are malformed.
  'upstream-unreachable': 'ER_CONNECT_TO_FOREIGN_DATA_SOURCE',
  'upstream-tls': 'ER_CONNECT_TO_FOREIGN_DATA_SOURCE',
  'upstream-failed': 'ER_CONNECT_TO_FOREIGN_DATA_SOURCE',
  'upstream-credentials-invalid': 'ER_CONNECT_TO_FOREIGN_DATA_SOURCE',
  'upstream-capabilities': 'ER_NOT_SUPPORTED_YET',
  'change-user-to-local-account': 'ER_NOT_SUPPORTED_YET',
  'client-lacks-plugin-auth': 'ER_NOT_SUPPORTED_AUTH_MODE',
  'client-cannot-switch-plugin': 'ER_NOT_SUPPORTED_AUTH_MODE',
  'plugin-not-loaded': 'ER_PLUGIN_IS_NOT_LOADED',
  'too-many-connections': 'ER_CON_COUNT_ERROR',
  'handshake-memory-budget': 'ER_OUT_OF_RESOURCES',
  'out-of-memory': 'ER_OUT_OF_RESOURCES',
  'unknown-account': LOGIN_FAILED,
  'plugin-refused': LOGIN_FAILED,
  'plugin-error': LOGIN_FAILED,
  'proxy-user-not-supported': LOGIN_FAILED,
  'no-user-name': LOGIN_FAILED,
  'not-unix-socket': LOGIN_FAILED,
  'no-peer-credentials': LOGIN_FAILED,
  'unknown-uid': LOGIN_FAILED,
  'lookup-failed': LOGIN_FAILED,
  'user-mismatch': LOGIN_FAILED,
  // auth_socket_map: no line of the named map gives the peer the account, the ident file has no
  // map of that name, the server has no ident file; the peer's uid is the overflow uid.
  'map-no-match': LOGIN_FAILED,
  'unknown-map': LOGIN_FAILED,
  'no-ident-map': LOGIN_FAILED,
  'overflow-uid': LOGIN_FAILED,
  'wrong-password': LOGIN_FAILED,
  'malformed-password': LOGIN_FAILED,
} as const satisfies Record<string, ServerErrorName | typeof LOGIN_FAILED>;

type FixedReason = { [R in keyof typeof REFUSALS]: (typeof REFUSALS)[R] extends ServerErrorName ? R : never }[keyof typeof REFUSALS];

export type HandshakeErrorCode =
  | 'ERR_ACCESS_DENIED'
  | 'ERR_BAD_HANDSHAKE'
  | 'ERR_AUTH_MODE_NOT_SUPPORTED'
  | 'ERR_PLUGIN_NOT_LOADED'
  | 'ERR_CONNECT_TIMEOUT'
  | 'ERR_CONNECTION_CLOSED'
  | 'ERR_TOO_MANY_CONNECTIONS'
  | 'ERR_OUT_OF_RESOURCES'
  | 'ERR_SSL_CONNECTION'
  // A proxy's admission: the upstream could not be reached or used, or refused the login itself.
  | 'ERR_UPSTREAM_UNREACHABLE'
  | 'ERR_UPSTREAM_REFUSED'
  | 'ERR_NOT_SUPPORTED_YET';

/** What the server knew of a login when it decided on it: the error log's line. */
export interface LoginAttempt {
  /** The user name the client asked for; null before its response was read. */
  user: string | null;
  /** 'localhost' for Unix-socket peers, the IP for TCP. */
  host: string;
  /** The account's plugin; null before an account was found. */
  plugin: string | null;
  /** The OS user the kernel names for the peer, when a plugin looked it up (auth_socket). */
  osUser: string | null;
  /** The peer's process as the kernel recorded it at connect() (Unix-socket peers only). */
  peer: { pid: number; uid: number; gid: number } | null;
}

/** A refused handshake: the ERR packet (errno, sqlState) was written first; null when none was sent. */
export class HandshakeError extends Error {
  constructor(
    readonly code: HandshakeErrorCode,
    readonly errno: number | null,
    readonly sqlState: string | null,
    /** Why, in a word: e.g. 'user-mismatch', 'wrong-password', 'unknown-account', 'malformed-response'. */
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HandshakeError';
  }

  /** What the server knew of the login when it refused (set by the server; null for acceptConnection's callers' own errors). */
  attempt: LoginAttempt | null = null;
}

/** A refusal decided inside the handshake: the ERR to send, why, and the HandshakeError code. */
export class Refusal {
  constructor(
    readonly reason: string,
    readonly code: HandshakeErrorCode,
    readonly err: ErrPacket,
    readonly cause?: unknown,
  ) {}

  /** The HandshakeError that reports it, with what the server knew of the login. */
  error(attempt: LoginAttempt | null = null): HandshakeError {
    const error = new HandshakeError(this.code, this.err.errno, this.err.sqlState, this.reason, this.err.message, { cause: this.cause });
    error.attempt = attempt;
    return error;
  }
}

/** The upstream's own refusal of a proxy's login, its ERR passed on as the upstream sent it. */
export function upstreamRefused(err: ErrPacket, cause?: unknown): Refusal {
  return new Refusal('upstream-refused', 'ERR_UPSTREAM_REFUSED', err, cause);
}

/** A refusal whose error the reason alone decides; `args` fill the error's message. */
export function refusal(reason: FixedReason, cause?: unknown, ...args: string[]): Refusal {
  const error = REFUSALS[reason];
  return new Refusal(reason, MYSQL_ERRORS[error].code, mysqlError(error, ...args), cause);
}

/** A failed login for `reason` (any plugin's), answered as MySQL's login_failed_error(). */
export function loginFailed(reason: string, user: string, host: string, passwordUsed: PasswordUsed, cause?: unknown): Refusal {
  const err = accessDenied(user, host, passwordUsed);
  const error = err.errno === ER_ACCESS_DENIED_NO_PASSWORD_ERROR ? 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR' : 'ER_ACCESS_DENIED_ERROR';
  return new Refusal(reason, MYSQL_ERRORS[error].code, err, cause);
}

// Packet-layer failures of the handshake's reads, each with its own reason.
const channelReasons: Record<string, FixedReason> = {
  ERR_MALFORMED_PACKET: 'malformed-response',
  ERR_PACKET_TOO_LARGE: 'oversized-packet',
  ERR_PACKET_ALLOCATION: 'out-of-memory',
  ERR_PACKET_SEQUENCE: 'bad-sequence',
  // The server's doing, not the client's: the connections in their handshake hold all allowed.
  ERR_MEMORY_BUDGET: 'handshake-memory-budget',
};

/** A read's failure as the refusal it calls for, or the error itself (a closed connection). */
export function readFailure(error: unknown): unknown {
  const reason = channelReasons[errorCode(error) ?? ''];
  return reason === undefined ? error : refusal(reason, error);
}

// How long a refused client may keep its connection open after our ERR before we close it.
const REFUSAL_LINGER_MS = 1_000;

/**
 * Writes the refusal's ERR packet (when the socket can still take it) and ends our side. Whatever
 * the client still sends is drained unread, so closing does not reset the connection under the
 * ERR; the socket is destroyed when the client closes, or after REFUSAL_LINGER_MS at the latest.
 */
export function refuse(socket: net.Socket, channel: PacketChannel, refusal: Refusal): Promise<HandshakeError> {
  const error = refusal.error();
  return new Promise((resolve) => {
    if (socket.destroyed || !socket.writable) {
      socket.destroy();
      return resolve(error);
    }
    channel.write(buildErr(refusal.err)).then(
      () => {
        channel.detach();
        // The channel's error listener went with it: a reset during the linger must not crash us.
        socket.on('error', () => {});
        socket.on('data', () => {});
        const linger = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
        socket.once('close', () => clearTimeout(linger));
        socket.end(() => resolve(error));
        socket.resume();
      },
      () => {
        socket.destroy();
        resolve(error);
      },
    );
  });
}
