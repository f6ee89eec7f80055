// auth_simple: the MySQL manual's example client plugin ("Writing the Client-Side Authentication
// Plugin"), declared with declareClientPlugin() as the C example declares it.
import { declareClientPlugin, MysqlHandle } from '../plugin';
import { CR_ERROR, CR_OK, CrCode, PluginVio } from '../../auth/vio';

/** Sends the password as a NUL-terminated cleartext packet (the manual's auth_simple_client). */
export async function sendPasswordInCleartext(vio: PluginVio, mysql: MysqlHandle): Promise<CrCode> {
  try {
    await vio.writePacket(Buffer.concat([Buffer.from(mysql.password, 'utf8'), Buffer.from([0])]));
  } catch {
    return CR_ERROR;
  }
  return CR_OK;
}

export const authSimple = declareClientPlugin({
  name: 'auth_simple',
  author: 'Author Name',
  description: 'Any-password authentication plugin',
  version: [1, 0, 0],
  license: 'GPL',
  mysqlApi: null,
  init: null,
  deinit: null,
  options: null,
  authenticate: sendPasswordInCleartext,
  sendsCleartextPassword: true,
});
