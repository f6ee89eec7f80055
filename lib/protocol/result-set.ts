// Text result sets (Protocol::Text::Resultset): column count, column definitions, rows, and the
// end marker (EOF, or an OK under CLIENT_DEPRECATE_EOF), built and read.
import { codedError } from '../errors';
import { Capability, ServerStatus } from './constants';
import { PayloadReader, PayloadWriter } from './payload';
import { buildEof, buildOk, EOF_HEADER, isErrPacket, parseEof, parseErr, parseOk, serverErrorFrom } from './responses';

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
