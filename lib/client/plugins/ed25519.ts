// client_ed25519: MariaDB's ed25519 authentication (libmariadb plugins/auth/ed25519.c). The key
// comes from the password itself, of any length: SHA-512(password), clamped, is the secret
// scalar, and the server stores scalar*B. The client signs the server's 32-byte nonce with that
// expanded key, as Ed25519 signs. Curve arithmetic is @noble/curves', loaded on first use.
import crypto from 'crypto';

import { declareClientPlugin } from '../plugin';
import { codedError } from '../../errors';
import { CR_ERROR, CR_OK } from '../../auth/vio';

const NONCE_LENGTH = 32;

interface EdwardsPoint {
  toBytes(): Uint8Array;
}
interface Curve {
  Point: { BASE: { multiply(scalar: bigint): EdwardsPoint }; Fn: { ORDER: bigint } };
}

let curve: Curve | undefined;
function ed25519Curve(): Curve {
  if (curve === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      curve = (require('@noble/curves/ed25519.js') as { ed25519: Curve }).ed25519;
    } catch (error) {
      throw codedError('ERR_ED25519_UNAVAILABLE', `client_ed25519 needs @noble/curves: ${(error as Error).message}`);
    }
  }
  return curve;
}

function sha512(...parts: Uint8Array[]): Buffer {
  const hash = crypto.createHash('sha512');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function littleEndianToBigInt(bytes: Buffer): bigint {
  return BigInt('0x' + (Buffer.from(bytes).reverse().toString('hex') || '0'));
}

function bigIntToLittleEndian(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex').reverse();
}

function expandPassword(password: string | Buffer): { scalar: bigint; prefix: Buffer; publicKey: Buffer } {
  const { Point } = ed25519Curve();
  const digest = sha512(Buffer.isBuffer(password) ? password : Buffer.from(password, 'utf8'));
  const clamped = Buffer.from(digest.subarray(0, 32));
  clamped[0] &= 248;
  clamped[31] &= 63;
  clamped[31] |= 64;
  const scalar = littleEndianToBigInt(clamped) % Point.Fn.ORDER;
  return { scalar, prefix: digest.subarray(32), publicKey: Buffer.from(Point.BASE.multiply(scalar).toBytes()) };
}

/** The public key MariaDB stores for the password (ed25519_password('p') is its base64, unpadded). */
export function ed25519PasswordPublicKey(password: string | Buffer): Buffer {
  return expandPassword(password).publicKey;
}

/** The 64-byte signature R || S of `message` under the password's expanded key. */
export function ed25519PasswordSign(password: string | Buffer, message: Buffer): Buffer {
  const { Point } = ed25519Curve();
  const order = Point.Fn.ORDER;
  const { scalar, prefix, publicKey } = expandPassword(password);
  const r = littleEndianToBigInt(sha512(prefix, message)) % order;
  const R = Buffer.from(Point.BASE.multiply(r).toBytes());
  const k = littleEndianToBigInt(sha512(R, publicKey, message)) % order;
  const S = (r + k * scalar) % order;
  return Buffer.concat([R, bigIntToLittleEndian(S, 32)]);
}

export const clientEd25519 = declareClientPlugin({
  name: 'client_ed25519',
  author: 'auth-socket',
  description: "MariaDB's ed25519 password authentication",
  version: [1, 0, 0],
  license: 'MIT',
  async authenticate(vio, mysql) {
    const nonce = await vio.readPacket();
    if (nonce.length !== NONCE_LENGTH) {
      mysql.setError(`client_ed25519: the server sent a ${nonce.length}-byte nonce, expected ${NONCE_LENGTH}`);
      return CR_ERROR;
    }
    await vio.writePacket(ed25519PasswordSign(mysql.password, nonce));
    return CR_OK;
  },
});
