// The steps auth_socket (MySQL's plugin/auth/auth_socket.cc), unix_socket (MariaDB's
// plugin/auth_socket/auth_socket.c) and auth_socket_map share: before the decision, the
// handshake response read when the server has not, no password mentioned (1698 on refusal), a
// Unix-domain socket only; after it, the OS user as external_user and the refusal's reason.
import { CR_ERROR, CR_OK, CrCode, VioProtocol } from '../../auth/vio';
import type { AuthSocketResult } from '../../peer/authenticate';
import { PASSWORD_USED_NO_MENTION } from '../../protocol/mysql-errors';
import { ServerAuthInfo, ServerPluginVio } from '../plugin';

/** Steps 1-3: the user name to decide on, or null (refusalReason set) when there is nothing to decide. */
export async function socketLoginUser(vio: ServerPluginVio, info: ServerAuthInfo): Promise<string | null> {
  // 1. Without a parsed user name the handshake response is still to be read (and ignored).
  if (info.userName === null) await vio.readPacket();
  // 2.
  info.passwordUsed = PASSWORD_USED_NO_MENTION;
  const userName = info.userName as string | null; // reading the response fills it in
  if (userName === null) {
    info.refusalReason = 'no-user-name';
    return null;
  }
  // 3. Only a Unix-domain socket carries trustworthy peer credentials.
  if (vio.info().protocol !== VioProtocol.SOCKET) {
    info.refusalReason = 'not-unix-socket';
    return null;
  }
  return userName;
}

/** The last steps: external_user, and CR_OK or CR_ERROR with the result's reason. */
export function socketDecision(info: ServerAuthInfo, result: AuthSocketResult): CrCode {
  if (result.osUser !== undefined) info.externalUser = result.osUser;
  if (!result.ok) {
    info.refusalReason = result.reason;
    return CR_ERROR;
  }
  return CR_OK;
}
