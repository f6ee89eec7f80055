// MySQL client/server protocol messages (payloads only; framing lives in packet-channel.ts), for
// both directions: the server builds what the client parses and the other way round.
import { codedError, CodedError } from '../errors';

/** Capability flags (include/mysql_com.h). */
export const Capability = {
  LONG_PASSWORD: 0x1,
  FOUND_ROWS: 0x2,
  LONG_FLAG: 0x4,
  CONNECT_WITH_DB: 0x8,
  NO_SCHEMA: 0x10,
  COMPRESS: 0x20,
  ODBC: 0x40,
  LOCAL_FILES: 0x80,
  IGNORE_SPACE: 0x100,
  PROTOCOL_41: 0x200,
  INTERACTIVE: 0x400,
  SSL: 0x800,
  IGNORE_SIGPIPE: 0x1000,
  TRANSACTIONS: 0x2000,
  RESERVED: 0x4000,
  SECURE_CONNECTION: 0x8000,
  MULTI_STATEMENTS: 1 << 16,
  MULTI_RESULTS: 1 << 17,
  PS_MULTI_RESULTS: 1 << 18,
  PLUGIN_AUTH: 1 << 19,
  CONNECT_ATTRS: 1 << 20,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 1 << 21,
  CAN_HANDLE_EXPIRED_PASSWORDS: 1 << 22,
  SESSION_TRACK: 1 << 23,
  DEPRECATE_EOF: 1 << 24,
} as const;

/** Command bytes, first byte of each command packet (include/my_command.h). */
export const Command = {
  SLEEP: 0x00,
  QUIT: 0x01,
  INIT_DB: 0x02,
  QUERY: 0x03,
  FIELD_LIST: 0x04,
  CREATE_DB: 0x05,
  DROP_DB: 0x06,
  REFRESH: 0x07,
  STATISTICS: 0x09,
  PROCESS_INFO: 0x0a,
  CONNECT: 0x0b,
  PROCESS_KILL: 0x0c,
  DEBUG: 0x0d,
  PING: 0x0e,
  CHANGE_USER: 0x11,
  STMT_PREPARE: 0x16,
  STMT_EXECUTE: 0x17,
  STMT_CLOSE: 0x19,
  SET_OPTION: 0x1b,
  RESET_CONNECTION: 0x1f,
} as const;

/** Server status flags used here (SERVER_STATUS_*). */
export const ServerStatus = {
  IN_TRANS: 0x1,
  AUTOCOMMIT: 0x2,
} as const;

/** Column types used by text result sets (enum_field_types). */
export const ColumnType = {
  LONGLONG: 0x08,
  VAR_STRING: 0xfd,
} as const;

/** Column definition flags used here. */
export const ColumnFlag = {
  NOT_NULL: 0x1,
  BINARY: 0x80,
} as const;

/** Character set number of the `binary` collation (numbers in result sets). */
export const BINARY_CHARSET = 63;

// First byte of the packets that are told apart by it.
const OK_HEADER = 0x00;
const AUTH_MORE_DATA_HEADER = 0x01;
const NULL_VALUE = 0xfb;
const EOF_HEADER = 0xfe;
const AUTH_SWITCH_HEADER = 0xfe;
const ERR_HEADER = 0xff;

const HANDSHAKE_V10 = 10;
const SSL_REQUEST_LENGTH = 32;

/** A payload that does not parse: the message carries what was wrong, `code` is ERR_MALFORMED_PACKET. */
export function malformedPacket(message: string): CodedError {
  return codedError('ERR_MALFORMED_PACKET', message);
}

// Strings on the wire must be valid UTF-8: a lossy decode could turn two different byte strings
// into the same name.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Sequential reader over one payload; every read past the end throws ERR_MALFORMED_PACKET. */
export class PayloadReader {
  private offset = 0;

  constructor(
    private readonly payload: Buffer,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.payload.length - this.offset;
  }

  private take(length: number): Buffer {
    if (length > this.remaining) throw malformedPacket(`${this.what}: truncated`);
    const bytes = this.payload.subarray(this.offset, this.offset + length);
    this.offset += length;
    return bytes;
  }

  int1(): number {
    return this.take(1)[0];
  }

  int2(): number {
    return this.take(2).readUInt16LE(0);
  }

  int3(): number {
    return this.take(3).readUIntLE(0, 3);
  }

  int4(): number {
    return this.take(4).readUInt32LE(0);
  }

  /** Length-encoded integer; NULL (0xfb) and 0xff are not integers here. */
  lenencInt(): number {
    const first = this.int1();
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.int2();
    if (first === 0xfd) return this.int3();
    if (first === 0xfe) {
      const value = this.take(8).readBigUInt64LE(0);
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw malformedPacket(`${this.what}: length out of range`);
      return Number(value);
    }
    throw malformedPacket(`${this.what}: bad length-encoded integer 0x${first.toString(16)}`);
  }

  bytes(length: number): Buffer {
    return this.take(length);
  }

  lenencBytes(): Buffer {
    return this.take(this.lenencInt());
  }

  lenencString(): string {
    return this.decode(this.lenencBytes());
  }

  /** A NUL-terminated string; the NUL must be there. */
  nulString(): string {
    const end = this.payload.indexOf(0, this.offset);
    if (end < 0) throw malformedPacket(`${this.what}: unterminated string`);
    const bytes = this.payload.subarray(this.offset, end);
    this.offset = end + 1;
    return this.decode(bytes);
  }

  rest(): Buffer {
    return this.take(this.remaining);
  }

  restString(): string {
    return this.decode(this.rest());
  }

  /** Text-protocol value: a length-encoded string, or null for 0xfb. */
  nullableLenencString(): string | null {
    if (this.remaining > 0 && this.payload[this.offset] === NULL_VALUE) {
      this.offset++;
      return null;
    }
    return this.lenencString();
  }

  end(): void {
    if (this.remaining !== 0) throw malformedPacket(`${this.what}: ${this.remaining} unexpected trailing bytes`);
  }

  private decode(bytes: Buffer): string {
    try {
      return utf8.decode(bytes);
    } catch {
      throw malformedPacket(`${this.what}: string is not valid UTF-8`);
    }
  }
}

/** Builds one payload. */
export class PayloadWriter {
  private readonly parts: Buffer[] = [];

  int1(value: number): this {
    return this.push(Buffer.of(value & 0xff));
  }

  int2(value: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(value & 0xffff);
    return this.push(b);
  }

  int3(value: number): this {
    const b = Buffer.alloc(3);
    b.writeUIntLE(value & 0xffffff, 0, 3);
    return this.push(b);
  }

  int4(value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0);
    return this.push(b);
  }

  lenencInt(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw codedError('ERR_INVALID_ARG_VALUE', `length-encoded integer out of range: ${value}`, RangeError);
    }
    if (value < 0xfb) return this.int1(value);
    if (value <= 0xffff) return this.int1(0xfc).int2(value);
    if (value <= 0xffffff) return this.int1(0xfd).int3(value);
    const b = Buffer.alloc(9);
    b[0] = 0xfe;
    b.writeBigUInt64LE(BigInt(value), 1);
    return this.push(b);
  }

  bytes(data: Buffer): this {
    return this.push(data);
  }

  zeros(length: number): this {
    return this.push(Buffer.alloc(length));
  }

  lenencBytes(data: Buffer | string): this {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return this.lenencInt(bytes.length).push(bytes);
  }

  nullableLenencString(value: string | null): this {
    return value === null ? this.int1(NULL_VALUE) : this.lenencBytes(value);
  }

  /** A NUL-terminated string; a NUL inside would cut it short on the other side, so it is refused. */
  nulString(value: string): this {
    if (value.includes('\0')) {
      throw codedError('ERR_INVALID_ARG_VALUE', 'a NUL-terminated protocol string must not contain NUL', TypeError);
    }
    return this.push(Buffer.from(value + '\0', 'utf8'));
  }

  string(value: string): this {
    return this.push(Buffer.from(value, 'utf8'));
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }

  private push(bytes: Buffer): this {
    this.parts.push(bytes);
    return this;
  }
}

// ---------------------------------------------------------------------------------------------
// Connection phase

export interface HandshakeV10 {
  serverVersion: string;
  connectionId: number;
  /** The scramble (auth-plugin-data) without MySQL's trailing NUL. */
  authPluginData: Buffer;
  capabilities: number;
  characterSet: number;
  statusFlags: number;
  /** The plugin the scramble was made for; null when the server lacks CLIENT_PLUGIN_AUTH. */
  authPluginName: string | null;
}

export function buildHandshakeV10(greeting: HandshakeV10): Buffer {
  const data = greeting.authPluginData;
  if (data.length < 8) throw codedError('ERR_INVALID_ARG_VALUE', 'authPluginData needs at least 8 bytes', RangeError);
  const caps = greeting.capabilities >>> 0;
  const pluginAuth = (caps & Capability.PLUGIN_AUTH) !== 0;
  const part2 = data.subarray(8);
  const writer = new PayloadWriter()
    .int1(HANDSHAKE_V10)
    .nulString(greeting.serverVersion)
    .int4(greeting.connectionId)
    .bytes(data.subarray(0, 8))
    .int1(0)
    .int2(caps & 0xffff)
    .int1(greeting.characterSet)
    .int2(greeting.statusFlags)
    .int2(caps >>> 16)
    // Length of the whole scramble including its NUL: what clients use to size part 2.
    .int1(pluginAuth ? data.length + 1 : 0)
    .zeros(10);
  if (caps & Capability.SECURE_CONNECTION) {
    // Part 2 is at least 13 bytes including the NUL (old clients read exactly 13).
    writer.bytes(part2).zeros(Math.max(13 - part2.length, 1));
  }
  if (pluginAuth) writer.nulString(greeting.authPluginName ?? '');
  return writer.finish();
}

export function parseHandshakeV10(payload: Buffer): HandshakeV10 {
  const reader = new PayloadReader(payload, 'HandshakeV10');
  const version = reader.int1();
  if (version !== HANDSHAKE_V10) throw malformedPacket(`HandshakeV10: protocol version ${version}`);
  const serverVersion = reader.nulString();
  const connectionId = reader.int4();
  const part1 = reader.bytes(8);
  reader.int1(); // filler
  let capabilities = reader.int2();
  if (reader.remaining === 0) {
    return { serverVersion, connectionId, authPluginData: part1, capabilities, characterSet: 0, statusFlags: 0, authPluginName: null };
  }
  const characterSet = reader.int1();
  const statusFlags = reader.int2();
  capabilities = (capabilities | (reader.int2() << 16)) >>> 0;
  const authDataLength = reader.int1();
  reader.bytes(10); // reserved (MariaDB keeps extended capabilities in the last 4)
  let authPluginData = part1;
  if (capabilities & Capability.SECURE_CONNECTION) {
    const part2 = reader.bytes(Math.max(13, authDataLength - 8));
    // The scramble ends at its NUL terminator (mysql_native_password: 20 bytes + NUL).
    const nul = part2.indexOf(0);
    authPluginData = Buffer.concat([part1, nul < 0 ? part2 : part2.subarray(0, nul)]);
  }
  let authPluginName: string | null = null;
  if (capabilities & Capability.PLUGIN_AUTH) {
    // Some servers omit the final NUL.
    authPluginName = reader.remaining > 0 && payload[payload.length - 1] === 0 ? reader.nulString() : reader.restString();
  }
  return { serverVersion, connectionId, authPluginData, capabilities, characterSet, statusFlags, authPluginName };
}

export interface HandshakeResponse41 {
  /** The client's capability flags as sent (they decide the layout of the rest). */
  capabilities: number;
  maxPacketSize: number;
  characterSet: number;
  user: string;
  authResponse: Buffer;
  /** Present when CLIENT_CONNECT_WITH_DB is set. */
  database: string | null;
  /** Present when CLIENT_PLUGIN_AUTH is set. */
  clientPluginName: string | null;
  /** Present when CLIENT_CONNECT_ATTRS is set. */
  connectAttributes: Record<string, string> | null;
}

/** True when a client's first packet is an SSLRequest (32 bytes, CLIENT_SSL) rather than a full response. */
export function isSslRequest(payload: Buffer): boolean {
  return payload.length === SSL_REQUEST_LENGTH && (payload.readUInt32LE(0) & Capability.SSL) !== 0;
}

export function buildSslRequest(capabilities: number, maxPacketSize: number, characterSet: number): Buffer {
  return new PayloadWriter()
    .int4(capabilities | Capability.SSL)
    .int4(maxPacketSize)
    .int1(characterSet)
    .zeros(23)
    .finish();
}

export function buildHandshakeResponse41(response: HandshakeResponse41): Buffer {
  const caps = response.capabilities >>> 0;
  const writer = new PayloadWriter()
    .int4(caps)
    .int4(response.maxPacketSize)
    .int1(response.characterSet)
    .zeros(23)
    .nulString(response.user);
  if (caps & Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA) {
    writer.lenencBytes(response.authResponse);
  } else {
    if (response.authResponse.length > 0xff) {
      throw codedError('ERR_INVALID_ARG_VALUE', 'auth response over 255 bytes needs CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA', RangeError);
    }
    writer.int1(response.authResponse.length).bytes(response.authResponse);
  }
  if (caps & Capability.CONNECT_WITH_DB) writer.nulString(response.database ?? '');
  if (caps & Capability.PLUGIN_AUTH) writer.nulString(response.clientPluginName ?? '');
  if (caps & Capability.CONNECT_ATTRS) {
    const attributes = new PayloadWriter();
    for (const [key, value] of Object.entries(response.connectAttributes ?? {})) {
      attributes.lenencBytes(key).lenencBytes(value);
    }
    writer.lenencBytes(attributes.finish());
  }
  return writer.finish();
}

/**
 * Parses a HandshakeResponse41 laid out per the client's own flags. Fields after the auth response
 * may be missing entirely at the end of the packet (MySQL tolerates that); a field that starts
 * but does not finish is malformed. Pre-4.1 responses and SSLRequests are refused here.
 */
export function parseHandshakeResponse41(payload: Buffer): HandshakeResponse41 {
  if (isSslRequest(payload)) throw malformedPacket('HandshakeResponse41: SSLRequest, but TLS was not offered');
  const reader = new PayloadReader(payload, 'HandshakeResponse41');
  const capabilities = reader.int4();
  if (!(capabilities & Capability.PROTOCOL_41)) throw malformedPacket('HandshakeResponse41: client lacks CLIENT_PROTOCOL_41');
  const maxPacketSize = reader.int4();
  const characterSet = reader.int1();
  reader.bytes(23); // filler
  const user = reader.nulString();
  // MySQL reads a 1-byte length whenever the lenenc form is not announced.
  const authResponse =
    capabilities & Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA ? reader.lenencBytes() : reader.bytes(reader.int1());
  const database = capabilities & Capability.CONNECT_WITH_DB && reader.remaining > 0 ? reader.nulString() : null;
  const clientPluginName = capabilities & Capability.PLUGIN_AUTH && reader.remaining > 0 ? reader.nulString() : null;
  let connectAttributes: Record<string, string> | null = null;
  if (capabilities & Capability.CONNECT_ATTRS && reader.remaining > 0) {
    const attributes = new PayloadReader(reader.lenencBytes(), 'connect attributes');
    // No prototype: a key such as __proto__ stays a plain key.
    connectAttributes = Object.create(null) as Record<string, string>;
    while (attributes.remaining > 0) {
      const key = attributes.lenencString();
      connectAttributes[key] = attributes.lenencString();
    }
  }
  reader.end();
  return {
    capabilities,
    maxPacketSize,
    characterSet,
    user,
    authResponse: Buffer.from(authResponse),
    database,
    clientPluginName,
    connectAttributes,
  };
}

// ---------------------------------------------------------------------------------------------
// Authentication exchange

export interface AuthSwitchRequest {
  pluginName: string;
  pluginData: Buffer;
}

export function buildAuthSwitchRequest(request: AuthSwitchRequest): Buffer {
  return new PayloadWriter().int1(AUTH_SWITCH_HEADER).nulString(request.pluginName).bytes(request.pluginData).finish();
}

export function isAuthSwitchRequest(payload: Buffer): boolean {
  return payload.length > 0 && payload[0] === AUTH_SWITCH_HEADER;
}

export function parseAuthSwitchRequest(payload: Buffer): AuthSwitchRequest {
  const reader = new PayloadReader(payload, 'AuthSwitchRequest');
  if (reader.int1() !== AUTH_SWITCH_HEADER) throw malformedPacket('AuthSwitchRequest: wrong header');
  const pluginName = reader.nulString();
  return { pluginName, pluginData: Buffer.from(reader.rest()) };
}

export function buildAuthMoreData(data: Buffer): Buffer {
  return Buffer.concat([Buffer.of(AUTH_MORE_DATA_HEADER), data]);
}

export function isAuthMoreData(payload: Buffer): boolean {
  return payload.length > 0 && payload[0] === AUTH_MORE_DATA_HEADER;
}

/** The plugin data inside an AuthMoreData packet (the client strips exactly one 0x01). */
export function parseAuthMoreData(payload: Buffer): Buffer {
  if (!isAuthMoreData(payload)) throw malformedPacket('AuthMoreData: wrong header');
  return payload.subarray(1);
}

// ---------------------------------------------------------------------------------------------
// Generic responses

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
  if (ok.info) writer.string(ok.info);
  return writer.finish();
}

export function isOkPacket(payload: Buffer): boolean {
  return payload.length >= 7 && payload[0] === OK_HEADER;
}

/** Parses an OK packet, or the 0xfe OK that ends a result set under CLIENT_DEPRECATE_EOF. */
export function parseOk(payload: Buffer, capabilities = 0): OkPacket {
  const reader = new PayloadReader(payload, 'OK packet');
  const header = reader.int1();
  if (header !== OK_HEADER && header !== EOF_HEADER) throw malformedPacket('OK packet: wrong header');
  const affectedRows = reader.lenencInt();
  const lastInsertId = reader.lenencInt();
  const statusFlags = reader.int2();
  const warnings = reader.int2();
  let info = '';
  if (reader.remaining > 0) {
    info = capabilities & Capability.SESSION_TRACK ? reader.lenencString() : reader.restString();
  }
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

// ---------------------------------------------------------------------------------------------
// Text result sets

export interface ColumnDefinition {
  schema: string;
  table: string;
  orgTable: string;
  name: string;
  orgName: string;
  characterSet: number;
  columnLength: number;
  type: number;
  flags: number;
  decimals: number;
}

export function buildColumnDefinition(column: ColumnDefinition): Buffer {
  return new PayloadWriter()
    .lenencBytes('def')
    .lenencBytes(column.schema)
    .lenencBytes(column.table)
    .lenencBytes(column.orgTable)
    .lenencBytes(column.name)
    .lenencBytes(column.orgName)
    .lenencInt(0x0c) // length of the fixed-size fields below
    .int2(column.characterSet)
    .int4(column.columnLength)
    .int1(column.type)
    .int2(column.flags)
    .int1(column.decimals)
    .zeros(2)
    .finish();
}

export function parseColumnDefinition(payload: Buffer): ColumnDefinition {
  const reader = new PayloadReader(payload, 'column definition');
  reader.lenencBytes(); // catalog, always "def"
  const schema = reader.lenencString();
  const table = reader.lenencString();
  const orgTable = reader.lenencString();
  const name = reader.lenencString();
  const orgName = reader.lenencString();
  const fixed = new PayloadReader(reader.lenencBytes(), 'column definition');
  return {
    schema,
    table,
    orgTable,
    name,
    orgName,
    characterSet: fixed.int2(),
    columnLength: fixed.int4(),
    type: fixed.int1(),
    flags: fixed.int2(),
    decimals: fixed.int1(),
  };
}

export function buildColumnCount(count: number): Buffer {
  return new PayloadWriter().lenencInt(count).finish();
}

export function parseColumnCount(payload: Buffer): number {
  const reader = new PayloadReader(payload, 'column count');
  const count = reader.lenencInt();
  reader.end();
  return count;
}

export function buildTextRow(values: ReadonlyArray<string | null>): Buffer {
  const writer = new PayloadWriter();
  for (const value of values) writer.nullableLenencString(value);
  return writer.finish();
}

export function parseTextRow(payload: Buffer, columnCount: number): Array<string | null> {
  const reader = new PayloadReader(payload, 'text row');
  const values: Array<string | null> = [];
  for (let i = 0; i < columnCount; i++) values.push(reader.nullableLenencString());
  reader.end();
  return values;
}

/**
 * The payloads of a whole text result set, in order: column count, definitions, [EOF], rows, and
 * the end marker (EOF, or a 0xfe OK when the client set CLIENT_DEPRECATE_EOF).
 */
export function buildTextResultSet(
  columns: ReadonlyArray<ColumnDefinition>,
  rows: ReadonlyArray<ReadonlyArray<string | null>>,
  capabilities: number,
  statusFlags: number = ServerStatus.AUTOCOMMIT,
): Buffer[] {
  const deprecateEof = (capabilities & Capability.DEPRECATE_EOF) !== 0;
  const payloads = [buildColumnCount(columns.length), ...columns.map(buildColumnDefinition)];
  if (!deprecateEof) payloads.push(buildEof({ statusFlags }));
  for (const row of rows) {
    if (row.length !== columns.length) {
      throw codedError('ERR_INVALID_ARG_VALUE', `row has ${row.length} values for ${columns.length} columns`, RangeError);
    }
    payloads.push(buildTextRow(row));
  }
  payloads.push(deprecateEof ? buildOk({ statusFlags }, true) : buildEof({ statusFlags }));
  return payloads;
}

export interface TextResultSet {
  columns: ColumnDefinition[];
  rows: Array<Array<string | null>>;
}

/**
 * Reads a text result set with `readPacket` after its column-count packet, ending at the EOF (or
 * 0xfe OK). An ERR in the middle is thrown as ERR_SERVER_ERROR with errno and sqlState.
 */
export async function readTextResultSet(
  columnCountPayload: Buffer,
  readPacket: () => Promise<Buffer>,
  capabilities: number,
): Promise<TextResultSet> {
  const count = parseColumnCount(columnCountPayload);
  const columns: ColumnDefinition[] = [];
  for (let i = 0; i < count; i++) columns.push(parseColumnDefinition(await readPacket()));
  if (!(capabilities & Capability.DEPRECATE_EOF)) parseEof(await readPacket());
  const rows: Array<Array<string | null>> = [];
  for (;;) {
    const payload = await readPacket();
    if (isErrPacket(payload)) throw serverErrorFrom(parseErr(payload));
    // A row's first value can start with 0xfe only if it is 2^24 bytes or longer: such a
    // packet is at least 9 bytes, so short 0xfe packets are the end marker.
    if (payload[0] === EOF_HEADER && payload.length < 0xffffff) {
      if (capabilities & Capability.DEPRECATE_EOF) parseOk(payload, capabilities);
      else parseEof(payload);
      return { columns, rows };
    }
    rows.push(parseTextRow(payload, count));
  }
}

/** An ERR packet from the other side as a thrown error: code ERR_SERVER_ERROR, with errno and sqlState. */
export function serverErrorFrom(err: ErrPacket): CodedError & { sqlState: string | null } {
  const error = codedError('ERR_SERVER_ERROR', err.message) as CodedError & { sqlState: string | null };
  error.errno = err.errno;
  error.sqlState = err.sqlState;
  return error;
}
