// ResponseTracker against a real MariaDB 10.11: real clients (mysql2 with EOF packets, the mariadb
// connector with CLIENT_DEPRECATE_EOF and MARIADB_CLIENT_CACHE_METADATA, and with keepEof) talk to
// it through a recording pass-through that feeds the tracker as the proxy does. The tracker must
// never throw, be idle whenever a client has its whole answer, and never be idle while a
// response still has packets to come. Commands no connector sends (COM_FIELD_LIST, an execute
// that opens a cursor, COM_STMT_FETCH, ...) go through a bare client, each followed by a
// COM_PING: the tracker must close the command's response exactly at the packet before the
// ping's OK.
import { Readable } from 'stream';

import mariadb, { ConnectionConfig } from 'mariadb';
import type { Connection as CoreConnection } from 'mysql2';
import mysql from 'mysql2/promise';

import { MariadbInstance, startMariadb } from '../helpers/mariadb';
import { CLIENT, RawClient } from '../helpers/raw-mysql-client';
import { Packet, RecordedConnection, RecordingRelay, startRecordingRelay } from '../helpers/recording-relay';

const USER = 'tracker';
const PASSWORD = 'tracker-Pw-1';
const DB = 'tracker';
const CSV = '1,one\n2,two\n3,three\n';
const BIG_ROWS = 50_000;

let instance: MariadbInstance;
let relay: RecordingRelay;

beforeAll(async () => {
  instance = await startMariadb({ tcp: true, extraArgs: ['--local-infile=1', '--max-allowed-packet=64M'] });
  for (const sql of [
    `CREATE DATABASE ${DB}`,
    `CREATE USER ${USER}@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('${PASSWORD}')`,
    `GRANT ALL PRIVILEGES ON *.* TO ${USER}@'%'`,
    `CREATE TABLE ${DB}.t (id INT PRIMARY KEY, name VARCHAR(20))`,
    `INSERT INTO ${DB}.t VALUES (1, 'a'), (2, 'b')`,
    `CREATE TABLE ${DB}.loaded (id INT, name VARCHAR(20))`,
    `CREATE PROCEDURE ${DB}.two_sets() BEGIN SELECT 1 AS a; SELECT 2 AS b, 3 AS c; END`,
    `CREATE PROCEDURE ${DB}.with_out(IN x INT, OUT y INT) BEGIN SELECT x AS seen; SET y = x * 2; END`,
  ]) {
    await instance.query(sql);
  }
  relay = await startRecordingRelay({ port: instance.port! });
}, 60_000);

afterAll(async () => {
  await relay?.close();
  await instance?.stop();
});

const serverEvents = (conn: RecordedConnection, since: number) =>
  conn.events.slice(since).filter((e): e is Extract<typeof e, { from: 'server' }> => e.from === 'server');

/** After a client has its whole answer: idle, nothing thrown, and idle never came before a response's end. */
function expectSettled(conn: RecordedConnection): void {
  expect(conn.errors).toEqual([]);
  expect(conn.tracker?.idle).toBe(true);
  expect(conn.fromServer.atBoundary).toBe(true);
  const early = conn.events.filter((event, i) => {
    const next = conn.events[i + 1];
    return event.from === 'server' && event.idle && next?.from === 'server' && next.first !== 0xff;
  });
  expect(early).toEqual([]);
  expect(conn.events.filter((e) => e.from === 'client' && !e.understood)).toEqual([]);
}

interface Client {
  conn: RecordedConnection;
  query(sql: string): Promise<unknown>;
  execute(sql: string, params: unknown[]): Promise<unknown>;
  ping(): Promise<unknown>;
  reset(): Promise<unknown>;
  stream(sql: string): Readable;
  end(): Promise<void>;
}

const infile = () => Readable.from([Buffer.from(CSV)]);
const lastConnection = () => relay.connections[relay.connections.length - 1];

async function mysql2Client(): Promise<Client> {
  const c = await mysql.createConnection({
    socketPath: relay.socketPath, user: USER, password: PASSWORD, database: DB,
    multipleStatements: true, infileStreamFactory: infile,
  });
  return {
    conn: lastConnection(),
    query: (sql) => c.query(sql),
    execute: (sql, params) => c.execute(sql, params as never),
    ping: () => c.ping(),
    reset: () => c.reset(),
    // The callback connection under the promise one streams with backpressure.
    stream: (sql) => (c as unknown as { connection: CoreConnection }).connection.query(sql).stream({ highWaterMark: 4 }),
    end: () => c.end(),
  };
}

async function mariadbClient(options: { keepEof?: boolean; pipelining?: boolean } = {}): Promise<Client> {
  // keepEof (no CLIENT_DEPRECATE_EOF) is an option the connector reads but does not declare.
  const config: ConnectionConfig & { keepEof?: boolean } = {
    socketPath: relay.socketPath, user: USER, password: PASSWORD, database: DB, multipleStatements: true,
    ...(options.pipelining ? { pipelining: true } : { pipelining: false, permitLocalInfile: true, infileStreamFactory: infile }),
    keepEof: options.keepEof ?? false,
  };
  const c = await mariadb.createConnection(config);
  return {
    conn: lastConnection(),
    query: (sql) => c.query(sql),
    execute: (sql, params) => c.execute(sql, params),
    ping: () => c.ping(),
    reset: () => c.reset(),
    stream: (sql) => c.queryStream(sql),
    end: () => c.end(),
  };
}

const DEPRECATE_EOF = 1 << 24;

// The mariadb connector refuses a LOCAL INFILE request inside a multi-statement query (it checks
// the file name against the query's text), so only mysql2 runs that one.
describe.each([
  ['mysql2 (EOF packets)', mysql2Client, false, true],
  ['mariadb (DEPRECATE_EOF, CACHE_METADATA)', () => mariadbClient(), true, false],
  ['mariadb keepEof (EOF packets, CACHE_METADATA)', () => mariadbClient({ keepEof: true }), false, false],
])('%s', (_name, open, deprecateEof, infileInBatch) => {
  let client: Client;
  beforeAll(async () => {
    client = await open();
  });
  afterAll(async () => {
    await client?.end();
  });

  it('agreed the capabilities this suite means to cover', () => {
    expect((client.conn.capabilities & DEPRECATE_EOF) !== 0).toBe(deprecateEof);
    expectSettled(client.conn);
  });

  it('plain queries, statements without rows, errors', async () => {
    expect(await client.query('SELECT 1 AS one')).toBeDefined();
    expectSettled(client.conn);
    await client.query('SELECT * FROM t ORDER BY id');
    expectSettled(client.conn);
    await client.query('UPDATE t SET name = name');
    expectSettled(client.conn);
    await expect(client.query('SELECT * FROM no_such_table')).rejects.toThrow(/doesn't exist/);
    expectSettled(client.conn);
    await expect(client.query('SELECT nope FROM t')).rejects.toThrow(/Unknown column/);
    expectSettled(client.conn);
  });

  it('multi-statement queries, one failing midway', async () => {
    await client.query('SELECT 1; UPDATE t SET name = name; SELECT id, name FROM t; DO 1');
    expectSettled(client.conn);
    await expect(client.query('SELECT 1; SELECT nope FROM t; SELECT 3')).rejects.toThrow(/Unknown column/);
    expectSettled(client.conn);
  });

  it('a CALL with several result sets, as a query and as a prepared statement', async () => {
    await client.query('CALL two_sets()');
    expectSettled(client.conn);
    await client.execute('CALL two_sets()', []);
    expectSettled(client.conn);
  });

  it('prepared statements, twice each (the second may reuse cached metadata), and OUT parameters', async () => {
    for (let i = 0; i < 2; i++) {
      await client.execute('SELECT ? + 1 AS n, ? AS s', [i, 'x']);
      expectSettled(client.conn);
      await client.execute('SELECT * FROM t WHERE id > ?', [0]);
      expectSettled(client.conn);
      await client.execute('UPDATE t SET name = name WHERE id = ?', [1]);
      expectSettled(client.conn);
    }
    await expect(client.execute('SELECT nope FROM t WHERE id = ?', [1])).rejects.toThrow(/Unknown column/);
    expectSettled(client.conn);
    const since = client.conn.events.length;
    await client.execute('CALL with_out(?, ?)', [5, null]);
    expectSettled(client.conn);
    // Two result sets (the CALL's, then the OUT parameters'), then the OK: the bare client below pins the exact shape.
    expect(serverEvents(client.conn, since).length).toBeGreaterThan(5);
  });

  it('LOAD DATA LOCAL INFILE, alone and between other statements', async () => {
    await client.query('TRUNCATE loaded');
    await client.query("LOAD DATA LOCAL INFILE 'rows.csv' INTO TABLE loaded FIELDS TERMINATED BY ','");
    expectSettled(client.conn);
    if (infileInBatch) {
      await client.query("SELECT 1; LOAD DATA LOCAL INFILE 'rows.csv' INTO TABLE loaded FIELDS TERMINATED BY ','; SELECT COUNT(*) FROM loaded");
      expectSettled(client.conn);
    }
    expect(client.conn.events.some((e) => e.from === 'server' && e.first === 0xfb)).toBe(true);
    expect(await instance.query(`SELECT COUNT(*) AS n FROM ${DB}.loaded`)).toEqual([{ n: infileInBatch ? 6 : 3 }]);
  });

  it('ping and reset connection', async () => {
    await client.ping();
    expectSettled(client.conn);
    await client.reset();
    expectSettled(client.conn);
  });

  it('a big result: not idle while the client is inside it, idle at its last packet only', async () => {
    const since = client.conn.events.length;
    let rows = 0;
    let idleInside: boolean | undefined;
    for await (const _row of client.stream(`SELECT seq, REPEAT('x', 100) AS pad FROM seq_1_to_${BIG_ROWS}`)) {
      if (++rows === 10) {
        // The client reads no further meanwhile: backpressure holds the rest upstream.
        await new Promise((resolve) => setTimeout(resolve, 50));
        idleInside = client.conn.tracker!.idle;
      }
    }
    expect(rows).toBe(BIG_ROWS);
    expect(idleInside).toBe(false);
    expectSettled(client.conn);
    const idle = serverEvents(client.conn, since).map((e) => e.idle);
    expect(idle.length).toBeGreaterThan(BIG_ROWS);
    expect(idle.indexOf(true)).toBe(idle.length - 1);
  });

  it('a row of 16 MiB, whose first byte is 0xfe, is a row', async () => {
    const since = client.conn.events.length;
    const result = (await client.query("SELECT REPEAT('a', 16777216) AS big, 1 AS after_it")) as unknown;
    const rows = (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as Array<{ big: string }>;
    expect(rows[0].big.length).toBe(16777216);
    expectSettled(client.conn);
    expect(serverEvents(client.conn, since).some((e) => e.first === 0xfe && e.length > 0xffffff)).toBe(true);
  });
});

it('mariadb with pipelining: commands sent before the first answer are answered in turn', async () => {
  const client = await mariadbClient({ pipelining: true });
  try {
    const since = client.conn.events.length;
    await Promise.all([
      client.query('SELECT 1'),
      client.query('SELECT 2; SELECT 3'),
      client.execute('SELECT ? AS n', [4]),
      client.query('SELECT * FROM t'),
      client.ping(),
    ]);
    expectSettled(client.conn);
    expect(Math.max(...serverEvents(client.conn, since).map((e) => e.pending))).toBeGreaterThan(1);
  } finally {
    await client.end();
  }
});

// ---- Commands no connector sends, through a bare client. ----

const PING = Buffer.of(0x0e);
const u32 = (n: number) => Buffer.from(Uint32Array.of(n).buffer);

/** A packet in words: ERR, EOF, OKFE (an OK with the 0xfe header), 00 (OK or binary row), DEF, DATA; then its flags. */
function describePacket(packet: Packet, deprecateEof: boolean): string {
  const p = packet.payload;
  if (p[0] === 0xff) return 'ERR';
  if (p[0] === 0x03 && p.subarray(1, 4).toString() === 'def') return 'DEF';
  if (p[0] === 0xfe && packet.length < 0xffffff) {
    const eof = !deprecateEof && packet.length < 9;
    return (eof ? 'EOF' : 'OKFE') + flags(eof ? p.readUInt16LE(3) : okStatus(p));
  }
  if (p[0] === 0x00) return '00';
  return 'DATA';
}

function okStatus(p: Buffer): number {
  let offset = 1;
  for (let i = 0; i < 2; i++) offset += p[offset] < 0xfb ? 1 : p[offset] === 0xfc ? 3 : p[offset] === 0xfd ? 4 : 9;
  return p.readUInt16LE(offset);
}

function flags(status: number): string {
  return [[0x08, '+more'], [0x40, '+cursor'], [0x80, '+last'], [0x1000, '+out']]
    .filter(([bit]) => (status & (bit as number)) !== 0)
    .map(([, name]) => name)
    .join('');
}

describe.each([
  ['EOF packets, no MariaDB extensions', CLIENT.LONG_PASSWORD, 0, false],
  ['DEPRECATE_EOF with CACHE_METADATA and PROGRESS', CLIENT.DEPRECATE_EOF | CLIENT.SESSION_TRACK, 0x10 | 0x01, true],
])('a bare client, %s', (_name, extra, mariadbCapabilities, deprecateEof) => {
  let raw: RawClient;
  let conn: RecordedConnection;
  beforeAll(async () => {
    raw = await RawClient.connect({
      socketPath: relay.socketPath, user: USER, password: PASSWORD, database: DB, mariadbCapabilities,
      capabilities: CLIENT.PROTOCOL_41 | CLIENT.SECURE_CONNECTION | CLIENT.PLUGIN_AUTH | CLIENT.TRANSACTIONS |
        CLIENT.MULTI_STATEMENTS | CLIENT.MULTI_RESULTS | CLIENT.PS_MULTI_RESULTS | extra,
    });
    conn = lastConnection();
  });
  afterAll(() => raw?.close());

  /**
   * Sends the commands and a COM_PING in one write; waits for every packet. Returns the command's
   * packets in words. The tracker must have had one command pending until the packet before the
   * ping's OK, and none after the OK.
   */
  async function exchange(...commands: Buffer[]): Promise<{ shape: string[]; packets: Packet[] }> {
    const start = raw.received.length;
    const eventsStart = conn.events.length;
    raw.send(...commands, PING);
    const deadline = Date.now() + 5000;
    // Done when the ping has its OK (so the relay saw the batch) and the client has every packet.
    const done = () => {
      const seen = serverEvents(conn, eventsStart).length;
      return seen > 0 && conn.tracker!.idle && raw.received.length - start === seen;
    };
    while (!done() && conn.errors.length === 0) {
      if (Date.now() > deadline) throw new Error(`no end: ${JSON.stringify(serverEvents(conn, eventsStart))}`);
      await raw.until(raw.received.length + 1, Math.max(1, deadline - Date.now())).catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 30)); // nothing more may come
    expectSettled(conn);
    const packets = raw.received.slice(start);
    expect(packets.length).toBe(serverEvents(conn, eventsStart).length);
    expect(describePacket(packets[packets.length - 1], deprecateEof)).toBe('00'); // the ping's OK
    const pending = serverEvents(conn, eventsStart).map((e) => e.pending);
    const answered = commands.filter((c) => ![0x18, 0x19].includes(c[0])).length;
    if (answered === 1) expect(pending).toEqual([...pending.slice(0, -2).map(() => 2), 1, 0]);
    if (answered === 0) expect(pending).toEqual([0]);
    return { shape: packets.slice(0, -1).map((p) => describePacket(p, deprecateEof)), packets: packets.slice(0, -1) };
  }

  const eof = (status = '') => (deprecateEof ? [] : [`EOF${status}`]);
  const end = (status = '') => (deprecateEof ? `OKFE${status}` : `EOF${status}`);

  async function prepare(sql: string): Promise<{ id: number; shape: string[] }> {
    const { shape, packets } = await exchange(Buffer.concat([Buffer.of(0x16), Buffer.from(sql)]));
    return { id: packets[0].payload.readUInt32LE(1), shape };
  }

  it('COM_STMT_PREPARE: parameters, then columns', async () => {
    expect((await prepare('SELECT ? AS a, ? AS b, 1 AS c')).shape).toEqual(['00', 'DEF', 'DEF', ...eof(), 'DEF', 'DEF', 'DEF', ...eof()]);
    expect((await prepare('DO 1')).shape).toEqual(['00']);
    expect((await prepare('SELECT nope')).shape).toEqual(['ERR']);
  });

  it('COM_STMT_EXECUTE with a read-only cursor, then COM_STMT_FETCH to the end', async () => {
    const { id } = await prepare('SELECT seq, seq * 2 AS twice FROM seq_1_to_5');
    const execute = Buffer.concat([Buffer.of(0x17), u32(id), Buffer.of(0x01), u32(1)]);
    const opened = await exchange(execute);
    // Under CACHE_METADATA the server leaves out definitions the prepare already sent.
    const definitions = opened.packets[0].payload.length > 1 && opened.packets[0].payload[1] === 0 ? [] : ['DEF', 'DEF'];
    expect(opened.shape).toEqual(['DATA', ...definitions, end('+cursor')]);
    const fetch = (rows: number) => Buffer.concat([Buffer.of(0x1c), u32(id), u32(rows)]);
    expect((await exchange(fetch(2))).shape).toEqual(['00', '00', end('+cursor')]);
    expect((await exchange(fetch(10))).shape).toEqual(['00', '00', '00', end('+last')]);
    expect((await exchange(fetch(1))).shape).toEqual(['ERR']);
    // The same statement without a cursor: the whole result set.
    const whole = await exchange(Buffer.concat([Buffer.of(0x17), u32(id), Buffer.of(0x00), u32(1)]));
    expect(whole.shape.filter((s) => s === '00')).toHaveLength(5);
    expect(whole.shape[whole.shape.length - 1]).toBe(end());
    expect((await exchange(Buffer.concat([Buffer.of(0x1a), u32(id)]))).shape).toEqual(['00']); // COM_STMT_RESET
    expect((await exchange(Buffer.concat([Buffer.of(0x19), u32(id)]))).shape).toEqual([]); // COM_STMT_CLOSE
  });

  it('COM_STMT_EXECUTE under CACHE_METADATA: definitions the prepare sent are left out', async () => {
    const { id } = await prepare('SELECT 1 AS one, 2 AS two');
    const execute = Buffer.concat([Buffer.of(0x17), u32(id), Buffer.of(0x00), u32(1)]);
    const cached = (mariadbCapabilities & 0x10) !== 0;
    for (let i = 0; i < 2; i++) {
      const { shape, packets } = await exchange(execute);
      // The column count, then "metadata follows" 0: no definitions, straight to the rows.
      expect(shape).toEqual(cached ? ['DATA', ...eof(), '00', end()] : ['DATA', 'DEF', 'DEF', ...eof(), '00', end()]);
      expect([...packets[0].payload]).toEqual(cached ? [2, 0] : [2]);
    }
    await exchange(Buffer.concat([Buffer.of(0x19), u32(id)]));
  });

  it('COM_STMT_EXECUTE of a CALL with an OUT parameter: its result, the OUT parameters, the OK', async () => {
    const { id } = await prepare('CALL with_out(?, ?)');
    // Two parameters: the second NULL; types sent: LONGLONG, NULL; the first's 8 bytes.
    const params = Buffer.concat([Buffer.of(0x02, 0x01, 0x08, 0x00, 0x06, 0x00), Buffer.from(BigUint64Array.of(7n).buffer)]);
    const { shape } = await exchange(Buffer.concat([Buffer.of(0x17), u32(id), Buffer.of(0x00), u32(1), params]));
    // Each EOF carries the server's status of the moment: the metadata EOF says +out as well.
    expect(shape).toEqual([
      'DATA', 'DEF', ...eof('+more'), '00', end('+more'),
      'DATA', 'DEF', ...eof('+more+out'), '00', end('+more+out'),
      '00',
    ]);
  });

  it('COM_STMT_SEND_LONG_DATA: no answer', async () => {
    const { id } = await prepare('SELECT ? AS a');
    expect((await exchange(Buffer.concat([Buffer.of(0x18), u32(id), Buffer.of(0, 0), Buffer.from('long')]))).shape).toEqual([]);
    await exchange(Buffer.concat([Buffer.of(0x19), u32(id)]));
  });

  it('COM_FIELD_LIST: definitions up to an EOF, or an OK with the 0xfe header', async () => {
    expect((await exchange(Buffer.from('\x04t\0'))).shape).toEqual(['DEF', 'DEF', end()]);
    expect((await exchange(Buffer.from('\x04no_such_table\0'))).shape).toEqual(['ERR']);
  });

  it('COM_STATISTICS, COM_PROCESS_INFO, COM_SET_OPTION, COM_INIT_DB, COM_DEBUG, COM_REFRESH', async () => {
    expect((await exchange(Buffer.of(0x09))).shape).toEqual(['DATA']);
    const processes = (await exchange(Buffer.of(0x0a))).shape;
    expect(processes.slice(0, 1 + 9 + eof().length)).toEqual(['DATA', ...Array(9).fill('DEF'), ...eof()]);
    expect(processes[processes.length - 1]).toBe(end());
    expect((await exchange(Buffer.of(0x1b, 0x00, 0x00))).shape).toEqual([end()]); // MYSQL_OPTION_MULTI_STATEMENTS_ON
    expect((await exchange(Buffer.from(`\x02${DB}`))).shape).toEqual(['00']);
    expect((await exchange(Buffer.of(0x0d))).shape).toEqual([end()]);
    expect((await exchange(Buffer.of(0x07, 0x00))).shape).toEqual(['00']);
  });

  it('COM_QUERY: a multi-statement text batch, a CALL, errors', async () => {
    expect((await exchange(Buffer.from('\x03SELECT 1 AS a; DO 1; SELECT 2 AS b'))).shape).toEqual([
      'DATA', 'DEF', ...eof('+more'), 'DATA', end('+more'), '00', 'DATA', 'DEF', ...eof(), 'DATA', end(),
    ]);
    expect((await exchange(Buffer.from('\x03CALL two_sets()'))).shape).toEqual([
      'DATA', 'DEF', ...eof('+more'), 'DATA', end('+more'), 'DATA', 'DEF', 'DEF', ...eof('+more'), 'DATA', end('+more'), '00',
    ]);
    expect((await exchange(Buffer.from('\x03SELECT 1; SELECT nope'))).shape).toEqual([
      'DATA', 'DEF', ...eof('+more'), 'DATA', end('+more'), 'ERR',
    ]);
  });

  it('a pipelined batch: each answer closes in turn', async () => {
    const { id } = await prepare('SELECT seq FROM seq_1_to_3');
    const start = conn.events.length;
    await exchange(
      Buffer.from('\x03SELECT 1'),
      Buffer.concat([Buffer.of(0x17), u32(id), Buffer.of(0x01), u32(1)]),
      Buffer.concat([Buffer.of(0x1c), u32(id), u32(5)]),
      Buffer.concat([Buffer.of(0x19), u32(id)]),
      Buffer.from('\x04t\0'),
    );
    const pending = serverEvents(conn, start).map((e) => e.pending);
    // Five answered commands: pending counts down 5 → 0, one step per response, never back up.
    expect([...new Set(pending)]).toEqual([5, 4, 3, 2, 1, 0]);
    expect(pending).toEqual([...pending].sort((a, b) => b - a));
  });

  it('a killed idle connection: closed, at most an ERR before', async () => {
    const victim = await RawClient.connect({
      socketPath: relay.socketPath, user: USER, password: PASSWORD, database: DB,
      capabilities: CLIENT.PROTOCOL_41 | CLIENT.SECURE_CONNECTION | CLIENT.PLUGIN_AUTH | extra,
      mariadbCapabilities,
    });
    const victimConn = lastConnection();
    try {
      const ids = await instance.query(`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = '${USER}' ORDER BY ID DESC LIMIT 1`);
      expect((await exchange(Buffer.concat([Buffer.of(0x0c), u32(Number(ids[0].id))]))).shape).toEqual(['00']);
      const deadline = Date.now() + 3000;
      while (!victim.ended && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(victim.ended).toBe(true);
      expect(victimConn.errors).toEqual([]);
      expect(victimConn.tracker!.idle).toBe(true);
      // MariaDB 10.11 closes a killed idle session without a word (as it does at wait_timeout and
      // shutdown); MySQL 8 sends an ERR first (4031, 1053), which the unit tests cover. Whatever
      // came, the tracker took it without a throw.
      expect(serverEvents(victimConn, 0).every((e) => e.first === 0xff)).toBe(true);
    } finally {
      victim.close();
    }
  });
});
