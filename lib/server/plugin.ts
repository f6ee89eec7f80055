// Server authentication plugins, shaped like MySQL's st_mysql_auth, and the three built in:
// auth_socket, mysql_native_password and the manual's auth_simple example.
import crypto from 'crypto';

import { authenticateSocket } from '../peer/authenticate';
import { verifyNativePassword } from '../auth/native-password';
import { PASSWORD_USED_NO_MENTION, PASSWORD_USED_YES, PasswordUsed } from '../protocol/mysql-errors';
import { CR_ERROR, CR_OK, CrCode, PluginVio, VioProtocol } from '../auth/vio';

/** MySQL's MYSQL_SERVER_AUTH_INFO, as a plugin sees and fills it. */
export interface ServerAuthInfo {
  /** The user name the client asked for; null until the handshake response is parsed. */
  userName: string | null;
  /** The account's authentication string (mysql.user.authentication_string). */
  authString: string;
  /** Whom the connection is authenticated as; starts as userName. */
  authenticatedAs: string;
  /** Set by the plugin: the external identity, shown as @@external_user (auth_socket: OS user). */
  externalUser: string | null;
  /** Set by the plugin: chooses between 1045 YES/NO and 1698 on refusal. */
  passwordUsed: PasswordUsed;
  /** 'localhost' for Unix-socket peers, the IP address for TCP. */
  hostOrIp: string;
  /** Not in MySQL: why the plugin refused, for the rejection's `reason` (set before returning). */
  refusalReason?: string;
  /**
   * Not in MySQL: aborted when the handshake ends (connect timeout, the client leaving, or the
   * decision made). A plugin that waits on something of its own stops then; the server no longer
   * waits for it and its VIO is closed.
   */
  signal: AbortSignal;
}

/** The VIO a server plugin gets: MySQL's MPVIO, whose scramble is the one sent in the greeting. */
export abstract class ServerPluginVio extends PluginVio {
  /** The 20 random bytes of this connection (MySQL's mpvio->scramble, without the NUL). */
  abstract readonly scramble: Buffer;
}

export interface ServerAuthPlugin {
  /** The name accounts refer to (IDENTIFIED WITH name). */
  name: string;
  /** The client plugin it needs; null accepts any client plugin (no AuthSwitchRequest). */
  clientPluginName: string | null;
  /** Authenticates one connection; returns a CR_* code (CR_OK or CR_OK_HANDSHAKE_COMPLETE to accept). */
  authenticate(vio: ServerPluginVio, info: ServerAuthInfo): CrCode | Promise<CrCode>;
}

/** auth_socket (plugin/auth/auth_socket.cc), step by step; see mysql-auth-facts.md. */
export const authSocketPlugin: ServerAuthPlugin = {
  name: 'auth_socket',
  clientPluginName: null,
  async authenticate(vio, info) {
    // 1. Without a parsed user name the handshake response is still to be read (and ignored).
    if (info.userName === null) await vio.readPacket();
    // 2.
    info.passwordUsed = PASSWORD_USED_NO_MENTION;
    const userName = info.userName as string | null; // reading the response fills it in
    if (userName === null) {
      info.refusalReason = 'no-user-name';
      return CR_ERROR;
    }
    // 3. Only a Unix-domain socket carries trustworthy peer credentials.
    if (vio.info().protocol !== VioProtocol.SOCKET) {
      info.refusalReason = 'not-unix-socket';
      return CR_ERROR;
    }
    // 4.-7. SO_PEERCRED, getpwuid_r, external_user, byte-exact name match.
    const result = await authenticateSocket(vio.socket, { user: userName, authenticationString: info.authString });
    if (result.osUser !== undefined) info.externalUser = result.osUser;
    if (!result.ok) {
      info.refusalReason = result.reason;
      return CR_ERROR;
    }
    return CR_OK;
  },
};

/** mysql_native_password: SHA1 challenge-response against the stored '*HEX' double SHA1. */
export const mysqlNativePasswordPlugin: ServerAuthPlugin = {
  name: 'mysql_native_password',
  clientPluginName: 'mysql_native_password',
  async authenticate(vio, info) {
    // As MySQL: send the scramble (already carried by the greeting when nothing was switched).
    await vio.writePacket(Buffer.concat([vio.scramble, Buffer.of(0)]));
    const proof = await vio.readPacket();
    if (proof.length > 0) info.passwordUsed = PASSWORD_USED_YES;
    if (verifyNativePassword(info.authString, vio.scramble, proof)) return CR_OK;
    info.refusalReason = 'wrong-password';
    return CR_ERROR;
  },
};

/** Constant-time equality of two byte strings of any lengths (the lengths themselves may leak). */
function sameBytes(a: Buffer, b: Buffer): boolean {
  // Hash both to one length so timingSafeEqual applies whatever the lengths are.
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb) && a.length === b.length;
}

/**
 * The server half of the manual's auth_simple example: the client sends its password in clear,
 * NUL-terminated, and it must equal the account's authentication string.
 */
export const authSimpleServerPlugin: ServerAuthPlugin = {
  name: 'auth_simple',
  clientPluginName: 'auth_simple',
  async authenticate(vio, info) {
    const packet = await vio.readPacket();
    const nul = packet.indexOf(0);
    const password = nul < 0 ? packet : packet.subarray(0, nul);
    if (password.length > 0) info.passwordUsed = PASSWORD_USED_YES;
    if (nul === packet.length - 1 && sameBytes(password, Buffer.from(info.authString, 'utf8'))) return CR_OK;
    info.refusalReason = nul === packet.length - 1 ? 'wrong-password' : 'malformed-password';
    return CR_ERROR;
  },
};

export const builtinServerPlugins: readonly ServerAuthPlugin[] = [
  authSocketPlugin,
  mysqlNativePasswordPlugin,
  authSimpleServerPlugin,
];
