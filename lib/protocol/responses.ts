// The generic responses: OK, ERR (its message capped as MySQL caps it) and EOF, and an ERR read
// from the other side as a thrown error (sql/protocol_classic.cc: net_send_ok, net_send_error).
import { codedError, CodedError } from '../errors';
import { ServerStatus } from './constants';
import { malformedPacket, PayloadReader, PayloadWriter } from './payload';

const OK_HEADER = 0x00;
/** 0xfe starts an EOF, and under CLIENT_DEPRECATE_EOF the OK that ends a result set. */
export const EOF_HEADER = 0xfe;
const ERR_HEADER = 0xff;

export interface OkPacket {
  affectedRows: number;
  lastInsertId: number;
  statusFlags: number;
  warnings: number;
  info: string;
}

/** OK packet; `asEof` gives the 0xfe form that ends a result set under CLIENT_DEPRECATE_EOF. */
export function buildOk(ok: Partial<OkPacket> = {}, asEof = false): Buffer {
  const writer = new PayloadWriter()
    .int1(asEof ? EOF_HEADER : OK_HEADER)
    .lenencInt(ok.affectedRows ?? 0)
    .lenencInt(ok.lastInsertId ?? 0)
    .int2(ok.statusFlags ?? ServerStatus.AUTOCOMMIT)
    .int2(ok.warnings ?? 0);
  // Length-encoded, as MySQL's net_send_ok stores it (net_store_data) and libmysql reads it.
  if (ok.info) writer.lenencBytes(ok.info);
  return writer.finish();
}

export function isOkPacket(payload: Buffer): boolean {
  return payload.length >= 7 && payload[0] === OK_HEADER;
}

/**
 * Parses an OK packet, or the 0xfe OK that ends a result set under CLIENT_DEPRECATE_EOF. The info
 * is length-encoded with or without CLIENT_SESSION_TRACK (MySQL's net_send_ok writes it so, the
 * manual's "string<EOF>" notwithstanding); `_capabilities` is kept for callers that pass them.
 */
export function parseOk(payload: Buffer, _capabilities = 0): OkPacket {
  const reader = new PayloadReader(payload, 'OK packet');
  const header = reader.int1();
  if (header !== OK_HEADER && header !== EOF_HEADER) throw malformedPacket('OK packet: wrong header');
  const affectedRows = reader.lenencInt();
  const lastInsertId = reader.lenencInt();
  const statusFlags = reader.int2();
  const warnings = reader.int2();
  let info = '';
  if (reader.remaining > 0) info = reader.lenencString();
  return { affectedRows, lastInsertId, statusFlags, warnings, info };
}

export interface ErrPacket {
  errno: number;
  /** Five characters; null when the server sent none (errors before the protocol is agreed). */
  sqlState: string | null;
  message: string;
}

/** MYSQL_ERRMSG_SIZE: MySQL formats every error message into a buffer of this size, NUL included. */
export const MYSQL_ERRMSG_SIZE = 512;

/** `message` as UTF-8, cut to MySQL's MYSQL_ERRMSG_SIZE - 1 bytes at a character boundary. */
function errorMessageBytes(message: string): Buffer {
  const bytes = Buffer.from(message, 'utf8');
  let end = Math.min(bytes.length, MYSQL_ERRMSG_SIZE - 1);
  // Never cut inside a character: back off over continuation bytes (10xxxxxx) to its lead byte.
  if (end < bytes.length) while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/** ERR packet; the message is capped as MySQL caps it, so a client-chosen name cannot grow it. */
export function buildErr(err: ErrPacket): Buffer {
  const writer = new PayloadWriter().int1(ERR_HEADER).int2(err.errno);
  if (err.sqlState !== null) {
    if (!/^[0-9A-Z]{5}$/.test(err.sqlState)) {
      throw codedError('ERR_INVALID_ARG_VALUE', `SQLSTATE must be 5 characters: ${err.sqlState}`, TypeError);
    }
    writer.string('#' + err.sqlState);
  }
  return writer.bytes(errorMessageBytes(err.message)).finish();
}

export function isErrPacket(payload: Buffer): boolean {
  return payload.length > 0 && payload[0] === ERR_HEADER;
}

export function parseErr(payload: Buffer): ErrPacket {
  const reader = new PayloadReader(payload, 'ERR packet');
  if (reader.int1() !== ERR_HEADER) throw malformedPacket('ERR packet: wrong header');
  const errno = reader.int2();
  let sqlState: string | null = null;
  if (reader.remaining >= 6 && payload[3] === 0x23 /* '#' */) {
    reader.int1();
    sqlState = reader.bytes(5).toString('latin1');
  }
  return { errno, sqlState, message: reader.restString() };
}

export interface EofPacket {
  warnings: number;
  statusFlags: number;
}

export function buildEof(eof: Partial<EofPacket> = {}): Buffer {
  return new PayloadWriter()
    .int1(EOF_HEADER)
    .int2(eof.warnings ?? 0)
    .int2(eof.statusFlags ?? ServerStatus.AUTOCOMMIT)
    .finish();
}

/** A classic EOF packet (0xfe, under 9 bytes), not an AuthSwitchRequest or a 0xfe OK. */
export function isEofPacket(payload: Buffer): boolean {
  return payload.length > 0 && payload.length < 9 && payload[0] === EOF_HEADER;
}

export function parseEof(payload: Buffer): EofPacket {
  const reader = new PayloadReader(payload, 'EOF packet');
  if (reader.int1() !== EOF_HEADER) throw malformedPacket('EOF packet: wrong header');
  if (reader.remaining === 0) return { warnings: 0, statusFlags: 0 }; // pre-4.1 form
  return { warnings: reader.int2(), statusFlags: reader.int2() };
}

/** An ERR packet from the other side as a thrown error: code ERR_SERVER_ERROR, with errno and sqlState. */
export function serverErrorFrom(err: ErrPacket): CodedError & { sqlState: string | null } {
  const error = codedError('ERR_SERVER_ERROR', err.message) as CodedError & { sqlState: string | null };
  error.errno = err.errno;
  error.sqlState = err.sqlState;
  return error;
}
