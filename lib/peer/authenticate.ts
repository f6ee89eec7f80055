// authenticateSocket(): MySQL's auth_socket decision (plugin/auth/auth_socket.cc) for any socket.
import net from 'net';

import { codedError, errorCode } from '../errors';
import { getPeerCredentials, PeerCredentials } from './credentials';
import type { UserLookup } from './user-cache';
import { lookupUser } from './users';

export interface AuthSocketAccount {
  /** The MySQL user name the client asked for. */
  user: string;
  /** The account's `AS '...'` string: a second OS user name that may use the account. */
  authenticationString?: string;
}

export type AuthSocketReason =
  /** accepted: the OS user name equals `user` */
  | 'user-match'
  /** accepted: the OS user name equals `authenticationString` */
  | 'authentication-string-match'
  /** refused: not a Unix-domain socket (TCP is always refused) */
  | 'not-unix-socket'
  /** refused: the kernel gave no credentials (destroyed socket, bad fd, no peer, platform) */
  | 'no-peer-credentials'
  /** refused: the peer's uid has no passwd entry */
  | 'unknown-uid'
  /** refused: the passwd lookup itself failed (NSS error): fail closed */
  | 'lookup-failed'
  /** refused: the OS user name matches neither name */
  | 'user-mismatch';

export interface AuthSocketResult {
  ok: boolean;
  reason: AuthSocketReason;
  /** OS user name of the peer (MySQL's external_user), once known. */
  osUser?: string;
  uid?: number;
  gid?: number;
  pid?: number;
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
 * never matches.
 */
export function matchOsUser(
  osUserName: Buffer,
  account: AuthSocketAccount,
): 'user-match' | 'authentication-string-match' | null {
  if (osUserName.length === 0) return null;
  if (exactBytes(account.user)?.equals(osUserName)) return 'user-match';
  if (exactBytes(account.authenticationString)?.equals(osUserName)) return 'authentication-string-match';
  return null;
}

/**
 * Runs MySQL's auth_socket decision for `socket`: Unix-domain transport only, the peer's uid must
 * have a passwd entry, and its name must equal `account.user` or `account.authenticationString`.
 * Credentials are read synchronously, before this returns; only the passwd lookup is async.
 * `options.lookupUser` replaces the passwd lookup (a cachedUserLookup(), whose staleness bound
 * then applies to renamed and deleted users).
 */
export async function authenticateSocket(
  socket: net.Socket | number,
  account: AuthSocketAccount,
  options: { lookupUser?: UserLookup } = {},
): Promise<AuthSocketResult> {
  checkAccount(account);
  let peer: PeerCredentials;
  try {
    peer = getPeerCredentials(socket);
  } catch (error) {
    if (errorCode(error) === 'ERR_INVALID_ARG_TYPE') throw error;
    const reason = errorCode(error) === 'ERR_NOT_UNIX_SOCKET' ? 'not-unix-socket' : 'no-peer-credentials';
    return { ok: false, reason, error: error as Error };
  }
  const ids = { uid: peer.uid, gid: peer.gid, pid: peer.pid };
  let user;
  try {
    user = await (options.lookupUser ?? lookupUser)(peer.uid);
  } catch (error) {
    return { ok: false, reason: 'lookup-failed', ...ids, error: error as Error };
  }
  if (user === null) return { ok: false, reason: 'unknown-uid', ...ids };
  const match = matchOsUser(user.rawName, account);
  return match === null
    ? { ok: false, reason: 'user-mismatch', osUser: user.name, ...ids }
    : { ok: true, reason: match, osUser: user.name, ...ids };
}
