// caching_sha2_password math, shared by the client plugin and the server plugin: the SHA-256
// scramble, the password's RSA wrapping for full authentication over insecure transports, and the
// stored form "$A$005$<salt><sha256-crypt>" of MySQL's mysql.user.authentication_string.
import crypto from 'crypto';

/** AuthMoreData bytes of the exchange (sql/auth/sha2_password.h). */
export const REQUEST_PUBLIC_KEY = 0x02;
export const FAST_AUTH_SUCCESS = 0x03;
export const PERFORM_FULL_AUTHENTICATION = 0x04;

/** The scramble is 20 bytes; the server's copy may carry a trailing NUL. */
export const CACHING_SHA2_NONCE_LENGTH = 20;
export const CACHING_SHA2_DIGEST_LENGTH = 32;

const STORED_PREFIX = '$A$';
const SALT_LENGTH = 20;
const CRYPT_LENGTH = 43;
const ITERATION_MULTIPLIER = 1000;
const DEFAULT_ITERATIONS = 5; // "005": 5000 rounds, MySQL's default

function sha256(...parts: Buffer[]): Buffer {
  const hash = crypto.createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function utf8(password: string | Buffer): Buffer {
  return Buffer.isBuffer(password) ? password : Buffer.from(password, 'utf8');
}

function nonceOf(scramble: Buffer): Buffer {
  return scramble.subarray(0, CACHING_SHA2_NONCE_LENGTH);
}

/** XOR with `key` repeated (the password's masking before RSA, both ways). */
export function xorRotating(data: Buffer, key: Buffer): Buffer {
  const out = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ key[i % key.length];
  return out;
}

/** SHA256(SHA256(password)): what the server caches after one full authentication. */
export function cachingSha2Stage2(password: string | Buffer): Buffer {
  return sha256(sha256(utf8(password)));
}

/** Client proof: SHA256(p) XOR SHA256(SHA256(SHA256(p)) + nonce); empty for an empty password. */
export function scrambleCachingSha2Password(password: string | Buffer, scramble: Buffer): Buffer {
  const pass = utf8(password);
  if (pass.length === 0) return Buffer.alloc(0);
  const stage1 = sha256(pass);
  return xorRotating(stage1, sha256(sha256(stage1), nonceOf(scramble)));
}

/** Server fast path: does `proof` come from the password whose stage 2 is cached? */
export function verifyCachingSha2Scramble(stage2: Buffer, scramble: Buffer, proof: Buffer): boolean {
  if (stage2.length !== CACHING_SHA2_DIGEST_LENGTH || proof.length !== CACHING_SHA2_DIGEST_LENGTH) return false;
  const stage1 = xorRotating(proof, sha256(stage2, nonceOf(scramble)));
  return crypto.timingSafeEqual(sha256(stage1), stage2);
}

const OAEP = { padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' } as const;

/** Client, full authentication over TCP: RSA-OAEP(password + NUL, XORed with the nonce). */
export function encryptCachingSha2Password(password: string | Buffer, scramble: Buffer, publicKey: crypto.KeyLike): Buffer {
  const masked = xorRotating(Buffer.concat([utf8(password), Buffer.from([0])]), nonceOf(scramble));
  return crypto.publicEncrypt({ key: publicKey, ...OAEP }, masked);
}

/** Server: undoes encryptCachingSha2Password(); throws when the ciphertext is not ours. */
export function decryptCachingSha2Password(ciphertext: Buffer, scramble: Buffer, privateKey: crypto.KeyLike): Buffer {
  return xorRotating(crypto.privateDecrypt({ key: privateKey, ...OAEP }, ciphertext), nonceOf(scramble));
}

const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
// Byte order of SHA-crypt's final encoding (Drepper, "Unix crypt using SHA-256 and SHA-512").
const CRYPT_GROUPS = [
  [0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14],
  [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29],
];

function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += block.length) block.copy(out, i, 0, Math.min(block.length, length - i));
  return out;
}

/**
 * SHA-256 crypt of `password` with `salt` (used whole: MySQL's 20-byte salt is longer than
 * glibc's 16) and `rounds`; returns the 43-character encoded digest.
 */
export function sha256Crypt(password: Buffer, salt: Buffer, rounds: number): string {
  const alternate = sha256(password, salt, password);
  const first = crypto.createHash('sha256').update(password).update(salt);
  first.update(repeatTo(alternate, password.length));
  for (let bits = password.length; bits > 0; bits >>= 1) first.update(bits & 1 ? alternate : password);
  let digest = first.digest();
  const pBytes = repeatTo(sha256(...Array<Buffer>(password.length).fill(password)), password.length);
  const sBytes = repeatTo(sha256(...Array<Buffer>(16 + digest[0]).fill(salt)), salt.length);
  for (let round = 0; round < rounds; round++) {
    const hash = crypto.createHash('sha256');
    hash.update(round & 1 ? pBytes : digest);
    if (round % 3) hash.update(sBytes);
    if (round % 7) hash.update(pBytes);
    hash.update(round & 1 ? digest : pBytes);
    digest = hash.digest();
  }
  let out = '';
  const emit = (value: number, chars: number) => {
    for (let i = 0; i < chars; i++, value >>= 6) out += CRYPT_ALPHABET[value & 0x3f];
  };
  for (const [a, b, c] of CRYPT_GROUPS) emit((digest[a] << 16) | (digest[b] << 8) | digest[c], 4);
  emit((digest[31] << 8) | digest[30], 3);
  return out;
}

// MySQL's salt: printable 7-bit bytes, never NUL or '$', so the stored string stays parseable.
function randomSalt(): Buffer {
  const salt = crypto.randomBytes(SALT_LENGTH);
  for (let i = 0; i < salt.length; i++) {
    salt[i] &= 0x7f;
    if (salt[i] === 0 || salt[i] === 0x24) salt[i]++;
  }
  return salt;
}

/** The stored form MySQL writes for CREATE USER ... IDENTIFIED WITH caching_sha2_password BY 'p'. */
export function cachingSha2PasswordHash(password: string | Buffer, salt: Buffer = randomSalt()): string {
  const pass = utf8(password);
  if (pass.length === 0) return '';
  if (salt.length !== SALT_LENGTH) throw new RangeError(`the salt must be ${SALT_LENGTH} bytes`);
  const iterations = DEFAULT_ITERATIONS.toString().padStart(3, '0');
  const digest = sha256Crypt(pass, salt, DEFAULT_ITERATIONS * ITERATION_MULTIPLIER);
  return STORED_PREFIX + iterations + '$' + salt.toString('latin1') + digest;
}

/**
 * Full-authentication check of a cleartext password against the stored form ('' = no password:
 * only an empty password passes). Malformed stored values never verify.
 */
export function verifyCachingSha2Password(stored: string, password: Buffer): boolean {
  if (stored === '') return password.length === 0;
  const match = /^\$A\$([0-9A-Fa-f]{3})\$/.exec(stored);
  const raw = Buffer.from(stored, 'latin1');
  if (match === null || raw.length !== 7 + SALT_LENGTH + CRYPT_LENGTH || password.length === 0) return false;
  const iterations = parseInt(match[1], 16);
  if (iterations < 1 || iterations > 0xfff) return false;
  const salt = raw.subarray(7, 7 + SALT_LENGTH);
  const expected = raw.subarray(7 + SALT_LENGTH);
  const actual = Buffer.from(sha256Crypt(password, salt, iterations * ITERATION_MULTIPLIER), 'latin1');
  return crypto.timingSafeEqual(actual, expected);
}
