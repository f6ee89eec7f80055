// authenticateSocket(): MySQL's auth_socket decision (plugin/auth/auth_socket.cc) for any socket;
// with `rule: 'mariadb'`, MariaDB 11.6's unix_socket (plugin/auth_socket/auth_socket.c: an AS
// string replaces the user-name match); with `map`, an ident map decides (PostgreSQL's peer
// authentication with a pg_ident.conf map, src/backend/libpq/auth.c: ident_inet/auth_peer).
import net from 'net';

import { codedError, errorCode } from '../errors';
import { getPeerCredentials, PeerCredentials } from './credentials';
import { IdentMap, IdentMapLine, mapPermits } from './ident-map';
import { overflowUid } from './process';
import type { UserLookup } from './user-cache';
import { lookupUser, UserRecord } from './users';

export interface AuthSocketAccount {
  /** The MySQL user name the client asked for. */
  user: string;
  /**
   * The account's `AS '...'` string: a second OS user name that may use the account (MySQL), the
   * only one (rule 'mariadb'), or, with `options.map`, the name of the map that decides.
   */
  authenticationString?: string;
}

export interface AuthenticateSocketOptions {
  /** Replaces the passwd lookup (a cachedUserLookup(): its staleness bound then applies). */
  lookupUser?: UserLookup;
  /**
   * 'mysql' (default): the OS user must be `user` or the AS string. 'mariadb': MariaDB 11.6's
   * unix_socket, where a non-empty AS string replaces `user` (the OS user must be the AS string).
   */
  rule?: 'mysql' | 'mariadb';
  /**
   * An ident map (parseIdentMap / loadIdentMap): the account's authenticationString names one of
   * its maps, and the peer is accepted as `user` only when a line of that map gives it `user`.
   * The peer's groups are read from the kernel (SO_PEERGROUPS) for its @group lines.
   */
  map?: IdentMap;
  /**
   * Refuse the overflow uid (65534: how an unmapped uid of another user namespace looks). The
   * overflow gid needs no option: it never counts as a group of the peer's (ident-map.ts), and a
   * peer is not refused for it, as Debian's system users have it (nogroup) as their own.
   */
  refuseOverflowUid?: boolean;
}

export type AuthSocketReason =
  /** accepted: the OS user name equals `user` */
  | 'user-match'
  /** accepted: the OS user name equals `authenticationString` */
  | 'authentication-string-match'
  /** accepted: a line of the ident map gives the peer `user` (the line is in `result.line`) */
  | 'map-match'
  /** refused: not a Unix-domain socket (TCP is always refused) */
  | 'not-unix-socket'
  /** refused: the kernel gave no credentials (destroyed socket, bad fd, no peer, platform) */
  | 'no-peer-credentials'
  /** refused: the peer's uid has no passwd entry */
  | 'unknown-uid'
  /** refused: the passwd lookup itself failed (NSS error): fail closed */
  | 'lookup-failed'
  /** refused: the OS user name matches neither name */
  | 'user-mismatch'
  /** refused: no line of the ident map gives the peer `user` */
  | 'map-no-match'
  /** refused: the ident map has no map of the authenticationString's name */
  | 'unknown-map'
  /** refused (refuseOverflowUid): the peer's uid is the kernel's overflow uid */
  | 'overflow-uid';

export interface AuthSocketResult {
  ok: boolean;
  reason: AuthSocketReason;
  /** OS user name of the peer (MySQL's external_user), once known. */
  osUser?: string;
  uid?: number;
  gid?: number;
  pid?: number;
  /** With a map: the line that accepted the peer (map-match). */
  line?: IdentMapLine;
  /** The underlying error for no-peer-credentials and lookup-failed. */
  error?: Error;
}

function checkAccount(account: AuthSocketAccount): void {
  if (typeof account !== 'object' || account === null || typeof account.user !== 'string') {
    throw codedError('ERR_INVALID_ARG_TYPE', 'account.user must be a string', TypeError);
  }
  const auth = account.authenticationString;
  if (auth !== undefined && auth !== null && typeof auth !== 'string') {
    throw codedError('ERR_INVALID_ARG_TYPE', 'account.authenticationString must be a string', TypeError);
  }
}

// A lone surrogate would be encoded as U+FFFD and could then equal some other name's bytes.
function exactBytes(name: string | null | undefined): Buffer | null {
  return typeof name === 'string' && name.length > 0 && name.isWellFormed() ? Buffer.from(name, 'utf8') : null;
}

/**
 * Step 7 of auth_socket: accept iff the OS user name equals the MySQL user name or the account's
 * authentication string, compared byte for byte (no case folding, no trimming). An empty name
 * never matches. With rule 'mariadb' (unix_socket, 11.6+) a non-empty authentication string is
 * the only name that matches.
 */
export function matchOsUser(
  osUserName: Buffer,
  account: AuthSocketAccount,
  rule: 'mysql' | 'mariadb' = 'mysql',
): 'user-match' | 'authentication-string-match' | null {
  if (osUserName.length === 0) return null;
  const replaces = rule === 'mariadb' && typeof account.authenticationString === 'string' && account.authenticationString !== '';
  if (!replaces && exactBytes(account.user)?.equals(osUserName)) return 'user-match';
  if (exactBytes(account.authenticationString)?.equals(osUserName)) return 'authentication-string-match';
  return null;
}

// The peer's name for a map: null unless its passwd bytes are exactly the string's UTF-8.
function exactName(user: UserRecord): string | null {
  return user.name.isWellFormed() && Buffer.from(user.name, 'utf8').equals(user.rawName) ? user.name : null;
}

function checkOptions(options: AuthenticateSocketOptions): void {
  if (typeof options !== 'object' || options === null) throw codedError('ERR_INVALID_ARG_TYPE', 'options must be an object', TypeError);
  if (options.rule !== undefined && options.rule !== 'mysql' && options.rule !== 'mariadb') {
    throw codedError('ERR_INVALID_ARG_VALUE', "options.rule must be 'mysql' or 'mariadb'", TypeError);
  }
  if (options.map !== undefined && (typeof options.map !== 'object' || options.map === null || typeof options.map.has !== 'function')) {
    throw codedError('ERR_INVALID_ARG_TYPE', 'options.map must be an ident map (parseIdentMap, loadIdentMap)', TypeError);
  }
}

/**
 * Runs MySQL's auth_socket decision for `socket`: Unix-domain transport only, the peer's uid must
 * have a passwd entry, and its name must equal `account.user` or `account.authenticationString`
 * (options.rule and options.map change that last step). Credentials are read synchronously,
 * before this returns; only the passwd (and group name) lookups are async.
 */
export async function authenticateSocket(
  socket: net.Socket | number,
  account: AuthSocketAccount,
  options: AuthenticateSocketOptions = {},
): Promise<AuthSocketResult> {
  checkAccount(account);
  checkOptions(options);
  const { map } = options;
  let peer: PeerCredentials;
  try {
    peer = getPeerCredentials(socket, { groups: map !== undefined });
  } catch (error) {
    if (errorCode(error) === 'ERR_INVALID_ARG_TYPE') throw error;
    const reason = errorCode(error) === 'ERR_NOT_UNIX_SOCKET' ? 'not-unix-socket' : 'no-peer-credentials';
    return { ok: false, reason, error: error as Error };
  }
  const ids = { uid: peer.uid, gid: peer.gid, pid: peer.pid };
  if (options.refuseOverflowUid && peer.uid === overflowUid()) return { ok: false, reason: 'overflow-uid', ...ids };
  let user;
  try {
    user = await (options.lookupUser ?? lookupUser)(peer.uid);
  } catch (error) {
    return { ok: false, reason: 'lookup-failed', ...ids, error: error as Error };
  }
  if (user === null) return { ok: false, reason: 'unknown-uid', ...ids };
  const osUser = user.name;
  if (map !== undefined) {
    const mapName = account.authenticationString ?? '';
    if (!map.has(mapName)) return { ok: false, reason: 'unknown-map', osUser, ...ids };
    let line: IdentMapLine | null;
    try {
      line = await mapPermits(map, mapName, { uid: peer.uid, gid: peer.gid, groups: peer.groups ?? [], osUser: exactName(user) }, account.user);
    } catch (error) {
      if (errorCode(error) === 'ERR_INVALID_ARG_TYPE') throw error;
      return { ok: false, reason: 'lookup-failed', osUser, ...ids, error: error as Error };
    }
    return line === null ? { ok: false, reason: 'map-no-match', osUser, ...ids } : { ok: true, reason: 'map-match', osUser, ...ids, line };
  }
  const match = matchOsUser(user.rawName, account, options.rule);
  return match === null ? { ok: false, reason: 'user-mismatch', osUser, ...ids } : { ok: true, reason: match, osUser, ...ids };
}
