// mysql_native_password: SHA1-based challenge-response, shared by our server plugin (verify) and
// client plugin (scramble).
import crypto from 'crypto';

function sha1(...parts: Buffer[]): Buffer {
  const hash = crypto.createHash('sha1');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i % b.length];
  return out;
}

/** The 20 scramble bytes the server sent (MySQL appends a NUL that is not part of them). */
export function nativeScrambleBytes(authPluginData: Buffer): Buffer {
  return authPluginData.subarray(0, 20);
}

/** Client proof: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))); empty for no password. */
export function scrambleNativePassword(password: string | Buffer, scramble: Buffer): Buffer {
  const pass = Buffer.isBuffer(password) ? password : Buffer.from(password, 'utf8');
  if (pass.length === 0) return Buffer.alloc(0);
  const stage1 = sha1(pass);
  return xor(stage1, sha1(nativeScrambleBytes(scramble), sha1(stage1)));
}

/** The stored form, as MySQL's PASSWORD(): '*' and the upper-case hex of SHA1(SHA1(password)). */
export function nativePasswordHash(password: string | Buffer): string {
  const pass = Buffer.isBuffer(password) ? password : Buffer.from(password, 'utf8');
  if (pass.length === 0) return '';
  return '*' + sha1(sha1(pass)).toString('hex').toUpperCase();
}

/**
 * Server check of a client proof against the stored '*HEX' (empty: the account has no password
 * and only an empty proof passes). Malformed stored values never verify.
 */
export function verifyNativePassword(stored: string, scramble: Buffer, proof: Buffer): boolean {
  if (stored === '') return proof.length === 0;
  if (!/^\*[0-9A-Fa-f]{40}$/.test(stored) || proof.length !== 20) return false;
  const stage2 = Buffer.from(stored.slice(1), 'hex');
  const stage1 = xor(proof, sha1(nativeScrambleBytes(scramble), stage2));
  return crypto.timingSafeEqual(sha1(stage1), stage2);
}
