// auth_socket, MySQL's plugin/auth/auth_socket.cc: the kernel says who is on the other end of a
// Unix socket, and that OS user must be the MySQL user or the account's AS string.
import { CR_ERROR } from '../../auth/vio';
import { authenticateSocket } from '../../peer/authenticate';
import { passwdLookup } from '../../peer/user-cache';
import { ServerAuthPlugin } from '../plugin';
import { socketDecision, socketLoginUser } from './socket-steps';

/** auth_socket (plugin/auth/auth_socket.cc), its steps numbered as there. */
export const authSocketPlugin: ServerAuthPlugin = {
  name: 'auth_socket',
  clientPluginName: null,
  version: '1.0',
  author: 'Sergei Golubchik',
  description: 'Unix Socket based authentication',
  license: 'GPL',
  async authenticate(vio, info) {
    // 1.-3. The response read if need be, no password mentioned, a Unix-domain socket only.
    const userName = await socketLoginUser(vio, info);
    if (userName === null) return CR_ERROR;
    // 4.-7. SO_PEERCRED, getpwuid_r (answers at most PASSWD_MAX_AGE_MS old), external_user, byte-exact name match.
    const result = await authenticateSocket(vio.socket, { user: userName, authenticationString: info.authString }, { lookupUser: passwdLookup });
    return socketDecision(info, result);
  },
};
