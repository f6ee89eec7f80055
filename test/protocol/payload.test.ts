// PayloadReader and PayloadWriter (lib/protocol/payload.ts) against bytes written out by hand from
// the protocol's definitions of int<n>, int<lenenc>, string<lenenc> and string<NUL>.
import fc from 'fast-check';

import { PayloadReader, PayloadWriter } from '../../lib/protocol/payload';
import { hex, thrownCode } from './wire';

const reader = (bytes: Buffer) => new PayloadReader(bytes, 'test');
const malformed = expect.objectContaining({ code: 'ERR_MALFORMED_PACKET' });

// int<lenenc>: < 0xfb in one byte; 0xfc + int<2>; 0xfd + int<3>; 0xfe + int<8>.
const LENENC: Array<[number, string]> = [
  [0, '00'],
  [250, 'fa'], // the largest one-byte value
  [251, 'fc fb00'], // 0xfb is NULL, so 251 already needs the 0xfc form
  [0xffff, 'fc ffff'],
  [0x10000, 'fd 000001'],
  [0xffffff, 'fd ffffff'],
  [0x1000000, 'fe 0000000100000000'],
  [Number.MAX_SAFE_INTEGER, 'fe ffffffffffff1f00'], // 2^53 - 1
];

describe('PayloadReader', () => {
  it('reads int<1..4> little-endian', () => {
    const r = reader(hex('ab', '3412', '563412', '78563412'));
    expect([r.int1(), r.int2(), r.int3(), r.int4()]).toEqual([0xab, 0x1234, 0x123456, 0x12345678]);
    expect(r.remaining).toBe(0);
    expect(reader(hex('ffffffff')).int4()).toBe(0xffffffff); // unsigned
  });

  it.each(LENENC)('reads the length-encoded integer %i from %s', (value, bytes) => {
    const r = reader(hex(bytes));
    expect(r.lenencInt()).toBe(value);
    r.end();
  });

  it('refuses 0xfb (NULL) and 0xff as integers, values past 2^53, and every truncated width', () => {
    expect(() => reader(hex('fb')).lenencInt()).toThrow(/length-encoded/);
    expect(() => reader(hex('ff')).lenencInt()).toThrow(/length-encoded/);
    expect(() => reader(hex('fe 0000000000002000')).lenencInt()).toThrow(/out of range/); // 2^53
    for (const cut of ['fc ff', 'fd ffff', 'fe ffffffffffff1f', 'fc', '']) {
      expect(() => reader(hex(cut)).lenencInt()).toThrow(malformed);
    }
  });

  it('reads string<lenenc> and string<NUL>, and NULL (0xfb) as a text value', () => {
    const r = reader(hex('03 616263', '78797a 00', 'fb', '02 c3a9', '00', '6869'));
    expect(r.lenencString()).toBe('abc');
    expect(r.nulString()).toBe('xyz');
    expect(r.nullableLenencString()).toBeNull();
    expect(r.nullableLenencString()).toBe('é');
    expect(r.lenencString()).toBe('');
    expect(r.restString()).toBe('hi');
    r.end();
  });

  it('refuses a length past the end, an unterminated string and invalid UTF-8', () => {
    expect(() => reader(hex('05 6162')).lenencString()).toThrow(/truncated/);
    expect(() => reader(hex('fc 0001', '00'.repeat(255))).lenencBytes()).toThrow(/truncated/); // 256 announced
    expect(() => reader(hex('616263')).nulString()).toThrow(/unterminated/);
    expect(() => reader(hex('c3 00')).nulString()).toThrow(/UTF-8/); // lone lead byte
    expect(() => reader(hex('02 c0af')).lenencString()).toThrow(/UTF-8/); // overlong '/'
    expect(() => reader(hex('eda080')).restString()).toThrow(/UTF-8/); // a UTF-16 surrogate
    expect(() => reader(hex('01')).bytes(2)).toThrow(malformed);
    expect(thrownCode(() => reader(hex('ff')).nullableLenencString())).toBe('ERR_MALFORMED_PACKET');
  });

  it('end() refuses trailing bytes', () => {
    const r = reader(hex('01 02'));
    r.int1();
    expect(() => r.end()).toThrow(/1 unexpected trailing bytes/);
  });
});

describe('PayloadWriter', () => {
  it('writes int<1..4> little-endian', () => {
    expect(new PayloadWriter().int1(0xab).int2(0x1234).int3(0x123456).int4(0xfedcba98).finish()).toEqual(
      hex('ab', '3412', '563412', '98badcfe'),
    );
  });

  it.each(LENENC)('writes the length-encoded integer %i as %s', (value, bytes) => {
    expect(new PayloadWriter().lenencInt(value).finish()).toEqual(hex(bytes));
  });

  it('refuses lengths that are negative, fractional or past 2^53', () => {
    for (const value of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(thrownCode(() => new PayloadWriter().lenencInt(value))).toBe('ERR_INVALID_ARG_VALUE');
    }
  });

  it('writes strings: lenenc, NUL-terminated, NULL, plain, zeros', () => {
    const written = new PayloadWriter()
      .lenencBytes('é')
      .nulString('root')
      .nullableLenencString(null)
      .nullableLenencString('')
      .string('ok')
      .zeros(3)
      .bytes(hex('0102'))
      .finish();
    expect(written).toEqual(hex('02 c3a9', '726f6f74 00', 'fb', '00', '6f6b', '000000', '0102'));
    expect(new PayloadWriter().lenencBytes('x'.repeat(251)).finish()).toEqual(hex('fc fb00', '78'.repeat(251)));
  });

  it('refuses a NUL inside a NUL-terminated string (it would cut the name short on the other side)', () => {
    expect(thrownCode(() => new PayloadWriter().nulString('root\0evil'))).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('round-trips any length-encoded integer and string (in addition to the bytes above)', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.string({ unit: 'grapheme', maxLength: 300 }), (value, text) => {
        const r = reader(new PayloadWriter().lenencInt(value).lenencBytes(text).finish());
        expect(r.lenencInt()).toBe(value);
        expect(r.lenencString()).toBe(text);
        r.end();
      }),
    );
  });
});
