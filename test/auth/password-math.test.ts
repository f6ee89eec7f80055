// The cryptography under the client plugins, checked against independent references: SHA-crypt's
// published vector, mysql2's native scramble, Ed25519 verification by @noble/curves, and the
// stored forms' refusals of malformed values.
import crypto from 'crypto';
import path from 'path';

import { ed25519 } from '@noble/curves/ed25519.js';

import { cachingSha2PasswordHash, cachingSha2Stage2, scrambleCachingSha2Password, sha256Crypt, verifyCachingSha2Password, verifyCachingSha2Scramble } from '../../lib/auth/caching-sha2';
import { ed25519PasswordPublicKey, ed25519PasswordSign } from '../../lib/client/plugins/ed25519';
import { scrambleNativePassword } from '../../lib/auth/native-password';

describe('caching_sha2_password stored form', () => {
  it("matches SHA-crypt's published test vector (rounds=10000)", () => {
    // Drepper, "Unix crypt using SHA-256 and SHA-512": $5$rounds=10000$saltstringsaltst$...
    expect(sha256Crypt(Buffer.from('Hello world!'), Buffer.from('saltstringsaltst'), 10000)).toBe(
      '3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA',
    );
  });

  it("writes MySQL's $A$005$ form: 20 printable salt bytes without '$', 43 digest characters", () => {
    const stored = cachingSha2PasswordHash('secret');
    expect(stored).toMatch(/^\$A\$005\$[\x01-\x23\x25-\x7f]{20}[./0-9A-Za-z]{43}$/);
    expect(verifyCachingSha2Password(stored, Buffer.from('secret'))).toBe(true);
    expect(verifyCachingSha2Password(stored, Buffer.from('secreT'))).toBe(false);
    expect(cachingSha2PasswordHash('secret')).not.toBe(stored); // fresh salt each time
  });

  it('never verifies a malformed stored value, and an empty one only for an empty password', () => {
    const stored = cachingSha2PasswordHash('secret');
    for (const bad of [stored.slice(0, -1), stored + 'x', stored.replace('$A$005$', '$A$000$'), stored.replace('$A$', '$B$'), '*ABC']) {
      expect(verifyCachingSha2Password(bad, Buffer.from('secret'))).toBe(false);
    }
    expect(verifyCachingSha2Password('', Buffer.alloc(0))).toBe(true);
    expect(verifyCachingSha2Password('', Buffer.from('x'))).toBe(false);
    expect(verifyCachingSha2Password(stored, Buffer.alloc(0))).toBe(false);
  });

  it('verifies a fast-path scramble against the cached stage 2, and only the right one', () => {
    const scramble = crypto.randomBytes(20);
    const proof = scrambleCachingSha2Password('pw', Buffer.concat([scramble, Buffer.of(0)]));
    expect(verifyCachingSha2Scramble(cachingSha2Stage2('pw'), scramble, proof)).toBe(true);
    expect(verifyCachingSha2Scramble(cachingSha2Stage2('pW'), scramble, proof)).toBe(false);
    expect(verifyCachingSha2Scramble(cachingSha2Stage2('pw'), crypto.randomBytes(20), proof)).toBe(false);
    expect(verifyCachingSha2Scramble(cachingSha2Stage2('pw'), scramble, proof.subarray(1))).toBe(false);
  });
});

describe('client_ed25519', () => {
  it('signs with a key that standard Ed25519 verification accepts, for any password length', () => {
    for (const password of ['x', 'ed-pass', 'é'.repeat(40), crypto.randomBytes(200).toString('latin1')]) {
      const nonce = crypto.randomBytes(32);
      const signature = ed25519PasswordSign(password, nonce);
      expect(signature).toHaveLength(64);
      expect(ed25519.verify(signature, nonce, ed25519PasswordPublicKey(password))).toBe(true);
      expect(ed25519.verify(signature, crypto.randomBytes(32), ed25519PasswordPublicKey(password))).toBe(false);
      expect(ed25519.verify(signature, nonce, ed25519PasswordPublicKey(password + '!'))).toBe(false);
    }
  });

  it('derives the key from SHA-512 of the password as Ed25519 derives it from a 32-byte seed', () => {
    // For a 32-byte password the construction is exactly standard Ed25519 with that seed.
    const seed = crypto.randomBytes(32);
    expect(ed25519PasswordPublicKey(seed)).toEqual(Buffer.from(ed25519.getPublicKey(seed)));
    const message = crypto.randomBytes(32);
    expect(ed25519PasswordSign(seed, message)).toEqual(Buffer.from(ed25519.sign(message, seed)));
  });
});

describe('mysql_native_password against mysql2', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const auth41 = require(path.join(path.dirname(require.resolve('mysql2')), 'lib/auth_41.js')) as {
    calculateToken(password: string, scramble1: Buffer, scramble2: Buffer): Buffer;
  };

  it('computes the scramble mysql2 computes', () => {
    for (let i = 0; i < 10; i++) {
      const scramble = crypto.randomBytes(20);
      const password = crypto.randomBytes(1 + i).toString('hex');
      expect(scrambleNativePassword(password, scramble)).toEqual(auth41.calculateToken(password, scramble.subarray(0, 8), scramble.subarray(8)));
    }
  });
});
