// OK, ERR and EOF (lib/protocol/responses.ts) against what MariaDB 10.11 really sent
// (fixtures/captured.ts) and layouts written out by hand; the ERR message cap; ERR as an error.
import { Capability } from '../../lib/protocol/constants';
import {
  accessDenied,
  badHandshake,
  mysqlError,
  PASSWORD_USED_NO,
  PASSWORD_USED_NO_MENTION,
  PASSWORD_USED_YES,
} from '../../lib/protocol/mysql-errors';
import {
  buildEof,
  buildErr,
  buildOk,
  isEofPacket,
  isErrPacket,
  isOkPacket,
  MYSQL_ERRMSG_SIZE,
  parseEof,
  parseErr,
  parseOk,
  serverErrorFrom,
} from '../../lib/protocol/responses';
import {
  MARIADB_ERR_1698,
  MARIADB_ERR_BAD_HANDSHAKE,
  MARIADB_ERR_SIGNAL_CAPPED,
  MARIADB_ERR_UNKNOWN_USER,
  MARIADB_OK,
  MARIADB_OK_INSERT,
  MARIADB_RESULT_SET_DEPRECATE_EOF,
  MARIADB_RESULT_SET_EOF,
} from './fixtures/captured';
import { asciiHex, hex, thrownCode } from './wire';

describe('OK', () => {
  it("parses MariaDB's login OK and builds the same bytes", () => {
    expect(isOkPacket(MARIADB_OK)).toBe(true);
    expect(parseOk(MARIADB_OK)).toEqual({ affectedRows: 0, lastInsertId: 0, statusFlags: 2, warnings: 0, info: '' });
    expect(buildOk()).toEqual(MARIADB_OK);
  });

  it("parses and builds the 0xfe OK that ends MariaDB's result set under CLIENT_DEPRECATE_EOF", () => {
    const end = MARIADB_RESULT_SET_DEPRECATE_EOF[MARIADB_RESULT_SET_DEPRECATE_EOF.length - 1];
    expect(parseOk(end, Capability.DEPRECATE_EOF)).toEqual({ affectedRows: 0, lastInsertId: 0, statusFlags: 2, warnings: 0, info: '' });
    expect(buildOk({}, true)).toEqual(end);
  });

  it('builds and parses multi-byte counters laid out by hand', () => {
    const bytes = hex(
      '00', // OK header
      'fc 2c01', // affected rows 300
      'fd 701101', // last insert id 70000
      '0300', // status IN_TRANS | AUTOCOMMIT
      '0100', // warnings 1
    );
    const ok = { affectedRows: 300, lastInsertId: 70000, statusFlags: 3, warnings: 1, info: '' };
    expect(buildOk(ok)).toEqual(bytes);
    expect(parseOk(bytes)).toEqual(ok);
  });

  it('refuses a wrong header, truncated counters and invalid UTF-8 in the info', () => {
    expect(() => parseOk(hex('ff', '00', '00', '0200', '0000'))).toThrow(/wrong header/);
    expect(thrownCode(() => parseOk(hex('00', 'fc 2c')))).toBe('ERR_MALFORMED_PACKET');
    expect(thrownCode(() => parseOk(hex('00', '00', '00', '02')))).toBe('ERR_MALFORMED_PACKET');
    expect(thrownCode(() => parseOk(hex('00', '00', '00', '0200', '0000', 'ff')))).toBe('ERR_MALFORMED_PACKET');
    expect(isOkPacket(hex('00', '00', '00', '0200', '00'))).toBe(false); // 6 bytes: too short for an OK
  });

  // MySQL's net_send_ok and MariaDB write the info as a length-encoded string with or without
  // CLIENT_SESSION_TRACK, and libmysql/Connector-C read it so (it was once read as plain text).
  it('reads the info of a real OK without CLIENT_SESSION_TRACK as MariaDB wrote it (length-encoded)', () => {
    const expected = { affectedRows: 3, lastInsertId: 1, statusFlags: 2, warnings: 0, info: 'Records: 3  Duplicates: 0  Warnings: 0' };
    expect(parseOk(MARIADB_OK_INSERT)).toEqual(expected);
    expect(parseOk(MARIADB_OK_INSERT, Capability.SESSION_TRACK)).toEqual(expected);
  });

  it('writes the info as MariaDB does (length-encoded)', () => {
    expect(buildOk({ affectedRows: 3, lastInsertId: 1, info: 'Records: 3  Duplicates: 0  Warnings: 0' })).toEqual(MARIADB_OK_INSERT);
  });
});

describe('ERR', () => {
  it.each([
    ['1698 for an existing unix_socket account', MARIADB_ERR_1698, accessDenied('valerie', 'localhost', PASSWORD_USED_NO_MENTION), { errno: 1698, sqlState: '28000', message: "Access denied for user 'valerie'@'localhost'" }],
    ['1698 for an unknown user', MARIADB_ERR_UNKNOWN_USER, accessDenied('nobody_here', 'localhost', PASSWORD_USED_NO_MENTION), { errno: 1698, sqlState: '28000', message: "Access denied for user 'nobody_here'@'localhost'" }],
    ['1043 Bad handshake', MARIADB_ERR_BAD_HANDSHAKE, badHandshake(), { errno: 1043, sqlState: '08S01', message: 'Bad handshake' }],
  ])("parses MariaDB's %s and builds the same bytes from the error table", (_name, captured, fromTable, fields) => {
    expect(isErrPacket(captured)).toBe(true);
    expect(parseErr(captured)).toEqual(fields);
    expect(fromTable).toEqual(fields);
    expect(buildErr(fromTable)).toEqual(captured);
  });

  it('builds and parses an ERR without SQLSTATE (errors before the protocol is agreed)', () => {
    const bytes = hex('ff', '1004', asciiHex('Too many connections')); // header, 1040, message
    expect(buildErr({ errno: 1040, sqlState: null, message: 'Too many connections' })).toEqual(bytes);
    expect(parseErr(bytes)).toEqual({ errno: 1040, sqlState: null, message: 'Too many connections' });
    expect(parseErr(hex('ff', '1004', '42'))).toEqual({ errno: 1040, sqlState: null, message: 'B' });
  });

  it('caps the message at 511 bytes, as MariaDB does', () => {
    const fields = parseErr(MARIADB_ERR_SIGNAL_CAPPED);
    expect(fields).toMatchObject({ errno: 1644, sqlState: '45000' });
    expect(Buffer.byteLength(fields.message)).toBe(MYSQL_ERRMSG_SIZE - 1);
    // MariaDB puts '?' where the character that did not fit was; we stop at the last whole one (510
    // bytes): still within the cap, and never half a character.
    const built = buildErr({ errno: 1644, sqlState: '45000', message: 'é'.repeat(300) });
    expect(built).toEqual(MARIADB_ERR_SIGNAL_CAPPED.subarray(0, MARIADB_ERR_SIGNAL_CAPPED.length - 1));
    // ASCII: exactly 511 bytes; a client-chosen name inside the message cannot grow the packet.
    const message = "Access denied for user '" + 'u'.repeat(2000) + "'@'localhost'";
    expect(buildErr({ errno: 1698, sqlState: '28000', message })).toEqual(
      hex('ff', 'a206', '23', asciiHex('28000'), asciiHex("Access denied for user '" + 'u'.repeat(511 - 24))),
    );
    expect(buildErr({ errno: 1, sqlState: null, message: 'x'.repeat(511) })).toHaveLength(3 + 511);
  });

  it('refuses a SQLSTATE that is not 5 characters, and ERRs that do not parse', () => {
    for (const sqlState of ['2800', '280000', '28-00', 'abcde']) {
      expect(thrownCode(() => buildErr({ errno: 1, sqlState, message: '' }))).toBe('ERR_INVALID_ARG_VALUE');
    }
    expect(() => parseErr(hex('00', 'a206'))).toThrow(/wrong header/);
    expect(thrownCode(() => parseErr(hex('ff', 'a2')))).toBe('ERR_MALFORMED_PACKET');
    expect(thrownCode(() => parseErr(hex('ff', 'a206', '23', asciiHex('28000'), 'c3')))).toBe('ERR_MALFORMED_PACKET');
  });

  it('the error table words 1045 and 1698 as MySQL does', () => {
    expect(accessDenied('u', 'h', PASSWORD_USED_YES)).toEqual({ errno: 1045, sqlState: '28000', message: "Access denied for user 'u'@'h' (using password: YES)" });
    expect(accessDenied('u', 'h', PASSWORD_USED_NO)).toEqual({ errno: 1045, sqlState: '28000', message: "Access denied for user 'u'@'h' (using password: NO)" });
    expect(mysqlError('ER_PLUGIN_IS_NOT_LOADED', 'auth_pam')).toEqual({ errno: 1524, sqlState: 'HY000', message: "Plugin 'auth_pam' is not loaded" });
  });

  it('serverErrorFrom turns a parsed ERR into an ERR_SERVER_ERROR with errno and sqlState', () => {
    const error = serverErrorFrom(parseErr(MARIADB_ERR_1698));
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: 'ERR_SERVER_ERROR', errno: 1698, sqlState: '28000', message: "Access denied for user 'valerie'@'localhost'" });
  });
});

describe('EOF', () => {
  const eof = MARIADB_RESULT_SET_EOF[4];

  it("parses MariaDB's EOF and builds the same bytes", () => {
    expect(isEofPacket(eof)).toBe(true);
    expect(parseEof(eof)).toEqual({ warnings: 0, statusFlags: 2 });
    expect(buildEof()).toEqual(eof);
    expect(buildEof({ warnings: 0x0102, statusFlags: 0x0003 })).toEqual(hex('fe', '0201', '0300'));
    expect(parseEof(hex('fe'))).toEqual({ warnings: 0, statusFlags: 0 }); // pre-4.1 form
  });

  it('is told from an AuthSwitchRequest by its length, and refuses what does not parse', () => {
    expect(isEofPacket(hex('fe', asciiHex('mysql_native_password') + '00'))).toBe(false);
    expect(isEofPacket(hex('fe', '00'.repeat(8)))).toBe(false); // 9 bytes
    // The 7-byte 0xfe OK ending a result set looks like an EOF: the capability tells them apart.
    expect(isEofPacket(MARIADB_RESULT_SET_DEPRECATE_EOF[MARIADB_RESULT_SET_DEPRECATE_EOF.length - 1])).toBe(true);
    expect(() => parseEof(hex('00', '0000', '0200'))).toThrow(/wrong header/);
    expect(thrownCode(() => parseEof(hex('fe', '00')))).toBe('ERR_MALFORMED_PACKET');
  });
});
