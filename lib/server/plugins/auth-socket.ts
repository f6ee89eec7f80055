// auth_socket, MySQL's plugin/auth/auth_socket.cc: the kernel says who is on the other end of a
// Unix socket, and that OS user must be the MySQL user or the account's AS string.
import { CR_ERROR, CR_OK, VioProtocol } from '../../auth/vio';
import { authenticateSocket } from '../../peer/authenticate';
import { passwdLookup } from '../../peer/user-cache';
import { PASSWORD_USED_NO_MENTION } from '../../protocol/mysql-errors';
import { ServerAuthPlugin } from '../plugin';

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
    // 4.-7. SO_PEERCRED, getpwuid_r (answers at most PASSWD_MAX_AGE_MS old), external_user, byte-exact name match.
    const result = await authenticateSocket(vio.socket, { user: userName, authenticationString: info.authString }, { lookupUser: passwdLookup });
    if (result.osUser !== undefined) info.externalUser = result.osUser;
    if (!result.ok) {
      info.refusalReason = result.reason;
      return CR_ERROR;
    }
    return CR_OK;
  },
};
