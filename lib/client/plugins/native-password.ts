// mysql_native_password: SHA1 challenge-response (the math lives in auth/native-password.ts).
import { declareClientPlugin } from '../plugin';
import { scrambleNativePassword } from '../../auth/native-password';
import { CR_ERROR, CR_OK } from '../../auth/vio';

const SCRAMBLE_LENGTH = 20;

export const mysqlNativePassword = declareClientPlugin({
  name: 'mysql_native_password',
  author: 'auth-socket',
  description: 'SHA1 challenge-response with the server scramble',
  version: [1, 0, 0],
  license: 'MIT',
  async authenticate(vio, mysql) {
    const scramble = await vio.readPacket();
    if (scramble.length < SCRAMBLE_LENGTH) {
      mysql.setError(`mysql_native_password: the server sent a ${scramble.length}-byte scramble, expected ${SCRAMBLE_LENGTH}`);
      return CR_ERROR;
    }
    await vio.writePacket(scrambleNativePassword(mysql.password, scramble));
    return CR_OK;
  },
});
