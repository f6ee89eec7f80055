// HandshakeV10, SSLRequest and HandshakeResponse41 (lib/protocol/handshake.ts) against bytes real
// peers sent (fixtures/captured.ts: MariaDB 10.11's greeting; mysql2's, the mariadb connector's and
// the mariadb CLI's responses and SSLRequests) and against layouts written out by hand.
import fc from 'fast-check';

import { Capability } from '../../lib/protocol/constants';
import {
  buildHandshakeResponse41,
  buildHandshakeV10,
  buildSslRequest,
  HandshakeResponse41,
  isSslRequest,
  parseHandshakeResponse41,
  parseHandshakeV10,
} from '../../lib/protocol/handshake';
import {
  MARIADB_CLI_RESPONSE,
  MARIADB_CLI_SSL_REQUEST,
  MARIADB_GREETING,
  MARIADB_GREETING_CAPABILITIES,
  MARIADB_NPM_RESPONSE,
  MARIADB_SCRAMBLE,
  MYSQL2_RESPONSE,
  MYSQL2_SSL_REQUEST,
} from './fixtures/captured';
import { asciiHex, hex, thrownCode } from './wire';

const malformed = expect.objectContaining({ code: 'ERR_MALFORMED_PACKET' });

/** A copy with bytes [from, from + length) zeroed: where MariaDB peers put extended capabilities. */
function zeroed(bytes: Buffer, from: number, length: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.fill(0, from, from + length);
  return copy;
}

describe('HandshakeV10', () => {
  const parsed = {
    serverVersion: '5.5.5-10.11.19-MariaDB-0+deb12u1',
    connectionId: 6,
    authPluginData: MARIADB_SCRAMBLE,
    capabilities: MARIADB_GREETING_CAPABILITIES,
    characterSet: 8,
    statusFlags: 2,
    authPluginName: 'mysql_native_password',
  };

  it("parses MariaDB's greeting field by field", () => {
    expect(parseHandshakeV10(MARIADB_GREETING)).toEqual(parsed);
  });

  it("builds MariaDB's greeting byte for byte, but for the extended capabilities it keeps in the reserved bytes", () => {
    // Reserved bytes: 1 + 33 (version) + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 = 55, then 10 reserved; MariaDB's 4 are the last.
    expect(buildHandshakeV10(parsed)).toEqual(zeroed(MARIADB_GREETING, 55 + 6, 4));
  });

  // A MySQL 8 style greeting written out by hand: caching_sha2_password, 20-byte scramble.
  const MYSQL_GREETING = hex(
    '0a', // protocol version
    asciiHex('8.0.36') + '00', // server version
    'efbeadde', // connection id 0xdeadbeef
    '3031323334353637', // scramble part 1: "01234567"
    '00', // filler
    'ffff', // capabilities low: 0xffff
    'ff', // charset 255 (utf8mb4_0900_ai_ci)
    '0200', // status AUTOCOMMIT
    'ff09', // capabilities high: 0x09ff -> 0x09ffffff (up to DEPRECATE_EOF and MFA... bits 24, 27)
    '15', // auth data length 21
    '00000000000000000000', // reserved, 10 zero bytes
    asciiHex('89abcdefghij') + '00', // scramble part 2, 12 bytes + NUL
    asciiHex('caching_sha2_password') + '00', // plugin name
  );
  const mysqlGreeting = {
    serverVersion: '8.0.36',
    connectionId: 0xdeadbeef,
    authPluginData: Buffer.from('0123456789abcdefghij'),
    capabilities: 0x09ffffff,
    characterSet: 255,
    statusFlags: 2,
    authPluginName: 'caching_sha2_password',
  };

  it('builds and parses a MySQL 8 greeting laid out by hand', () => {
    expect(buildHandshakeV10(mysqlGreeting)).toEqual(MYSQL_GREETING);
    expect(parseHandshakeV10(MYSQL_GREETING)).toEqual(mysqlGreeting);
  });

  it('pads a short scramble to the 13 bytes old clients read, and leaves part 2 and the name out without their flags', () => {
    const short = { ...mysqlGreeting, authPluginData: Buffer.from('01234567ab') };
    expect(buildHandshakeV10(short).subarray(1 + 7 + 4 + 8 + 1 + 2 + 1 + 2 + 2)).toEqual(
      hex('0b', '00'.repeat(10), asciiHex('ab'), '00'.repeat(11), asciiHex('caching_sha2_password') + '00'),
    );
    const bare = { ...mysqlGreeting, capabilities: Capability.PROTOCOL_41, authPluginName: null };
    expect(buildHandshakeV10(bare)).toEqual(
      hex('0a', asciiHex('8.0.36') + '00', 'efbeadde', '3031323334353637', '00', '0002', 'ff', '0200', '0000', '00', '00'.repeat(10)),
    );
    expect(parseHandshakeV10(buildHandshakeV10(bare))).toEqual({ ...bare, authPluginData: Buffer.from('01234567') });
    expect(thrownCode(() => buildHandshakeV10({ ...mysqlGreeting, authPluginData: Buffer.alloc(7) }))).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrownCode(() => buildHandshakeV10({ ...mysqlGreeting, serverVersion: '8.0\0x' }))).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('reads a pre-4.1 greeting that ends after the low capability flags', () => {
    const old = hex('0a', asciiHex('3.23') + '00', '01000000', '3031323334353637', '00', '2c00');
    expect(parseHandshakeV10(old)).toEqual({
      serverVersion: '3.23',
      connectionId: 1,
      authPluginData: Buffer.from('01234567'),
      capabilities: 0x2c,
      characterSet: 0,
      statusFlags: 0,
      authPluginName: null,
    });
  });

  it("refuses another protocol version, and every cut of MariaDB's greeting before its plugin name", () => {
    expect(() => parseHandshakeV10(hex('09', asciiHex('x') + '00'))).toThrow(/protocol version 9/);
    expect(() => parseHandshakeV10(hex('0a', asciiHex('5.5.5')))).toThrow(/unterminated/);
    const nameStart = MARIADB_GREETING.length - 'mysql_native_password\0'.length;
    const parsedAt: number[] = [];
    for (let cut = 0; cut <= nameStart; cut++) {
      try {
        parseHandshakeV10(MARIADB_GREETING.subarray(0, cut));
        parsedAt.push(cut);
      } catch (error) {
        expect(error).toEqual(malformed);
      }
    }
    // Only where a pre-4.1 greeting ends, and at the plugin name (which some servers leave out).
    expect(parsedAt).toEqual([1 + 33 + 4 + 8 + 1 + 2, nameStart]);
  });
});

describe('SSLRequest', () => {
  it('recognises the SSLRequests the mariadb CLI and mysql2 really sent, and refuses to parse them as responses', () => {
    for (const request of [MARIADB_CLI_SSL_REQUEST, MYSQL2_SSL_REQUEST]) {
      expect(request).toHaveLength(32);
      expect(isSslRequest(request)).toBe(true);
      expect(() => parseHandshakeResponse41(request)).toThrow(/SSLRequest/);
    }
  });

  it("builds mysql2's SSLRequest byte for byte, but for MariaDB's extended capabilities in the filler", () => {
    expect(buildSslRequest(0x08baf3ce, 0, 224)).toEqual(zeroed(MYSQL2_SSL_REQUEST, 28, 4));
    expect(buildSslRequest(Capability.PROTOCOL_41, 0x01000000, 45)).toEqual(
      hex('000a0000', '00000001', '2d', '00'.repeat(23)), // CLIENT_SSL added; max packet 16 MiB; charset 45
    );
  });

  it('is only a 32-byte packet with CLIENT_SSL', () => {
    expect(isSslRequest(zeroed(MARIADB_CLI_SSL_REQUEST, 1, 1))).toBe(false); // 0xaa -> 0x00: CLIENT_SSL gone
    expect(isSslRequest(MARIADB_CLI_SSL_REQUEST.subarray(0, 31))).toBe(false);
    expect(isSslRequest(Buffer.concat([MARIADB_CLI_SSL_REQUEST, hex('00')]))).toBe(false);
    expect(isSslRequest(MARIADB_CLI_RESPONSE)).toBe(false);
  });
});

describe('HandshakeResponse41', () => {
  it("parses mysql2's response field by field", () => {
    expect(parseHandshakeResponse41(MYSQL2_RESPONSE)).toEqual({
      capabilities: 0x08baf3ce,
      maxPacketSize: 0,
      characterSet: 224,
      user: 'valerie',
      authResponse: Buffer.alloc(0),
      database: 'shop',
      clientPluginName: 'mysql_native_password',
      connectAttributes: { _client_name: 'Node-MySQL-2', _client_version: '3.24.5', program_name: 'capture' },
    });
  });

  it("parses the mariadb connector's response (no database, a 3-byte attribute length)", () => {
    const parsed = parseHandshakeResponse41(MARIADB_NPM_RESPONSE);
    expect(parsed).toEqual({
      capabilities: 0x01bea302,
      maxPacketSize: 0x40000000,
      characterSet: 224,
      user: 'valerie',
      authResponse: Buffer.alloc(0),
      database: null,
      clientPluginName: 'mysql_native_password',
      connectAttributes: {
        _client_name: 'MariaDB connector/Node',
        _client_version: '3.5.4',
        _os: 'linux',
        _client_host: 'vm',
        _node_version: '20.20.2',
        program_name: 'capture',
      },
    });
    expect(Object.getPrototypeOf(parsed.connectAttributes)).toBeNull();
  });

  it("parses the mariadb CLI's response", () => {
    expect(parseHandshakeResponse41(MARIADB_CLI_RESPONSE)).toMatchObject({
      capabilities: 0x00bfa28c,
      maxPacketSize: 0x00100000,
      characterSet: 33,
      user: 'valerie',
      database: 'shop',
      clientPluginName: 'mysql_native_password',
      connectAttributes: { _os: 'Linux', _client_name: 'libmariadb', _pid: '26885', _client_version: '3.3.20', _platform: 'x86_64', program_name: 'mysql' },
    });
  });

  it.each([
    ['mysql2', MYSQL2_RESPONSE],
    ['the mariadb CLI', MARIADB_CLI_RESPONSE],
  ])("builds %s's response byte for byte from its fields, but for MariaDB's extended capabilities", (_who, captured) => {
    expect(buildHandshakeResponse41(parseHandshakeResponse41(captured))).toEqual(zeroed(captured, 28, 4));
  });

  it("builds the mariadb connector's response but for its extended capabilities and its non-minimal attribute length", () => {
    // The connector wrote the attributes' total (127) as fc 7f00; the shortest form, 7f, says the same.
    const at = MARIADB_NPM_RESPONSE.indexOf(hex('fc7f00'), 32);
    expect(at).toBe(32 + 'valerie\0'.length + 1 + 'mysql_native_password\0'.length);
    const minimal = Buffer.concat([MARIADB_NPM_RESPONSE.subarray(0, at), hex('7f'), MARIADB_NPM_RESPONSE.subarray(at + 3)]);
    expect(buildHandshakeResponse41(parseHandshakeResponse41(MARIADB_NPM_RESPONSE))).toEqual(zeroed(minimal, 28, 4));
  });

  const BASE = Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION;
  function response(overrides: Partial<HandshakeResponse41>): HandshakeResponse41 {
    return {
      capabilities: BASE,
      maxPacketSize: 0x01000000,
      characterSet: 45,
      user: 'valerie',
      authResponse: Buffer.alloc(0),
      database: null,
      clientPluginName: null,
      connectAttributes: null,
      ...overrides,
    };
  }
  const HEAD = (caps: string) => hex(caps, '00000001', '2d', '00'.repeat(23), asciiHex('valerie') + '00'); // caps, 16 MiB, 45, filler, user

  const layouts: Array<[string, Partial<HandshakeResponse41>, Buffer]> = [
    [
      '1-byte auth length (no PLUGIN_AUTH_LENENC_CLIENT_DATA)',
      { authResponse: Buffer.alloc(20, 7) },
      Buffer.concat([HEAD('00820000'), hex('14', '07'.repeat(20))]), // PROTOCOL_41|SECURE_CONNECTION; length 20, data
    ],
    [
      'lenenc auth data of 300 bytes',
      { capabilities: BASE | Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA, authResponse: Buffer.alloc(300, 9) },
      Buffer.concat([HEAD('00822000'), hex('fc 2c01', '09'.repeat(300))]), // + bit 21; 0xfc + int<2> 300
    ],
    [
      'database and client plugin, auth data with a NUL inside',
      { capabilities: BASE | Capability.CONNECT_WITH_DB | Capability.PLUGIN_AUTH, authResponse: hex('610062'), database: 'shop', clientPluginName: 'auth_socket' },
      Buffer.concat([HEAD('08820800'), hex('03 610062', asciiHex('shop') + '00', asciiHex('auth_socket') + '00')]),
    ],
    [
      'connect attributes, a non-ASCII one and __proto__ as a plain key',
      {
        capabilities: BASE | Capability.CONNECT_ATTRS,
        connectAttributes: Object.assign(Object.create(null) as Record<string, string>, JSON.parse('{"__proto__":"v","ü":"é"}')),
      },
      Buffer.concat([
        HEAD('00821000'), // + CONNECT_ATTRS (bit 20)
        hex('00', '12', '09' + asciiHex('__proto__'), '01' + asciiHex('v'), '02 c3bc', '02 c3a9'), // auth 0; attrs total 18
      ]),
    ],
  ];

  it.each(layouts)('builds and parses: %s', (_name, overrides, bytes) => {
    expect(buildHandshakeResponse41(response(overrides))).toEqual(bytes);
    const parsed = parseHandshakeResponse41(bytes);
    expect(parsed).toEqual(response(overrides));
    if (parsed.connectAttributes) {
      expect(Object.keys(parsed.connectAttributes)).toEqual(['__proto__', 'ü']);
      expect(Object.getPrototypeOf(parsed.connectAttributes)).toBeNull();
    }
  });

  it('refuses to build what the other side would misread', () => {
    expect(thrownCode(() => buildHandshakeResponse41(response({ authResponse: Buffer.alloc(256) })))).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrownCode(() => buildHandshakeResponse41(response({ user: 'root\0valerie' })))).toBe('ERR_INVALID_ARG_VALUE');
    const withDb = response({ capabilities: BASE | Capability.CONNECT_WITH_DB, database: 'a\0b' });
    expect(thrownCode(() => buildHandshakeResponse41(withDb))).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('tolerates optional fields missing at the very end, as MySQL does', () => {
    // CONNECT_WITH_DB | PLUGIN_AUTH | CONNECT_ATTRS announced, but the packet ends after the auth data.
    const bytes = Buffer.concat([HEAD('08821800'), hex('00')]);
    expect(parseHandshakeResponse41(bytes)).toMatchObject({ database: null, clientPluginName: null, connectAttributes: null });
  });

  it("refuses every cut of mysql2's response except exactly before an optional field", () => {
    const parsedAt: number[] = [];
    for (let cut = 0; cut < MYSQL2_RESPONSE.length; cut++) {
      try {
        parseHandshakeResponse41(MYSQL2_RESPONSE.subarray(0, cut));
        parsedAt.push(cut);
      } catch (error) {
        expect(error).toEqual(malformed);
      }
    }
    const authEnd = 32 + 'valerie\0'.length + 1;
    expect(parsedAt).toEqual([authEnd, authEnd + 'shop\0'.length, authEnd + 'shop\0'.length + 'mysql_native_password\0'.length]);
  });

  it('refuses pre-4.1 clients, trailing bytes, lengths past the end, invalid UTF-8 and unterminated names', () => {
    const old = zeroed(MYSQL2_RESPONSE, 1, 1); // 0xf3 -> 0x00: CLIENT_PROTOCOL_41 (0x200) gone
    expect(() => parseHandshakeResponse41(old)).toThrow(/PROTOCOL_41/);
    expect(() => parseHandshakeResponse41(Buffer.concat([MYSQL2_RESPONSE, hex('00')]))).toThrow(/trailing/);
    // 1-byte auth length 0xff with 2 bytes left.
    expect(() => parseHandshakeResponse41(Buffer.concat([HEAD('00820000'), hex('ff 0102')]))).toThrow(/truncated/);
    // lenenc auth length 0xfc 0x0100 (256) with 1 byte left.
    expect(() => parseHandshakeResponse41(Buffer.concat([HEAD('00822000'), hex('fc0001 01')]))).toThrow(/truncated/);
    // Attributes: total 5, but the key inside claims 9 bytes.
    expect(() => parseHandshakeResponse41(Buffer.concat([HEAD('00821000'), hex('00', '05', '09 61626364')]))).toThrow(/truncated/);
    // Attributes: a key without its value.
    expect(() => parseHandshakeResponse41(Buffer.concat([HEAD('00821000'), hex('00', '02', '01 61')]))).toThrow(/truncated/);
    // Attributes: total length past the end.
    expect(() => parseHandshakeResponse41(Buffer.concat([HEAD('00821000'), hex('00', '20', '01 61 01 62')]))).toThrow(/truncated/);
    // User name with a lone UTF-8 lead byte; attribute value with an invalid byte.
    const badUser = Buffer.from(MYSQL2_RESPONSE);
    badUser[32] = 0xc3;
    expect(() => parseHandshakeResponse41(badUser)).toThrow(/UTF-8/);
    expect(() => parseHandshakeResponse41(Buffer.concat([HEAD('00821000'), hex('00', '04', '01 61 01 ff')]))).toThrow(/UTF-8/);
    // User name without its NUL.
    expect(() => parseHandshakeResponse41(hex('00820000', '00000001', '2d', '00'.repeat(23), asciiHex('valerie')))).toThrow(/unterminated/);
    // Database and plugin name without their NUL.
    expect(() => parseHandshakeResponse41(Buffer.concat([HEAD('08820000'), hex('00', asciiHex('shop'))]))).toThrow(/unterminated/);
    expect(() => parseHandshakeResponse41(Buffer.concat([HEAD('00820800'), hex('00', asciiHex('auth'))]))).toThrow(/unterminated/);
  });

  it('never throws anything but ERR_MALFORMED_PACKET on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 0xffffffff }), (bytes, flags) => {
        const payload = Buffer.concat([Buffer.alloc(4), Buffer.from(bytes)]);
        payload.writeUInt32LE(flags >>> 0, 0);
        try {
          parseHandshakeResponse41(payload);
        } catch (error) {
          expect((error as { code?: string }).code).toBe('ERR_MALFORMED_PACKET');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
