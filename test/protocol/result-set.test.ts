// Text result sets (lib/protocol/result-set.ts) against the one MariaDB 10.11 really sent for
// `SELECT 1, USER(), NULL` (fixtures/captured.ts), with and without CLIENT_DEPRECATE_EOF.
import fc from 'fast-check';

import { Capability } from '../../lib/protocol/constants';
import {
  buildColumnCount,
  buildColumnDefinition,
  buildTextResultSet,
  buildTextRow,
  ColumnDefinition,
  parseColumnCount,
  parseColumnDefinition,
  parseTextRow,
  readTextResultSet,
} from '../../lib/protocol/result-set';
import { MARIADB_ERR_1698, MARIADB_RESULT_SET_DEPRECATE_EOF, MARIADB_RESULT_SET_EOF } from './fixtures/captured';
import { asciiHex, hex, thrownCode } from './wire';

const column = (name: string, rest: Partial<ColumnDefinition>): ColumnDefinition => ({
  schema: '',
  table: '',
  orgTable: '',
  name,
  orgName: '',
  characterSet: 63,
  columnLength: 0,
  type: 0,
  flags: 0,
  decimals: 0,
  ...rest,
});
// The columns as MariaDB described them (see the field comments in fixtures/captured.ts).
const COLUMNS = [
  column('1', { characterSet: 63, columnLength: 1, type: 0x03, flags: 0x81 }),
  column('USER()', { characterSet: 45, columnLength: 1536, type: 0xfd, decimals: 39 }),
  column('NULL', { characterSet: 63, columnLength: 0, type: 0x06, flags: 0x80 }),
];
const ROWS = [['1', 'root@localhost', null]];

function reader(payloads: Buffer[]): () => Promise<Buffer> {
  const queue = [...payloads];
  return async () => {
    const next = queue.shift();
    if (next === undefined) throw new Error('read past the end');
    return next;
  };
}

describe('pieces', () => {
  it("parses MariaDB's column count, definitions and row field by field", () => {
    expect(parseColumnCount(MARIADB_RESULT_SET_EOF[0])).toBe(3);
    expect(MARIADB_RESULT_SET_EOF.slice(1, 4).map(parseColumnDefinition)).toEqual(COLUMNS);
    expect(parseTextRow(MARIADB_RESULT_SET_EOF[5], 3)).toEqual(ROWS[0]);
  });

  it('builds the same bytes', () => {
    expect(buildColumnCount(3)).toEqual(MARIADB_RESULT_SET_EOF[0]);
    expect(COLUMNS.map(buildColumnDefinition)).toEqual(MARIADB_RESULT_SET_EOF.slice(1, 4));
    expect(buildTextRow(ROWS[0])).toEqual(MARIADB_RESULT_SET_EOF[5]);
    expect(buildColumnCount(300)).toEqual(hex('fc 2c01'));
    expect(buildTextRow(['', 'x'.repeat(251)])).toEqual(hex('00', 'fc fb00', '78'.repeat(251)));
  });

  it('refuses rows with too few or too many values, bad column counts and truncated definitions', () => {
    expect(() => parseTextRow(hex('01 31'), 2)).toThrow(/truncated/);
    expect(() => parseTextRow(hex('01 31', 'fb'), 1)).toThrow(/trailing/);
    expect(() => parseTextRow(hex('05 3132'), 1)).toThrow(/truncated/);
    expect(() => parseTextRow(hex('02 c328'), 1)).toThrow(/UTF-8/);
    expect(() => parseColumnCount(hex('03 00'))).toThrow(/trailing/);
    expect(() => parseColumnCount(hex('fb'))).toThrow(/length-encoded/);
    for (let cut = 0; cut < MARIADB_RESULT_SET_EOF[1].length; cut++) {
      expect(thrownCode(() => parseColumnDefinition(MARIADB_RESULT_SET_EOF[1].subarray(0, cut)))).toBe('ERR_MALFORMED_PACKET');
    }
    // The fixed part announced as 12 bytes but only 11 left.
    const short = hex('03' + asciiHex('def'), '00', '00', '00', '01 31', '00', '0c', '3f00', '01000000', '03', '8100', '00', '00');
    expect(thrownCode(() => parseColumnDefinition(short))).toBe('ERR_MALFORMED_PACKET');
  });
});

describe('whole result sets', () => {
  it.each([
    ['with EOF packets', 0, MARIADB_RESULT_SET_EOF],
    ['under CLIENT_DEPRECATE_EOF', Capability.DEPRECATE_EOF, MARIADB_RESULT_SET_DEPRECATE_EOF],
  ])('buildTextResultSet gives the payloads MariaDB sent, %s', (_name, capabilities, captured) => {
    expect(buildTextResultSet(COLUMNS, ROWS, capabilities)).toEqual(captured);
  });

  it.each([
    ['with EOF packets', 0, MARIADB_RESULT_SET_EOF],
    ['under CLIENT_DEPRECATE_EOF', Capability.DEPRECATE_EOF, MARIADB_RESULT_SET_DEPRECATE_EOF],
  ])("readTextResultSet reads MariaDB's result set %s, and reads nothing past its end", async (_name, capabilities, captured) => {
    const after = hex('00', '00', '00', '0200', '0000'); // the next command's OK
    const read = reader([...captured.slice(1), after]);
    await expect(readTextResultSet(captured[0], read, capabilities)).resolves.toEqual({ columns: COLUMNS, rows: ROWS });
    await expect(read()).resolves.toEqual(after);
  });

  it('reads a result set with no rows', async () => {
    const payloads = [MARIADB_RESULT_SET_EOF[0], ...MARIADB_RESULT_SET_EOF.slice(1, 4), MARIADB_RESULT_SET_EOF[4], MARIADB_RESULT_SET_EOF[6]];
    await expect(readTextResultSet(payloads[0], reader(payloads.slice(1)), 0)).resolves.toEqual({ columns: COLUMNS, rows: [] });
  });

  it('throws an ERR that arrives instead of a row as ERR_SERVER_ERROR', async () => {
    const payloads = [...MARIADB_RESULT_SET_EOF.slice(1, 5), MARIADB_ERR_1698];
    await expect(readTextResultSet(MARIADB_RESULT_SET_EOF[0], reader(payloads), 0)).rejects.toMatchObject({
      code: 'ERR_SERVER_ERROR',
      errno: 1698,
      sqlState: '28000',
    });
  });

  it('refuses a missing EOF after the columns, and a row of the wrong width', async () => {
    // Without CLIENT_DEPRECATE_EOF the row comes where the EOF should be.
    const noEof = MARIADB_RESULT_SET_DEPRECATE_EOF;
    await expect(readTextResultSet(noEof[0], reader(noEof.slice(1)), 0)).rejects.toMatchObject({ code: 'ERR_MALFORMED_PACKET' });
    const wide = [...MARIADB_RESULT_SET_EOF.slice(1, 5), hex('01 31', '01 32', 'fb', 'fb'), MARIADB_RESULT_SET_EOF[6]];
    await expect(readTextResultSet(MARIADB_RESULT_SET_EOF[0], reader(wide), 0)).rejects.toThrow(/trailing/);
    expect(thrownCode(() => buildTextResultSet(COLUMNS, [['1']], 0))).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('round-trips any text rows (in addition to the captured bytes above)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.option(fc.string({ maxLength: 300 }), { nil: null }), { minLength: 2, maxLength: 2 }), { maxLength: 5 }),
        fc.boolean(),
        async (rows, deprecateEof) => {
          const capabilities = deprecateEof ? Capability.DEPRECATE_EOF : 0;
          const payloads = buildTextResultSet(COLUMNS.slice(0, 2), rows, capabilities);
          const result = await readTextResultSet(payloads[0], reader(payloads.slice(1)), capabilities);
          expect(result).toEqual({ columns: COLUMNS.slice(0, 2), rows });
        },
      ),
      { numRuns: 100 },
    );
  });
});
