// auth_socket, MySQL's plugin/auth/auth_socket.cc: the kernel says who is on the other end of a
// Unix socket, and that OS user must be the MySQL user or the account's AS string.
import { CR_ERROR, CR_OK, VioProtocol } from '../../auth/vio';
import { authenticateSocket } from '../../peer/authenticate';
import { cachedUserLookup } from '../../peer/user-cache';
import { PASSWORD_USED_NO_MENTION } from '../../protocol/mysql-errors';
import { ServerAuthPlugin } from '../plugin';

/**
 * How old a passwd answer may be (ours, not MySQL's: it asks NSS every time): a user deleted or
 * renamed stops matching within this. It spares each login NSS's thread-pool hop.
 */
export const AUTH_SOCKET_PASSWD_MAX_AGE_MS = 1000;
const lookupUser = cachedUserLookup({ maxAgeMs: AUTH_SOCKET_PASSWD_MAX_AGE_MS });

/** auth_socket (plugin/auth/auth_socket.cc), its steps numbered as there. */
export const authSocketPlugin: ServerAuthPlugin = {
  name: 'auth_socket',
  clientPluginName: null,
  version: '1.0',
  author: 'Sergei Golubchik',
  description: 'Unix Socket based authentication',
  license: 'GPL',
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
    const result = await authenticateSocket(vio.socket, { user: userName, authenticationString: info.authString }, { lookupUser });
    if (result.osUser !== undefined) info.externalUser = result.osUser;
    if (!result.ok) {
      info.refusalReason = result.reason;
      return CR_ERROR;
    }
    return CR_OK;
  },
};
