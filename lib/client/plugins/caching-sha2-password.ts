// caching_sha2_password, client half: the SHA-256 scramble first; when the server asks for full
// authentication, the password in cleartext over a secure transport (Unix socket or TLS), else
// RSA-encrypted with the server's public key. The math lives in auth/caching-sha2.ts.
import crypto from 'crypto';

import { encryptCachingSha2Password, FAST_AUTH_SUCCESS, PERFORM_FULL_AUTHENTICATION, REQUEST_PUBLIC_KEY, scrambleCachingSha2Password } from '../../auth/caching-sha2';
import { declareClientPlugin, MysqlHandle } from '../plugin';
import { CR_ERROR, CR_OK, PluginVio, VioProtocol } from '../../auth/vio';

const NAME = 'caching_sha2_password';
const SCRAMBLE_LENGTH = 20;

// Plugin-wide defaults set through pluginOptions(); a connection's own options win.
const defaults: { serverPublicKey?: string | Buffer; getServerPublicKey: boolean } = { getServerPublicKey: false };

function isSecureTransport(vio: PluginVio): boolean {
  const info = vio.info();
  return info.isTlsEstablished || info.protocol === VioProtocol.SOCKET;
}

async function serverPublicKey(vio: PluginVio, mysql: MysqlHandle): Promise<crypto.KeyObject | string> {
  const configured = mysql.options.serverPublicKey ?? defaults.serverPublicKey;
  if (configured !== undefined) return crypto.createPublicKey(configured);
  if (!(mysql.options.getServerPublicKey ?? defaults.getServerPublicKey)) {
    throw new Error(
      `${NAME}: full authentication over an insecure connection needs the server's RSA public key; ` +
        'pass serverPublicKey, or allow getServerPublicKey (which trusts the network path)',
    );
  }
  await vio.writePacket(Buffer.from([REQUEST_PUBLIC_KEY]));
  return crypto.createPublicKey(await vio.readPacket());
}

export const cachingSha2Password = declareClientPlugin({
  name: NAME,
  author: 'auth-socket',
  description: 'SHA-256 scramble with a server-side cache; RSA or secure-transport full authentication',
  version: [1, 0, 0],
  license: 'MIT',
  options(option, value) {
    // null forgets a key set before.
    if (option === 'server_public_key' && (value === null || typeof value === 'string' || Buffer.isBuffer(value))) {
      defaults.serverPublicKey = value ?? undefined;
      return 0;
    }
    if (option === 'get_server_public_key' && typeof value === 'boolean') {
      defaults.getServerPublicKey = value;
      return 0;
    }
    return 1;
  },
  getOptions(option) {
    if (option === 'server_public_key') return defaults.serverPublicKey;
    if (option === 'get_server_public_key') return defaults.getServerPublicKey;
    return undefined;
  },
  async authenticate(vio, mysql) {
    const scramble = await vio.readPacket();
    if (scramble.length < SCRAMBLE_LENGTH) {
      mysql.setError(`${NAME}: the server sent a ${scramble.length}-byte scramble, expected ${SCRAMBLE_LENGTH}`);
      return CR_ERROR;
    }
    if (mysql.password === '') {
      // MySQL's client sends one NUL byte for "no password".
      await vio.writePacket(Buffer.from([0]));
      return CR_OK;
    }
    await vio.writePacket(scrambleCachingSha2Password(mysql.password, scramble));
    const verdict = await vio.readPacket();
    if (verdict.length === 1 && verdict[0] === FAST_AUTH_SUCCESS) return CR_OK;
    if (verdict.length !== 1 || verdict[0] !== PERFORM_FULL_AUTHENTICATION) {
      // Possibly the server's final OK: the connection decides from the packet this read returned.
      mysql.setError(`${NAME}: unexpected server reply after the scramble`);
      return CR_ERROR;
    }
    if (isSecureTransport(vio)) {
      await vio.writePacket(Buffer.concat([Buffer.from(mysql.password, 'utf8'), Buffer.from([0])]));
      return CR_OK;
    }
    let key;
    try {
      key = await serverPublicKey(vio, mysql);
    } catch (error) {
      mysql.setError((error as Error).message);
      return CR_ERROR;
    }
    await vio.writePacket(encryptCachingSha2Password(mysql.password, scramble, key));
    return CR_OK;
  },
});
