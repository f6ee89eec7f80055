// ResponseTracker against hand-built responses: every shape, with and without CLIENT_DEPRECATE_EOF,
// pipelined, and the packets that must be refused as out of step. Bytes are written here by hand
// (from the protocol pages), not by lib/protocol's builders.
import { errorCode } from '../../lib/errors';
import { MariadbCapability, ResponseTracker } from '../../lib/proxy/response-tracker';

const LOCAL_FILES = 0x80;
const PROTOCOL_41 = 0x200;
const MULTI_RESULTS = 1 << 17;
const DEPRECATE_EOF = 1 << 24;
const OPTIONAL_RESULTSET_METADATA = 1 << 25;
const BASE = PROTOCOL_41 | MULTI_RESULTS | LOCAL_FILES;

const AUTOCOMMIT = 0x0002;
const MORE_RESULTS = 0x0008;
const CURSOR_EXISTS = 0x0040;
const LAST_ROW_SENT = 0x0080;
const PS_OUT_PARAMS = 0x1000;

/** A packet as the tracker sees it: its first 64 bytes and its whole length. */
interface Pkt {
  head: Buffer;
  length: number;
}

const pkt = (...bytes: Array<number | number[] | Buffer>): Pkt => {
  const payload = Buffer.concat(bytes.map((b) => (Buffer.isBuffer(b) ? b : Buffer.from(typeof b === 'number' ? [b] : b))));
  return { head: payload.subarray(0, 64), length: payload.length };
};
const u16 = (n: number) => [n & 0xff, n >> 8];
const str = (s: string) => Buffer.from(s, 'latin1');
const lenencStr = (s: string) => [s.length, ...str(s)];

const ok = (status = AUTOCOMMIT, info = '') => pkt(0x00, 0x00, 0x00, u16(status), u16(0), info ? lenencStr(info) : []);
/** The OK that ends a result set under DEPRECATE_EOF: OK's body behind the 0xfe header. */
const okFe = (status = AUTOCOMMIT, affected = 0) => pkt(0xfe, affected < 0xfb ? [affected] : [0xfc, ...u16(affected)], 0x00, u16(status), u16(0));
const eof = (status = AUTOCOMMIT) => pkt(0xfe, u16(0), u16(status));
const err = (errno = 1064) => pkt(0xff, u16(errno), str('#42000'), str('You have an error'));
const columnCount = (n: number, ...extra: number[]) => pkt(n < 0xfb ? [n] : [0xfc, ...u16(n)], extra);
const columnDef = (name = 'c') =>
  pkt(lenencStr('def'), lenencStr('db'), lenencStr('t'), lenencStr('t'), lenencStr(name), lenencStr(name), 0x0c, u16(45), [0, 1, 0, 0], 0xfd, u16(0), 0, u16(0));
const textRow = (...values: Array<string | null>) => pkt(...values.map((v) => (v === null ? [0xfb] : lenencStr(v))));
const binaryRow = (value: number) => pkt(0x00, 0x00, [value, 0, 0, 0]);
const infileRequest = (file = '/tmp/data.csv') => pkt(0xfb, str(file));
const prepareOk = (columns: number, params: number, ...extra: number[]) => pkt(0x00, [1, 0, 0, 0], u16(columns), u16(params), 0x00, u16(0), extra);

const COM = {
  QUIT: 0x01, INIT_DB: 0x02, QUERY: 0x03, FIELD_LIST: 0x04, CREATE_DB: 0x05, DROP_DB: 0x06, REFRESH: 0x07,
  SHUTDOWN: 0x08, STATISTICS: 0x09, PROCESS_INFO: 0x0a, PROCESS_KILL: 0x0c, DEBUG: 0x0d, PING: 0x0e,
  CHANGE_USER: 0x11, STMT_PREPARE: 0x16, STMT_EXECUTE: 0x17, STMT_SEND_LONG_DATA: 0x18, STMT_CLOSE: 0x19,
  STMT_RESET: 0x1a, SET_OPTION: 0x1b, STMT_FETCH: 0x1c, RESET_CONNECTION: 0x1f,
} as const;

const query = (sql = 'SELECT 1') => pkt(COM.QUERY, str(sql));
const execute = (flags = 0) => pkt(COM.STMT_EXECUTE, [1, 0, 0, 0], flags, [1, 0, 0, 0]);
const fetch = () => pkt(COM.STMT_FETCH, [1, 0, 0, 0], [10, 0, 0, 0]);

function send(tracker: ResponseTracker, command: Pkt): void {
  expect(tracker.command(command.head, command.length)).toBe(true);
}

/** Feeds packets; returns `idle` after each one. */
function feed(tracker: ResponseTracker, packets: Pkt[]): boolean[] {
  return packets.map((p) => {
    tracker.serverPacket(p.head, p.length);
    return tracker.idle;
  });
}

/** Sends one command and its whole response: idle only after the last packet. */
function expectWhole(capabilities: number, command: Pkt, response: Pkt[], mariadb = 0): void {
  const tracker = new ResponseTracker(capabilities, mariadb);
  send(tracker, command);
  expect(tracker.idle).toBe(false);
  expect(feed(tracker, response)).toEqual(response.map((_, i) => i === response.length - 1));
}

function expectDesync(tracker: ResponseTracker, p: Pkt): void {
  let thrown: unknown;
  try {
    tracker.serverPacket(p.head, p.length);
  } catch (error) {
    thrown = error;
  }
  expect(errorCode(thrown)).toBe('ERR_PROXY_DESYNC');
}

describe('commands', () => {
  it('queues nothing for the commands the server never answers', () => {
    const tracker = new ResponseTracker(BASE);
    for (const byte of [COM.QUIT, COM.STMT_CLOSE, COM.STMT_SEND_LONG_DATA]) {
      send(tracker, pkt(byte, [1, 0, 0, 0]));
      expect(tracker.idle).toBe(true);
    }
    expectDesync(tracker, ok());
  });

  it.each([
    ['COM_CHANGE_USER', 0x11], ['COM_SLEEP', 0x00], ['COM_CONNECT', 0x0b], ['COM_TIME', 0x0f],
    ['COM_DELAYED_INSERT', 0x10], ['COM_BINLOG_DUMP', 0x12], ['COM_TABLE_DUMP', 0x13], ['COM_CONNECT_OUT', 0x14],
    ['COM_REGISTER_SLAVE', 0x15], ['COM_DAEMON', 0x1d], ['COM_BINLOG_DUMP_GTID', 0x1e], ['COM_CLONE', 0x20],
    ['COM_STMT_BULK_EXECUTE', 0xfa], ['COM_MULTI', 0xfe], ['unknown', 0x42], ['unknown', 0xff],
  ])('does not follow %s (byte %d)', (_name, byte) => {
    const tracker = new ResponseTracker(BASE);
    expect(tracker.command(pkt(byte, [0, 0, 0, 0]).head, 5)).toBe(false);
    expect(tracker.idle).toBe(true);
  });

  it('does not follow an empty command packet', () => {
    expect(new ResponseTracker(BASE).command(Buffer.alloc(0), 0)).toBe(false);
  });
});

describe.each([
  ['EOF packets', BASE],
  ['CLIENT_DEPRECATE_EOF', BASE | DEPRECATE_EOF],
])('with %s', (_mode, caps) => {
  const deprecateEof = (caps & DEPRECATE_EOF) !== 0;
  /** The EOF between column definitions and rows, absent under DEPRECATE_EOF. */
  const metaEof = (status = AUTOCOMMIT): Pkt[] => (deprecateEof ? [] : [eof(status)]);
  /** What ends a result set's rows. */
  const end = (status = AUTOCOMMIT): Pkt => (deprecateEof ? okFe(status) : eof(status));
  const textResult = (columns: number, rows: number, status = AUTOCOMMIT): Pkt[] => [
    columnCount(columns),
    ...Array.from({ length: columns }, (_, i) => columnDef(`c${i}`)),
    ...metaEof(),
    ...Array.from({ length: rows }, (_, i) => textRow(...Array.from({ length: columns }, () => String(i)))),
    end(status),
  ];

  describe('one OK, EOF or ERR', () => {
    const commands = [COM.PING, COM.INIT_DB, COM.RESET_CONNECTION, COM.STMT_RESET, COM.SET_OPTION, COM.REFRESH,
      COM.PROCESS_KILL, COM.SHUTDOWN, COM.DEBUG, COM.CREATE_DB, COM.DROP_DB];
    it.each(commands)('command byte %d', (byte) => {
      for (const answer of [ok(), err(), eof(), okFe()]) expectWhole(caps, pkt(byte, 0), [answer]);
      const tracker = new ResponseTracker(caps);
      send(tracker, pkt(byte, 0));
      expectDesync(tracker, columnCount(1));
    });
  });

  it('COM_STATISTICS: one string, or ERR', () => {
    expectWhole(caps, pkt(COM.STATISTICS), [pkt(str('Uptime: 5  Threads: 1  Questions: 2'))]);
    expectWhole(caps, pkt(COM.STATISTICS), [err()]);
  });

  describe('COM_QUERY', () => {
    it('OK and ERR', () => {
      expectWhole(caps, query(), [ok(AUTOCOMMIT, 'Rows matched: 1')]);
      expectWhole(caps, query(), [err()]);
    });

    it('a text result set', () => {
      expectWhole(caps, query(), textResult(3, 4));
      expectWhole(caps, query(), textResult(1, 0));
      expectWhole(caps, pkt(COM.PROCESS_INFO), textResult(8, 2));
    });

    it('rows holding NULL, the empty string and values that look like headers', () => {
      expectWhole(caps, query(), [columnCount(2), columnDef(), columnDef(), ...metaEof(),
        textRow(null, null), textRow('', ''), textRow('\u00fe', '\u00ff'), pkt(0x00, 0x00), end()]);
    });

    it('a row starting with 0xfe: a value of 16 MiB or more, so a packet of 0xffffff bytes or more', () => {
      const value = 16 * 1024 * 1024;
      const bigRow: Pkt = { head: Buffer.from([0xfe, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0x61, 0x61]), length: 9 + value };
      expectWhole(caps, query(), [columnCount(1), columnDef(), ...metaEof(), bigRow, textRow('a'), end()]);
      // Exactly 0xffffff is a row too (it travels with an empty continuation).
      const edge: Pkt = { head: Buffer.from([0xfe, 0xf6, 0xff, 0xff, 0, 0, 0, 0, 0]), length: 0xffffff };
      expectWhole(caps, query(), [columnCount(1), columnDef(), ...metaEof(), edge, end()]);
    });

    it('more than 250 columns (a 0xfc column count)', () => {
      expectWhole(caps, query(), textResult(300, 2));
    });

    it('an ERR in place of the rows or after some of them', () => {
      expectWhole(caps, query(), [columnCount(1), columnDef(), ...metaEof(), textRow('1'), err(1317)]);
      expectWhole(caps, query(), [columnCount(2), columnDef(), err(1054)]);
    });

    it('multiple results: each end flagged SERVER_MORE_RESULTS_EXISTS', () => {
      expectWhole(caps, query('SELECT 1; UPDATE t SET a=1; SELECT 2, 3'), [
        ...textResult(1, 1, AUTOCOMMIT | MORE_RESULTS),
        ok(AUTOCOMMIT | MORE_RESULTS),
        ...textResult(2, 1, AUTOCOMMIT),
      ]);
      // A CALL: result sets, then the OK of the CALL itself.
      expectWhole(caps, query('CALL p()'), [...textResult(1, 2, MORE_RESULTS), ...textResult(2, 0, MORE_RESULTS), ok()]);
      // An ERR ends the statements still to run.
      expectWhole(caps, query('SELECT 1; SELECT nope'), [...textResult(1, 1, MORE_RESULTS), err(1054)]);
    });

    it('LOCAL INFILE: the request, then the OK or ERR after the file', () => {
      expectWhole(caps, query('LOAD DATA LOCAL INFILE ...'), [infileRequest(), ok()]);
      expectWhole(caps, query('LOAD DATA LOCAL INFILE ...'), [infileRequest(), err(1062)]);
      expectWhole(caps, query('SELECT 1; LOAD DATA LOCAL ...; SELECT 2'), [
        ...textResult(1, 1, MORE_RESULTS), infileRequest(), ok(MORE_RESULTS), ...textResult(1, 1),
      ]);
    });

    it('LOCAL INFILE: awaits the client\'s file until its empty packet', () => {
      const tracker = new ResponseTracker(caps);
      send(tracker, query('LOAD DATA LOCAL INFILE ...'));
      expect(tracker.awaitingLocalInfile).toBe(false);
      feed(tracker, [infileRequest()]);
      expect(tracker.awaitingLocalInfile).toBe(true);
      expect(() => tracker.command(query().head, query().length)).toThrow(expect.objectContaining({ code: 'ERR_PROXY_DESYNC' }));
      tracker.localInfileSent();
      expect(tracker.awaitingLocalInfile).toBe(false);
      expect(tracker.idle).toBe(false);
      send(tracker, pkt(COM.PING));
      expect(feed(tracker, [ok(), ok()])).toEqual([false, true]);
      expect(() => tracker.localInfileSent()).toThrow(expect.objectContaining({ code: 'ERR_PROXY_DESYNC' }));
    });

    it('LOCAL INFILE: the answer to the file ends the wait when the proxy did not report it', () => {
      const tracker = new ResponseTracker(caps);
      send(tracker, query('LOAD DATA LOCAL INFILE ...'));
      feed(tracker, [infileRequest()]);
      expect(feed(tracker, [ok()])).toEqual([true]);
      expect(tracker.awaitingLocalInfile).toBe(false);
    });

    it('LOCAL INFILE is out of step without CLIENT_LOCAL_FILES', () => {
      const tracker = new ResponseTracker(caps & ~LOCAL_FILES);
      send(tracker, query());
      expectDesync(tracker, infileRequest());
    });
  });

  describe('COM_STMT_PREPARE', () => {
    const defs = (n: number) => Array.from({ length: n }, (_, i) => columnDef(`p${i}`));
    it('parameters, then columns, each closed by an EOF unless DEPRECATE_EOF', () => {
      expectWhole(caps, pkt(COM.STMT_PREPARE), [prepareOk(3, 2), ...defs(2), ...metaEof(), ...defs(3), ...metaEof()]);
      expectWhole(caps, pkt(COM.STMT_PREPARE), [prepareOk(0, 2), ...defs(2), ...metaEof()]);
      expectWhole(caps, pkt(COM.STMT_PREPARE), [prepareOk(2, 0), ...defs(2), ...metaEof()]);
      expectWhole(caps, pkt(COM.STMT_PREPARE), [prepareOk(0, 0)]);
      expectWhole(caps, pkt(COM.STMT_PREPARE), [err()]);
    });

    it('refuses a first packet that is neither OK nor ERR', () => {
      const tracker = new ResponseTracker(caps);
      send(tracker, pkt(COM.STMT_PREPARE));
      expectDesync(tracker, columnCount(1));
    });

    it('with optional metadata turned off: no definitions, the EOFs still', () => {
      const withByte = caps | OPTIONAL_RESULTSET_METADATA;
      expectWhole(withByte, pkt(COM.STMT_PREPARE), [prepareOk(3, 2, 0), ...metaEof(), ...metaEof()]);
      expectWhole(withByte, pkt(COM.STMT_PREPARE), [prepareOk(1, 1, 1), ...defs(1), ...metaEof(), ...defs(1), ...metaEof()]);
    });
  });

  describe('COM_STMT_EXECUTE', () => {
    const binaryResult = (columns: number, rows: number, status = AUTOCOMMIT): Pkt[] => [
      columnCount(columns),
      ...Array.from({ length: columns }, (_, i) => columnDef(`c${i}`)),
      ...metaEof(),
      ...Array.from({ length: rows }, (_, i) => binaryRow(i)),
      end(status),
    ];

    it('OK, ERR and a binary result set', () => {
      expectWhole(caps, execute(), [ok()]);
      expectWhole(caps, execute(), [err()]);
      expectWhole(caps, execute(), binaryResult(2, 3));
    });

    it('refuses a binary row that does not start with 0x00, and LOCAL INFILE', () => {
      const tracker = new ResponseTracker(caps);
      send(tracker, execute());
      feed(tracker, [columnCount(1), columnDef(), ...metaEof()]);
      expectDesync(tracker, textRow('1'));
      const other = new ResponseTracker(caps);
      send(other, execute());
      expectDesync(other, infileRequest());
    });

    it('a CALL: result sets, the OUT parameters, the final OK', () => {
      expectWhole(caps, execute(), [
        ...binaryResult(1, 2, AUTOCOMMIT | MORE_RESULTS),
        ...binaryResult(2, 1, AUTOCOMMIT | MORE_RESULTS | PS_OUT_PARAMS),
        ok(AUTOCOMMIT),
      ]);
    });

    it('a cursor opened: the definitions and one EOF/OK flagged CURSOR_EXISTS, no rows', () => {
      expectWhole(caps, execute(1), [columnCount(2), columnDef(), columnDef(), end(AUTOCOMMIT | CURSOR_EXISTS)]);
    });

    it('a cursor asked for and not opened: the whole result set', () => {
      expectWhole(caps, execute(1), binaryResult(1, 3));
      expectWhole(caps, execute(1), [ok()]);
    });

    it('CURSOR_EXISTS on an execute that asked for no cursor ends nothing', () => {
      if (deprecateEof) return; // the flag can only mislead on the metadata EOF
      expectWhole(caps, execute(0), [columnCount(1), columnDef(), eof(AUTOCOMMIT | CURSOR_EXISTS), binaryRow(1), eof()]);
    });

    it('COM_STMT_FETCH: rows, then an EOF/OK saying whether the cursor goes on', () => {
      expectWhole(caps, fetch(), [binaryRow(1), binaryRow(2), end(AUTOCOMMIT | CURSOR_EXISTS)]);
      expectWhole(caps, fetch(), [binaryRow(3), end(AUTOCOMMIT | LAST_ROW_SENT)]);
      expectWhole(caps, fetch(), [end(AUTOCOMMIT | LAST_ROW_SENT)]);
      expectWhole(caps, fetch(), [err(1421)]);
    });
  });

  it('COM_FIELD_LIST: definitions up to an EOF (an OK with the 0xfe header under DEPRECATE_EOF)', () => {
    const fieldList = pkt(COM.FIELD_LIST, str('t'), 0x00);
    expectWhole(caps, fieldList, [columnDef('a'), columnDef('b'), end()]);
    expectWhole(caps, fieldList, [end()]);
    expectWhole(caps, fieldList, [err(1146)]);
    if (deprecateEof) {
      // Session tracking can make the OK longer than an EOF_Packet.
      expectWhole(caps, fieldList, [columnDef('a'), pkt(0xfe, 0, 0, u16(0x4002), u16(0), lenencStr('x'.repeat(40)))]);
    }
  });

  it('pipelined commands are answered in turn', () => {
    const tracker = new ResponseTracker(caps);
    send(tracker, query('SELECT 1'));
    send(tracker, pkt(COM.STMT_CLOSE, [1, 0, 0, 0]));
    send(tracker, pkt(COM.PING));
    send(tracker, pkt(COM.STMT_PREPARE, str('SELECT ?')));
    send(tracker, execute());
    send(tracker, query('SELECT 1; SELECT 2'));
    expect(tracker.pending).toBe(5);
    const responses: Pkt[][] = [
      textResult(1, 2),
      [ok()],
      [prepareOk(1, 1), columnDef('?'), ...metaEof(), columnDef('c'), ...metaEof()],
      [columnCount(1), columnDef(), ...metaEof(), binaryRow(1), end()],
      [...textResult(1, 1, MORE_RESULTS), ...textResult(1, 1)],
    ];
    responses.forEach((response, i) => {
      const last = i === responses.length - 1;
      expect(feed(tracker, response)).toEqual(response.map((_, j) => last && j === response.length - 1));
      expect(tracker.pending).toBe(4 - i);
    });
    expect(tracker.idle).toBe(true);
  });

  it('refuses packets out of step', () => {
    const cases: Array<[Pkt, Pkt[], Pkt]> = [
      [query(), [], eof()], // a result cannot start with 0xfe
      [query(), [columnCount(2), columnDef()], end()], // too few definitions
      [query(), [], pkt(0x00)], // an OK too short to hold its status
      [query(), [], { head: Buffer.alloc(0), length: 0 }],
      [execute(), [columnCount(1), columnDef(), ...metaEof()], pkt(0x01, 0x02)],
      [pkt(COM.PING), [], pkt(0x0a, str('5.5.5'))],
    ];
    if (!deprecateEof) cases.push([query(), [columnCount(1), columnDef()], textRow('1')]); // the metadata EOF missing
    for (const [command, before, bad] of cases) {
      const tracker = new ResponseTracker(caps);
      send(tracker, command);
      feed(tracker, before);
      expectDesync(tracker, bad);
    }
  });
});

describe('outside any response', () => {
  it('takes an ERR the server sends unasked before it closes, and ends nothing with it', () => {
    const tracker = new ResponseTracker(BASE);
    expect(feed(tracker, [err(1927)])).toEqual([true]);
    send(tracker, query());
    feed(tracker, [columnCount(1), columnDef(), eof()]);
    expect(tracker.idle).toBe(false);
    // Inside a response an ERR ends it (a kill during a query).
    expect(feed(tracker, [err(1927)])).toEqual([true]);
  });

  it('refuses any other packet while idle', () => {
    const tracker = new ResponseTracker(BASE);
    expectDesync(tracker, ok());
    expectDesync(tracker, eof());
  });
});

describe('legacy and extended capabilities', () => {
  it('the OUT parameters set of a pre-5.7.5 server: flagged on its metadata EOF only, the OK follows', () => {
    expectWhole(BASE, execute(), [
      columnCount(1), columnDef(), eof(AUTOCOMMIT | PS_OUT_PARAMS), binaryRow(1), eof(AUTOCOMMIT), ok(),
    ]);
  });

  it('a server that announces more parameters than it describes (mysql2\'s workaround)', () => {
    expectWhole(BASE, pkt(COM.STMT_PREPARE), [prepareOk(1, 3), columnDef('?'), eof(), columnDef('c'), eof()]);
  });

  describe.each([
    ['MariaDB CACHE_METADATA', BASE, MariadbCapability.CACHE_METADATA],
    ['MySQL OPTIONAL_RESULTSET_METADATA', BASE | OPTIONAL_RESULTSET_METADATA, 0],
  ])('%s: a byte after the column count', (_name, caps, mariadb) => {
    it('1: the definitions follow', () => {
      expectWhole(caps, execute(), [columnCount(2, 1), columnDef(), columnDef(), eof(), binaryRow(1), eof()], mariadb);
      expectWhole(caps, query(), [columnCount(1, 1), columnDef(), eof(), textRow('1'), eof()], mariadb);
    });

    it('0: no definitions, the metadata EOF still', () => {
      expectWhole(caps, execute(), [columnCount(2, 0), eof(), binaryRow(1), eof()], mariadb);
      expectWhole(caps | DEPRECATE_EOF, execute(), [columnCount(2, 0), binaryRow(1), okFe()], mariadb);
    });
  });

  it('MariaDB progress reports end nothing when PROGRESS was agreed', () => {
    const progress = pkt(0xff, u16(0xffff), 1, 1, 2, [0x10, 0x27, 0], lenencStr('copy to tmp table'));
    expectWhole(BASE, query('ALTER TABLE t ...'), [progress, progress, ok()], MariadbCapability.PROGRESS);
    const tracker = new ResponseTracker(BASE, MariadbCapability.PROGRESS);
    expect(feed(tracker, [progress])).toEqual([true]);
    // Without it the same bytes are an ERR, which ends the response.
    expectWhole(BASE, query('ALTER TABLE t ...'), [progress]);
  });
});
