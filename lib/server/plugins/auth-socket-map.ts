// auth_socket_map (ours): auth_socket with PostgreSQL's peer map (pg_ident.conf, as in
// src/backend/libpq/hba.c's check_usermap): the account's AS string names a map of the server's
// ident file, and an OS user is admitted when a line of that map (a name, a /regex or an @group of
// the kernel's groups for the peer) gives it this account. The map comes with the login
// (info.identMap), as the account's string does: the plugin never reads a file.
import { CR_ERROR } from '../../auth/vio';
import { authenticateSocket } from '../../peer/authenticate';
import { passwdLookup } from '../../peer/user-cache';
import { ServerAuthPlugin } from '../plugin';
import { socketDecision, socketLoginUser } from './socket-steps';

/** auth_socket_map: CREATE USER 'dba'@'localhost' IDENTIFIED WITH auth_socket_map AS 'admins'. */
export const authSocketMapPlugin: ServerAuthPlugin = {
  name: 'auth_socket_map',
  clientPluginName: null,
  version: '1.0',
  author: 'auth-socket',
  description: "Unix Socket based authentication through an ident map (pg_ident.conf's form)",
  license: 'MIT',
  async authenticate(vio, info) {
    // 1.-3. The response read if need be, no password mentioned, a Unix-domain socket only.
    const userName = await socketLoginUser(vio, info);
    if (userName === null) return CR_ERROR;
    // 4. Without an ident file nobody gets in (a map name it lacks is authenticateSocket's unknown-map).
    if (info.identMap === null) {
      info.refusalReason = 'no-ident-map';
      return CR_ERROR;
    }
    // 5. SO_PEERCRED and SO_PEERGROUPS, getpwuid_r, external_user, then the named map's lines in
    // order. A peer the server's user namespace cannot map shows as the overflow uid, whatever
    // its groups: refused, so no map line (an @group of the overflow gid) admits strangers.
    const options = { lookupUser: passwdLookup, map: info.identMap, refuseOverflowUid: true };
    const result = await authenticateSocket(vio.socket, { user: userName, authenticationString: info.authString }, options);
    if (result.line !== undefined) info.identMapLine = result.line;
    return socketDecision(info, result);
  },
};
