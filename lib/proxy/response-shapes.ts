// The shapes a proxy's ResponseTracker reads: the command bytes it follows and what each is
// answered with (include/my_command.h, sql/sql_parse.cc dispatch_command), the packet headers and
// status flags that end a response (include/mysql_com.h), and a bounds-checked reader of a
// packet's first bytes. Split from response-tracker.ts, which holds the state machine.
import { codedError } from '../errors';
import { Command } from '../protocol/constants';

/** MySQL's CLIENT_OPTIONAL_RESULTSET_METADATA (8.0.3+): a byte after each column count says whether definitions follow. */
export const OPTIONAL_RESULTSET_METADATA = 1 << 25;

/**
 * MariaDB's extended capabilities: bits 32-63 of its flags, sent as the last 4 bytes of the
 * handshake's filler when CLIENT_MYSQL (bit 0) is clear on both sides (mysql_com.h).
 */
export const MariadbCapability = {
  /** Progress reports during long statements: ERR-shaped packets with errno 0xFFFF that end nothing. */
  PROGRESS: 1 << 0,
  /** A byte after each column count says whether definitions follow (0: the client's cached ones). */
  CACHE_METADATA: 1 << 4,
} as const;

// Server status flags that shape a response (include/mysql_com.h).
export const MORE_RESULTS_EXISTS = 0x0008;
export const CURSOR_EXISTS = 0x0040;
export const PS_OUT_PARAMS = 0x1000;

export const OK = 0x00;
export const LOCAL_INFILE = 0xfb;
export const EOF = 0xfe;
export const ERR = 0xff;
/** An EOF_Packet is 5 bytes; libmysql and mysql2 take 0xfe under 9 bytes for one. */
export const EOF_MAX_LENGTH = 8;
/** A logical packet this long or longer is a row, even one that starts with 0xfe (an 8-byte length). */
export const MAX_PACKET_LENGTH = 0xffffff;
const CURSOR_TYPE_READ_ONLY = 1;
export const PROGRESS_ERRNO = 0xffff;

export type Expect =
  | 'status' // one OK, EOF or ERR
  | 'any' // one packet of any shape (COM_STATISTICS' text)
  | 'response' // OK, ERR, a LOCAL INFILE request or a result set's column count
  | 'file' // the OK or ERR after the client's LOCAL INFILE contents
  | 'columns' // column definitions of a result set
  | 'columnsEof' // the EOF after them
  | 'rows' // rows up to the terminating EOF/OK, or ERR
  | 'prepareOk' // COM_STMT_PREPARE's first packet
  | 'params' // a prepared statement's parameter definitions
  | 'paramsEof'
  | 'prepareColumns' // its column definitions
  | 'prepareColumnsEof'
  | 'fieldList'; // COM_FIELD_LIST's definitions up to EOF

export interface Pending {
  /** What the response's first packet is. */
  first: Expect;
  /** Rows are binary (COM_STMT_EXECUTE, COM_STMT_FETCH): each starts with 0x00. */
  binary: boolean;
  /** A COM_STMT_EXECUTE that asked for a read-only cursor. */
  cursor: boolean;
  /** COM_STMT_FETCH: its terminator ends the response, whatever the flags. */
  fetch: boolean;
}

/** A packet that belongs to no response the tracker expects: the proxy can no longer tell where responses end. */
export function desync(message: string): Error {
  return codedError('ERR_PROXY_DESYNC', `upstream response out of step: ${message}`);
}

/** Bounds-checked reads from a packet's head; a short head is a desync, never a guess. */
export class Head {
  private offset = 0;

  constructor(
    private readonly bytes: Buffer,
    private readonly what: string,
  ) {}

  int1(): number {
    if (this.offset >= this.bytes.length) throw desync(`${this.what} is truncated`);
    return this.bytes[this.offset++];
  }

  int2(): number {
    return this.int1() | (this.int1() << 8);
  }

  /** A length-encoded integer (mysys/pack.cc net_field_length_ll); past 2^53 only its size matters. */
  lenenc(): number {
    const first = this.int1();
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.int2();
    if (first === 0xfd) return this.int2() + this.int1() * 0x10000;
    if (first === 0xfe) {
      let value = 0;
      for (let i = 0; i < 8; i++) value += this.int1() * 2 ** (8 * i);
      return value;
    }
    throw desync(`${this.what} has a bad length-encoded integer 0x${first.toString(16)}`);
  }

  skip(count: number): this {
    this.offset += count;
    return this;
  }
}

/** The response a command gets: null for none, undefined for a command the tracker does not follow. */
export function responseTo(head: Buffer, payloadLength: number): Pending | null | undefined {
  const text = (first: Expect): Pending => ({ first, binary: false, cursor: false, fetch: false });
  switch (head[0]) {
    case Command.QUIT: // the server closes
    case Command.STMT_CLOSE:
    case Command.STMT_SEND_LONG_DATA: // errors wait for the COM_STMT_EXECUTE
      return null;
    case Command.INIT_DB:
    case Command.CREATE_DB:
    case Command.DROP_DB:
    case Command.REFRESH:
    case Command.SHUTDOWN:
    case Command.PROCESS_KILL:
    case Command.DEBUG: // my_eof() too
    case Command.PING:
    case Command.STMT_RESET:
    case Command.SET_OPTION: // my_eof(), so an EOF (0xfe-headed OK under DEPRECATE_EOF)
    case Command.RESET_CONNECTION:
      return text('status');
    case Command.STATISTICS: // one string<EOF>
      return text('any');
    case Command.QUERY:
    case Command.PROCESS_INFO: // SHOW PROCESSLIST's result set
      return text('response');
    case Command.FIELD_LIST:
      return text('fieldList');
    case Command.STMT_PREPARE:
      return text('prepareOk');
    case Command.STMT_EXECUTE: {
      // The flags byte follows the statement id; servers test only READ_ONLY.
      const cursor = payloadLength > 5 && head.length > 5 && (head[5] & CURSOR_TYPE_READ_ONLY) !== 0;
      return { first: 'response', binary: true, cursor, fetch: false };
    }
    case Command.STMT_FETCH:
      return { first: 'rows', binary: true, cursor: false, fetch: true };
    default:
      // COM_CHANGE_USER, replication, clone, COM_SLEEP/CONNECT/TIME/DELAYED_INSERT/CONNECT_OUT/DAEMON,
      // MariaDB's COM_STMT_BULK_EXECUTE and COM_MULTI, and bytes no server knows.
      return undefined;
  }
}

export function hex(byte: number): string {
  return byte < 0 ? '(empty)' : byte.toString(16).padStart(2, '0');
}
