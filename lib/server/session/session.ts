// The minimal command phase that follows a successful handshake, so real clients (mysql CLI,
// mysql2, the mariadb connector) can log in, ask who they are, and quit. It answers only what it
// knows; every other statement or command gets MySQL's ER_NOT_SUPPORTED_YET.
import net from 'net';

import { PacketChannel } from '../../transport/packet-channel';
import { BINARY_CHARSET, ColumnFlag, ColumnType, Command } from '../../protocol/constants';
import { buildErr, buildOk } from '../../protocol/responses';
import { buildTextResultSet, ColumnDefinition } from '../../protocol/result-set';
import { notSupportedYet } from '../../protocol/mysql-errors';
import type { AuthenticatedConnection } from '../handshake';

const UTF8MB4_GENERAL_CI = 45;
const VERSION_COMMENT = 'auth-socket server';
// Long statements are cut in the 1235 message, as MySQL cuts them in its own messages.
const MAX_QUOTED_STATEMENT = 64;
// Every statement we answer is short; longer ones are not parsed at all (bounded regex work).
const MAX_ANSWERED_STATEMENT = 1024;

type Value = { kind: 'integer'; text: string } | { kind: 'string'; text: string | null };

interface SessionState {
  connection: AuthenticatedConnection;
  serverVersion: string;
  database: string | null;
}

// The expressions a SELECT list may hold, by their upper-cased text with spaces removed.
const expressions: Record<string, (state: SessionState) => Value> = {
  'USER()': ({ connection }) => ({ kind: 'string', text: `${connection.user}@${connection.host}` }),
  'SESSION_USER()': ({ connection }) => ({ kind: 'string', text: `${connection.user}@${connection.host}` }),
  'SYSTEM_USER()': ({ connection }) => ({ kind: 'string', text: `${connection.user}@${connection.host}` }),
  'CURRENT_USER()': ({ connection }) => ({ kind: 'string', text: `${connection.account.user}@${connection.account.host}` }),
  CURRENT_USER: ({ connection }) => ({ kind: 'string', text: `${connection.account.user}@${connection.account.host}` }),
  '@@EXTERNAL_USER': ({ connection }) => ({ kind: 'string', text: connection.externalUser }),
  '@@VERSION_COMMENT': () => ({ kind: 'string', text: VERSION_COMMENT }),
  '@@VERSION': ({ serverVersion }) => ({ kind: 'string', text: serverVersion }),
  'DATABASE()': ({ database }) => ({ kind: 'string', text: database }),
  'SCHEMA()': ({ database }) => ({ kind: 'string', text: database }),
  'CONNECTION_ID()': ({ connection }) => ({ kind: 'integer', text: String(connection.connectionId) }),
};

function evaluate(expression: string, state: SessionState): Value | null {
  if (/^-?\d{1,18}$/.test(expression)) return { kind: 'integer', text: String(BigInt(expression)) };
  const quoted = /^'([^'\\]*)'$/.exec(expression);
  if (quoted) return { kind: 'string', text: quoted[1] };
  const known = expressions[expression.replace(/\s+/g, '').toUpperCase()];
  return known ? known(state) : null;
}

/** Splits a SELECT list at top-level commas (none of ours nest, but quotes and calls may). */
function splitSelectList(list: string): string[] | null {
  const items: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      items.push(list.slice(start, i).trim());
      start = i + 1;
    }
    if (depth < 0) return null;
  }
  if (quoted || depth !== 0) return null;
  items.push(list.slice(start).trim());
  return items;
}

function column(name: string, value: Value): ColumnDefinition {
  const integer = value.kind === 'integer';
  return {
    schema: '',
    table: '',
    orgTable: '',
    name,
    orgName: '',
    characterSet: integer ? BINARY_CHARSET : UTF8MB4_GENERAL_CI,
    columnLength: integer ? 21 : Math.max(1, Buffer.byteLength(value.text ?? '')) * 4,
    type: integer ? ColumnType.LONGLONG : ColumnType.VAR_STRING,
    flags: integer ? ColumnFlag.NOT_NULL | ColumnFlag.BINARY : 0,
    decimals: integer ? 0 : 31,
  };
}

/** A result set for the SELECTs we know, or null for anything else. */
function answerSelect(sql: string, state: SessionState): Buffer[] | null {
  if (sql.length > MAX_ANSWERED_STATEMENT) return null;
  const statement = /^select\s+(.+?)(?:\s+limit\s+(\d+))?$/is.exec(sql.trim().replace(/;\s*$/, '').trim());
  if (!statement) return null;
  const items = splitSelectList(statement[1]);
  if (items === null) return null;
  const columns: ColumnDefinition[] = [];
  const row: Array<string | null> = [];
  for (const item of items) {
    // expression [AS] alias, the alias a plain or back-quoted identifier
    const aliased = /^(.+?)(?:\s+as)?\s+(`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)$/is.exec(item);
    let value = evaluate(item, state);
    let name = item;
    if (value === null && aliased) {
      value = evaluate(aliased[1].trim(), state);
      name = aliased[2].replace(/^`|`$/g, '');
    }
    if (value === null) return null;
    columns.push(column(name, value));
    row.push(value.text);
  }
  const rows = statement[2] !== undefined && Number(statement[2]) === 0 ? [] : [row];
  return buildTextResultSet(columns, rows, state.connection.capabilities);
}

function quoteStatement(sql: string): string {
  return sql.length > MAX_QUOTED_STATEMENT ? `${sql.slice(0, MAX_QUOTED_STATEMENT)}...` : sql;
}

/**
 * Serves commands on a socket that acceptConnection() authenticated, starting with its leftover
 * bytes, until COM_QUIT, the client closing, or a packet error (which closes the connection).
 * Commands are handled one at a time, in order.
 */
export async function serveSession(socket: net.Socket, connection: AuthenticatedConnection, serverVersion: string): Promise<void> {
  const state: SessionState = { connection, serverVersion, database: connection.database };
  try {
    if (connection.leftover.length > 0) {
      // A client that already closed its side cannot be answered (our side was ended with it).
      if (socket.readableEnded) return void socket.destroy();
      // Back in front of the unread stream: the session reads the socket as if never touched.
      socket.unshift(connection.leftover);
    }
    const channel = new PacketChannel(socket);
    for (;;) {
      channel.resetSequence();
      const packet = await channel.read();
      const command = packet.length > 0 ? packet[0] : -1;
      const body = packet.subarray(1);
      if (command === Command.QUIT) break;
      if (command === Command.PING) {
        await channel.write(buildOk());
      } else if (command === Command.INIT_DB) {
        state.database = body.toString('utf8');
        await channel.write(buildOk());
      } else if (command === Command.QUERY) {
        const sql = body.toString('utf8');
        const result = answerSelect(sql, state);
        if (result === null) {
          await channel.write(buildErr(notSupportedYet(quoteStatement(sql))));
        } else {
          for (const payload of result) await channel.write(payload);
        }
      } else {
        const what = command < 0 ? 'an empty command' : `command 0x${command.toString(16).padStart(2, '0')}`;
        await channel.write(buildErr(notSupportedYet(what)));
      }
    }
    socket.end();
  } catch {
    // A malformed, oversized or truncated packet, or a vanished client: nothing more to say.
    socket.destroy();
  }
}
