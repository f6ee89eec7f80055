// mysql_native_password, the server half (sql/auth/sql_authentication.cc): a SHA1
// challenge-response against the account's stored '*HEX' double SHA1.
import { verifyNativePassword } from '../../auth/native-password';
import { CR_ERROR, CR_OK } from '../../auth/vio';
import { PASSWORD_USED_YES } from '../../protocol/mysql-errors';
import { ServerAuthPlugin } from '../plugin';

/** mysql_native_password: SHA1 challenge-response against the stored '*HEX' double SHA1. */
export const mysqlNativePasswordPlugin: ServerAuthPlugin = {
  name: 'mysql_native_password',
  clientPluginName: 'mysql_native_password',
  version: '1.1',
  author: 'Oracle Corporation',
  description: 'Native MySQL authentication',
  license: 'GPL',
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
