// caching_sha2_password, server half (sql/auth/sha2_password.cc): the fast path checks the
// client's SHA-256 scramble against a cache of SHA256(SHA256(password)) filled by earlier full
// authentications; a full authentication receives the password itself, in cleartext over a
// secure transport (Unix socket or TLS) or RSA-encrypted over TCP, and checks it against the
// stored "$A$005$..." hash. The math lives in auth/caching-sha2.ts, shared with the client plugin.
import crypto from 'crypto';
import { promisify } from 'util';

import { cachingSha2Stage2, decryptCachingSha2Password, FAST_AUTH_SUCCESS, PERFORM_FULL_AUTHENTICATION, REQUEST_PUBLIC_KEY, verifyCachingSha2Password, verifyCachingSha2Scramble } from '../../auth/caching-sha2';
import { PASSWORD_USED_NO, PASSWORD_USED_YES } from '../../protocol/mysql-errors';
import { ServerAuthInfo, ServerAuthPlugin, ServerPluginVio } from '../plugin';
import { CR_ERROR, CR_OK, CrCode, VioProtocol } from '../../auth/vio';

const SCRAMBLE_DIGEST_LENGTH = 32;
const RSA_KEY_BITS = 2048;

export interface CachingSha2PasswordPluginOptions {
  /** The RSA key pair for full authentication over TCP (PEM or KeyObject); generated when absent. */
  privateKey?: string | Buffer | crypto.KeyObject;
  publicKey?: string | Buffer | crypto.KeyObject;
}

function refuse(info: ServerAuthInfo, reason: string): CrCode {
  info.refusalReason = reason;
  return CR_ERROR;
}

function asKeyObject(key: string | Buffer | crypto.KeyObject, create: (key: string | Buffer) => crypto.KeyObject) {
  return key instanceof crypto.KeyObject ? key : create(key);
}

/** The password inside a client packet that must end with exactly one NUL; null when it does not. */
function nulTerminated(packet: Buffer): Buffer | null {
  return packet.length > 0 && packet.indexOf(0) === packet.length - 1 ? packet.subarray(0, -1) : null;
}

/**
 * A caching_sha2_password server plugin with its own cache and RSA keys. Accounts store
 * cachingSha2PasswordHash(password) as their authentication string.
 */
export function createCachingSha2PasswordPlugin(options: CachingSha2PasswordPluginOptions = {}): ServerAuthPlugin {
  if ((options.privateKey === undefined) !== (options.publicKey === undefined)) {
    throw new TypeError('give both privateKey and publicKey, or neither');
  }
  // Keyed by user name and stored hash together, so changing the password invalidates the entry.
  const cache = new Map<string, Buffer>();
  let keys: Promise<{ privateKey: crypto.KeyObject; publicPem: string }> | undefined;

  function rsaKeys() {
    keys ??=
      options.privateKey !== undefined
        ? Promise.resolve({
            privateKey: asKeyObject(options.privateKey, crypto.createPrivateKey),
            publicPem: asKeyObject(options.publicKey!, crypto.createPublicKey).export({ type: 'spki', format: 'pem' }) as string,
          })
        : promisify(crypto.generateKeyPair)('rsa', { modulusLength: RSA_KEY_BITS }).then((pair) => ({
            privateKey: pair.privateKey,
            publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string,
          }));
    return keys;
  }

  async function receivePassword(vio: ServerPluginVio): Promise<Buffer | null> {
    const info = vio.info();
    const packet = await vio.readPacket();
    if (info.isTlsEstablished || info.protocol === VioProtocol.SOCKET) return nulTerminated(packet);
    const { privateKey, publicPem } = await rsaKeys();
    let ciphertext = packet;
    if (packet.length === 1 && packet[0] === REQUEST_PUBLIC_KEY) {
      await vio.writePacket(Buffer.from(publicPem, 'ascii'));
      ciphertext = await vio.readPacket();
    }
    try {
      return nulTerminated(decryptCachingSha2Password(ciphertext, vio.scramble, privateKey));
    } catch {
      return null;
    }
  }

  return {
    name: 'caching_sha2_password',
    clientPluginName: 'caching_sha2_password',
    version: '1.0',
    author: 'Oracle Corporation',
    description: 'Caching sha2 authentication',
    license: 'GPL',
    async authenticate(vio, info) {
      // As MySQL: send the scramble (already carried by the greeting when nothing was switched).
      await vio.writePacket(Buffer.concat([vio.scramble, Buffer.of(0)]));
      const proof = await vio.readPacket();
      // No password: an empty packet or MySQL's single NUL.
      if (proof.length === 0 || (proof.length === 1 && proof[0] === 0)) {
        info.passwordUsed = PASSWORD_USED_NO;
        return info.authString === '' ? CR_OK : refuse(info, 'wrong-password');
      }
      info.passwordUsed = PASSWORD_USED_YES;
      if (info.authString === '' || proof.length !== SCRAMBLE_DIGEST_LENGTH) return refuse(info, 'wrong-password');
      const cacheKey = JSON.stringify([info.userName, info.authString]);
      const cached = cache.get(cacheKey);
      if (cached !== undefined && verifyCachingSha2Scramble(cached, vio.scramble, proof)) {
        await vio.writePacket(Buffer.of(FAST_AUTH_SUCCESS));
        return CR_OK;
      }
      await vio.writePacket(Buffer.of(PERFORM_FULL_AUTHENTICATION));
      const password = await receivePassword(vio);
      if (password === null) return refuse(info, 'malformed-password');
      if (!verifyCachingSha2Password(info.authString, password)) return refuse(info, 'wrong-password');
      cache.set(cacheKey, cachingSha2Stage2(password));
      return CR_OK;
    },
  };
}

/** A shared instance with generated RSA keys, for createServer({ plugins: [cachingSha2PasswordPlugin] }). */
export const cachingSha2PasswordPlugin: ServerAuthPlugin = createCachingSha2PasswordPlugin();
