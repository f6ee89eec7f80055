// unix_socket, MariaDB's plugin/auth_socket/auth_socket.c as of 11.6: the kernel says who is on the
// other end of a Unix socket; the OS user must be the MariaDB user, or, when the account has an
// AS / USING string, that string instead. Several OS users share an account through an OR chain
// (IDENTIFIED VIA unix_socket AS 'jack' OR unix_socket AS 'jill'). auth_socket keeps MySQL's rule.
import { CR_ERROR } from '../../auth/vio';
import { authenticateSocket } from '../../peer/authenticate';
import { passwdLookup } from '../../peer/user-cache';
import { ServerAuthPlugin } from '../plugin';
import { socketDecision, socketLoginUser } from './socket-steps';

/** unix_socket (MariaDB 11.6+): auth_socket's steps, MariaDB's last one. */
export const unixSocketPlugin: ServerAuthPlugin = {
  name: 'unix_socket',
  clientPluginName: null,
  version: '1.0',
  author: 'Sergei Golubchik',
  description: 'Unix Socket based authentication',
  license: 'GPL',
  async authenticate(vio, info) {
    // 1.-3. The response read if need be, no password mentioned, a Unix-domain socket only.
    const userName = await socketLoginUser(vio, info);
    if (userName === null) return CR_ERROR;
    // 4. SO_PEERCRED, getpwuid_r, external_user; a non-empty AS string replaces the user name.
    const result = await authenticateSocket(vio.socket, { user: userName, authenticationString: info.authString }, { lookupUser: passwdLookup, rule: 'mariadb' });
    return socketDecision(info, result);
  },
};
