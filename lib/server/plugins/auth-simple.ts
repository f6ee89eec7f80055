// auth_simple, the server half of the MySQL manual's example plugin (Writing Authentication
// Plugins): the client sends its password in clear, NUL-terminated.
import crypto from 'crypto';

import { CR_ERROR, CR_OK } from '../../auth/vio';
import { PASSWORD_USED_YES } from '../../protocol/mysql-errors';
import { ServerAuthPlugin } from '../plugin';

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
  version: '1.0',
  author: 'auth-socket',
  description: "The manual's auth_simple: the password in clear, NUL-terminated",
  license: 'MIT',
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
