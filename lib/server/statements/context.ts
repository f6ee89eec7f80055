// What a statement handler works with: the session's connection and state, the catalog, the
// system variables; and the replies it makes (an OK, a text result set) and the privilege check
// MySQL makes before a statement runs (sql/auth/sql_authorization.cc: check_global_access).
import { BINARY_CHARSET, ColumnFlag, ColumnType } from '../../protocol/constants';
import { buildOk } from '../../protocol/responses';
import { buildTextResultSet, ColumnDefinition } from '../../protocol/result-set';
import { Account, Privilege } from '../catalog/accounts';
import { Catalog } from '../catalog/catalog';
import type { AuthenticatedConnection } from '../connection';
import { sqlError } from '../sql-error';
import type { StatusValues } from '../status';

export type Value = string | number | null;

export interface StatementContext {
  readonly connection: AuthenticatedConnection;
  readonly catalog: Catalog;
  /** The system variables, by lower-case name. */
  readonly variables: Readonly<Record<string, Value>>;
  database: string | null;
  /** Asks the server to shut down; false when this server cannot be shut down from a session. */
  requestShutdown(): boolean;
  /** The server's status counters now (SHOW STATUS). */
  status(): StatusValues | Promise<StatusValues>;
  /** FLUSH STATUS. */
  flushStatus(): void | Promise<void>;
}

/** The payloads that answer one statement. */
export type Reply = Buffer[];

export const ok = (): Reply => [buildOk()];

const UTF8MB4_GENERAL_CI = 45;

function column(name: string, integer: boolean): ColumnDefinition {
  return {
    schema: '',
    table: '',
    orgTable: '',
    name,
    orgName: '',
    characterSet: integer ? BINARY_CHARSET : UTF8MB4_GENERAL_CI,
    columnLength: integer ? 21 : 1024,
    type: integer ? ColumnType.LONGLONG : ColumnType.VAR_STRING,
    flags: integer ? ColumnFlag.NOT_NULL | ColumnFlag.BINARY : 0,
    decimals: integer ? 0 : 31,
  };
}

/** A text result set; a column whose values are all numbers is an integer column. */
export function resultSet(ctx: StatementContext, names: readonly string[], rows: ReadonlyArray<readonly Value[]>): Reply {
  const columns = names.map((name, i) => column(name, rows.length > 0 && rows.every((row) => typeof row[i] === 'number')));
  const text = rows.map((row) => row.map((value) => (value === null ? null : String(value))));
  return buildTextResultSet(columns, text, ctx.connection.capabilities);
}

/** The session's account as it is now (a GRANT, REVOKE or DROP USER since login counts), or null. */
export function currentAccount(ctx: StatementContext): Account | null {
  const { user, host } = ctx.connection.account;
  return ctx.catalog.accounts.get(user, host);
}

/** Whether the session's account holds ALL, or `privilege` when one is named. */
export function holds(ctx: StatementContext, privilege: Privilege | null): boolean {
  const held = currentAccount(ctx)?.privileges ?? [];
  return held.includes('ALL') || (privilege !== null && held.includes(privilege));
}

/**
 * MySQL's check_global_access: the session's account must hold ALL or `privilege`; `shown`
 * names it in the 1227 message. Statements that change the catalog check inside their change,
 * so a REVOKE queued ahead of them counts.
 */
export function requirePrivilege(ctx: StatementContext, privilege: Privilege | null, shown: string): void {
  if (!holds(ctx, privilege)) throw sqlError('ER_SPECIFIC_ACCESS_DENIED_ERROR', shown);
}

/** The session's own account, which it may always look at. */
export const isOwnAccount = (ctx: StatementContext, user: string, host: string): boolean =>
  user === ctx.connection.account.user && host === ctx.connection.account.host;

/** What SHOW statements print in place of a secret, as MySQL 8 does for an authentication string. */
export const SECRET = '<secret>';

/** 'user'@'host' as MySQL quotes accounts in its messages. */
export const quotedAccount = (user: string, host: string): string => `'${user}'@'${host}'`;
