// AuthSwitchRequest and AuthMoreData (lib/protocol/auth-exchange.ts) against the AuthSwitchRequest
// MariaDB 10.11 really sent (fixtures/captured.ts) and layouts written out by hand.
import {
  buildAuthMoreData,
  buildAuthSwitchRequest,
  isAuthMoreData,
  isAuthSwitchRequest,
  parseAuthMoreData,
  parseAuthSwitchRequest,
} from '../../lib/protocol/auth-exchange';
import { MARIADB_AUTH_SWITCH, MARIADB_AUTH_SWITCH_DATA } from './fixtures/captured';
import { asciiHex, hex, thrownCode } from './wire';

describe('AuthSwitchRequest', () => {
  it("parses MariaDB's switch to mysql_native_password: the scramble with its NUL is the plugin data", () => {
    expect(isAuthSwitchRequest(MARIADB_AUTH_SWITCH)).toBe(true);
    expect(parseAuthSwitchRequest(MARIADB_AUTH_SWITCH)).toEqual({ pluginName: 'mysql_native_password', pluginData: MARIADB_AUTH_SWITCH_DATA });
    expect(MARIADB_AUTH_SWITCH_DATA).toHaveLength(21);
  });

  it('builds the same bytes MariaDB sent', () => {
    expect(buildAuthSwitchRequest({ pluginName: 'mysql_native_password', pluginData: MARIADB_AUTH_SWITCH_DATA })).toEqual(MARIADB_AUTH_SWITCH);
  });

  it('builds and parses a switch with no data', () => {
    const bytes = hex('fe', asciiHex('auth_socket') + '00'); // header, plugin name NUL, no data
    expect(buildAuthSwitchRequest({ pluginName: 'auth_socket', pluginData: Buffer.alloc(0) })).toEqual(bytes);
    expect(parseAuthSwitchRequest(bytes)).toEqual({ pluginName: 'auth_socket', pluginData: Buffer.alloc(0) });
  });

  it('refuses a wrong header, an unterminated or non-UTF-8 plugin name, and a NUL inside a name it builds', () => {
    expect(() => parseAuthSwitchRequest(hex('00', asciiHex('x') + '00'))).toThrow(/wrong header/);
    expect(() => parseAuthSwitchRequest(hex('fe', asciiHex('mysql_native')))).toThrow(/unterminated/);
    expect(() => parseAuthSwitchRequest(hex('fe', 'c3 00'))).toThrow(/UTF-8/);
    expect(thrownCode(() => parseAuthSwitchRequest(hex('')))).toBe('ERR_MALFORMED_PACKET');
    expect(thrownCode(() => buildAuthSwitchRequest({ pluginName: 'a\0b', pluginData: Buffer.alloc(0) }))).toBe('ERR_INVALID_ARG_VALUE');
    expect(isAuthSwitchRequest(hex(''))).toBe(false);
    expect(isAuthSwitchRequest(hex('01 fe'))).toBe(false);
  });
});

describe('AuthMoreData', () => {
  // caching_sha2_password's "fast auth succeeded": 0x01 header, then the one data byte 0x03.
  it('builds and parses 0x01 + data', () => {
    expect(buildAuthMoreData(hex('03'))).toEqual(hex('01', '03'));
    expect(parseAuthMoreData(hex('01', '03'))).toEqual(hex('03'));
    expect(buildAuthMoreData(Buffer.alloc(0))).toEqual(hex('01'));
    expect(parseAuthMoreData(hex('01'))).toEqual(Buffer.alloc(0));
  });

  it('strips exactly one 0x01, as the client does', () => {
    expect(parseAuthMoreData(hex('01', '0102'))).toEqual(hex('0102'));
    expect(buildAuthMoreData(hex('0102'))).toEqual(hex('01', '0102'));
  });

  it('refuses anything that does not start with 0x01', () => {
    for (const bytes of [hex(''), hex('00'), hex('fe', '01'), hex('ff', '0100')]) {
      expect(isAuthMoreData(bytes)).toBe(false);
      expect(thrownCode(() => parseAuthMoreData(bytes))).toBe('ERR_MALFORMED_PACKET');
    }
  });
});
