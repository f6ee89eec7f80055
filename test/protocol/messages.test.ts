// Protocol messages: every builder is read back by its parser, in every capability variant, and
// bad input is refused with ERR_MALFORMED_PACKET instead of being half-parsed.
import fc from 'fast-check';

import { buildAuthMoreData, buildAuthSwitchRequest, parseAuthMoreData, parseAuthSwitchRequest } from '../../lib/protocol/auth-exchange';
import { Capability, ColumnType } from '../../lib/protocol/constants';
import { buildHandshakeResponse41, buildHandshakeV10, buildSslRequest, HandshakeResponse41, isSslRequest, parseHandshakeResponse41, parseHandshakeV10 } from '../../lib/protocol/handshake';
import { PayloadReader, PayloadWriter } from '../../lib/protocol/payload';
import { buildErr, buildOk, isEofPacket, parseErr, parseOk } from '../../lib/protocol/responses';
import { buildTextResultSet, readTextResultSet } from '../../lib/protocol/result-set';
import { accessDenied, PASSWORD_USED_NO, PASSWORD_USED_NO_MENTION, PASSWORD_USED_YES } from '../../lib/protocol/mysql-errors';

const BASE = Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION;

function response(overrides: Partial<HandshakeResponse41>): HandshakeResponse41 {
  return {
    capabilities: BASE,
    maxPacketSize: 1 << 24,
    characterSet: 45,
    user: 'valerie',
    authResponse: Buffer.alloc(0),
    database: null,
    clientPluginName: null,
    connectAttributes: null,
    ...overrides,
  };
}

describe('HandshakeV10', () => {
  it('round-trips a 20-byte scramble with the plugin name, as MySQL lays it out', () => {
    const scramble = Buffer.from('0123456789abcdefghij');
    const greeting = {
      serverVersion: '8.0.36-auth-socket',
      connectionId: 0xdeadbeef,
      authPluginData: scramble,
      capabilities: (BASE | Capability.PLUGIN_AUTH | Capability.DEPRECATE_EOF) >>> 0,
      characterSet: 45,
      statusFlags: 2,
      authPluginName: 'mysql_native_password',
    };
    const payload = buildHandshakeV10(greeting);
    // 1 + version + NUL + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10 + (12 + NUL) + plugin + NUL
    expect(payload.length).toBe(1 + 19 + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10 + 13 + 22);
    expect(payload[0]).toBe(10);
    expect(parseHandshakeV10(payload)).toEqual(greeting);
  });

  it('refuses another protocol version and truncated greetings', () => {
    expect(() => parseHandshakeV10(Buffer.from([9, 0]))).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_PACKET' }));
    const payload = buildHandshakeV10({
      serverVersion: 'x',
      connectionId: 1,
      authPluginData: Buffer.alloc(20, 1),
      capabilities: BASE | Capability.PLUGIN_AUTH,
      characterSet: 45,
      statusFlags: 2,
      authPluginName: 'p',
    });
    expect(() => parseHandshakeV10(payload.subarray(0, 20))).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_PACKET' }));
  });
});

describe('HandshakeResponse41', () => {
  const variants: Array<[string, Partial<HandshakeResponse41>]> = [
    ['1-byte auth length', { authResponse: Buffer.alloc(20, 7) }],
    ['lenenc auth data', { capabilities: BASE | Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA, authResponse: Buffer.alloc(300, 9) }],
    ['database', { capabilities: BASE | Capability.CONNECT_WITH_DB, database: 'shop' }],
    ['client plugin name', { capabilities: BASE | Capability.PLUGIN_AUTH, clientPluginName: 'auth_simple' }],
    [
      'everything with connect attributes',
      {
        capabilities:
          BASE |
          Capability.PLUGIN_AUTH |
          Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA |
          Capability.CONNECT_WITH_DB |
          Capability.CONNECT_ATTRS,
        authResponse: Buffer.from('secret\0'),
        database: 'db',
        clientPluginName: 'mysql_native_password',
        connectAttributes: Object.assign(Object.create(null), { _client_name: 'x', __proto__: 'kept', 'ü': 'ünïcode' }),
      },
    ],
  ];

  it.each(variants)('round-trips: %s', (_name, overrides) => {
    const original = response(overrides);
    expect(parseHandshakeResponse41(buildHandshakeResponse41(original))).toEqual(original);
  });

  it('keeps __proto__ as an ordinary attribute key', () => {
    const original = response({ capabilities: BASE | Capability.CONNECT_ATTRS, connectAttributes: JSON.parse('{"__proto__":"v"}') });
    const parsed = parseHandshakeResponse41(buildHandshakeResponse41(original));
    expect(Object.keys(parsed.connectAttributes!)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(parsed.connectAttributes)).toBeNull();
  });

  it('tolerates optional fields missing at the very end, as MySQL does', () => {
    const withoutPlugin = buildHandshakeResponse41(response({ capabilities: BASE }));
    const flags = Buffer.from(withoutPlugin);
    flags.writeUInt32LE(BASE | Capability.PLUGIN_AUTH | Capability.CONNECT_WITH_DB, 0);
    expect(parseHandshakeResponse41(flags)).toMatchObject({ database: null, clientPluginName: null });
  });

  it('refuses every truncation of a full response, except cuts exactly before an optional field', () => {
    const full = buildHandshakeResponse41(response(variants[4][1]));
    const authEnd = 32 + 'valerie\0'.length + 1 + 'secret\0'.length;
    const parsedAt: number[] = [];
    for (let cut = 0; cut < full.length; cut++) {
      try {
        parseHandshakeResponse41(full.subarray(0, cut));
        parsedAt.push(cut);
      } catch (error) {
        expect((error as { code?: string }).code).toBe('ERR_MALFORMED_PACKET');
      }
    }
    const dbEnd = authEnd + 'db\0'.length;
    expect(parsedAt).toEqual([authEnd, dbEnd, dbEnd + 'mysql_native_password\0'.length]);
  });

  it('refuses pre-4.1 clients, SSLRequests, invalid UTF-8 user names and trailing bytes', () => {
    const old = buildHandshakeResponse41(response({}));
    old.writeUInt32LE(Capability.SECURE_CONNECTION, 0);
    expect(() => parseHandshakeResponse41(old)).toThrow(/PROTOCOL_41/);
    const ssl = buildSslRequest(BASE, 1 << 24, 45);
    expect(isSslRequest(ssl)).toBe(true);
    expect(() => parseHandshakeResponse41(ssl)).toThrow(/SSLRequest/);
    const badUser = buildHandshakeResponse41(response({ user: 'ab' }));
    badUser[32] = 0xc3; // a lone UTF-8 lead byte
    expect(() => parseHandshakeResponse41(badUser)).toThrow(/UTF-8/);
    const trailing = Buffer.concat([buildHandshakeResponse41(response({})), Buffer.from('x')]);
    expect(() => parseHandshakeResponse41(trailing)).toThrow(/trailing/);
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

describe('authentication packets', () => {
  it('AuthSwitchRequest and AuthMoreData round-trip', () => {
    const request = { pluginName: 'auth_simple', pluginData: Buffer.from('0123456789abcdefghij\0') };
    const built = buildAuthSwitchRequest(request);
    expect(built[0]).toBe(0xfe);
    expect(parseAuthSwitchRequest(built)).toEqual(request);
    const more = buildAuthMoreData(Buffer.from([1, 2, 3]));
    expect(more).toEqual(Buffer.from([1, 1, 2, 3]));
    expect(parseAuthMoreData(more)).toEqual(Buffer.from([1, 2, 3]));
  });

  it('OK and ERR round-trip, ERR with its SQLSTATE', () => {
    expect(parseOk(buildOk({ affectedRows: 300, lastInsertId: 70000, statusFlags: 2, warnings: 1, info: 'hi' }))).toEqual({
      affectedRows: 300,
      lastInsertId: 70000,
      statusFlags: 2,
      warnings: 1,
      info: 'hi',
    });
    const err = accessDenied('valerie', 'localhost', PASSWORD_USED_NO_MENTION);
    const built = buildErr(err);
    expect(built.subarray(0, 9)).toEqual(Buffer.from([0xff, 0xa2, 0x06, 0x23, 0x32, 0x38, 0x30, 0x30, 0x30]));
    expect(parseErr(built)).toEqual({ errno: 1698, sqlState: '28000', message: "Access denied for user 'valerie'@'localhost'" });
    expect(parseErr(Buffer.from([0xff, 0x10, 0x04, 0x42]))).toEqual({ errno: 1040, sqlState: null, message: 'B' });
  });

  it('1045 says whether a password was used', () => {
    expect(accessDenied('u', 'h', PASSWORD_USED_YES).message).toBe("Access denied for user 'u'@'h' (using password: YES)");
    expect(accessDenied('u', 'h', PASSWORD_USED_NO)).toEqual({
      errno: 1045,
      sqlState: '28000',
      message: "Access denied for user 'u'@'h' (using password: NO)",
    });
  });
});

describe('text result sets', () => {
  const columns = [
    { schema: '', table: '', orgTable: '', name: '1', orgName: '', characterSet: 63, columnLength: 1, type: ColumnType.LONGLONG, flags: 0x81, decimals: 0 },
    { schema: '', table: '', orgTable: '', name: 'USER()', orgName: '', characterSet: 45, columnLength: 384, type: ColumnType.VAR_STRING, flags: 0, decimals: 31 },
  ];
  const rows = [
    ['1', 'nobody@localhost'],
    ['2', null],
  ];

  it.each([
    ['with EOF packets', 0],
    ['with CLIENT_DEPRECATE_EOF', Capability.DEPRECATE_EOF],
  ])('round-trips %s', async (_name, capabilities) => {
    const payloads = buildTextResultSet(columns, rows, capabilities);
    expect(payloads).toHaveLength(capabilities ? 1 + 2 + 2 + 1 : 1 + 2 + 1 + 2 + 1);
    // The 0xfe OK is told from an EOF by the capability, not by its bytes.
    expect(isEofPacket(payloads[payloads.length - 1])).toBe(true);
    expect(payloads[payloads.length - 1]).toHaveLength(capabilities ? 7 : 5);
    const queue = payloads.slice(1);
    const result = await readTextResultSet(payloads[0], async () => queue.shift()!, capabilities);
    expect(result).toEqual({ columns, rows });
    expect(queue).toHaveLength(0);
  });
});

describe('length-encoded integers', () => {
  it('round-trip at every width boundary', () => {
    for (const value of [0, 250, 251, 0xffff, 0x10000, 0xffffff, 0x1000000, Number.MAX_SAFE_INTEGER]) {
      const reader = new PayloadReader(new PayloadWriter().lenencInt(value).finish(), 'test');
      expect(reader.lenencInt()).toBe(value);
      reader.end();
    }
    expect(() => new PayloadReader(Buffer.from([0xfb]), 'test').lenencInt()).toThrow(/length-encoded/);
    expect(() => new PayloadReader(Buffer.from([0xfd, 1]), 'test').lenencInt()).toThrow(/truncated/);
  });
});
