// SELECT, and the tables it may read (sql/sql_select.cc for the shape; the tables are MySQL's
// INFORMATION_SCHEMA.PLUGINS, sql/sql_show.cc fill_plugins, INFORMATION_SCHEMA.USER_ATTRIBUTES,
// and mysql.user): a list of expressions, optionally over one table's rows filtered by WHERE and
// cut by LIMIT.
import { Privilege } from '../catalog/accounts';
import { Statement } from '../sql/statements';
import { sqlError } from '../sql-error';
import { shownAttributes } from './attributes';
import { holds, isOwnAccount, requirePrivilege, resultSet, Reply, StatementContext, Value } from './context';
import { evaluate, Row, test } from './values';

interface Table {
  /** Column names as MySQL spells them (SELECT * and the result's headers use these). */
  columns: readonly string[];
  /** The privilege reading it needs: null for any account. */
  privilege: Privilege | null;
  rows(ctx: StatementContext): Value[][];
}

/** INFORMATION_SCHEMA.PLUGINS rows, also what SHOW PLUGINS shows. */
export function pluginRows(ctx: StatementContext): Value[][] {
  return ctx.catalog.plugins.list().map(({ plugin, library }) => [
    plugin.name,
    plugin.version ?? '1.0',
    'ACTIVE',
    'AUTHENTICATION',
    '2.1',
    library,
    library === null ? null : '1.11',
    plugin.author ?? null,
    plugin.description ?? null,
    plugin.license ?? 'PROPRIETARY',
    library === null ? 'FORCE' : 'ON',
  ]);
}

const TABLES: Record<string, Table> = {
  'information_schema.plugins': {
    columns: [
      'PLUGIN_NAME',
      'PLUGIN_VERSION',
      'PLUGIN_STATUS',
      'PLUGIN_TYPE',
      'PLUGIN_TYPE_VERSION',
      'PLUGIN_LIBRARY',
      'PLUGIN_LIBRARY_VERSION',
      'PLUGIN_AUTHOR',
      'PLUGIN_DESCRIPTION',
      'PLUGIN_LICENSE',
      'LOAD_OPTION',
    ],
    privilege: null,
    rows: pluginRows,
  },
  'information_schema.user_attributes': {
    columns: ['USER', 'HOST', 'ATTRIBUTE'],
    // As MySQL, an account sees its own row; one that manages accounts sees every row. Secrets masked for all.
    privilege: null,
    rows: (ctx) =>
      ctx.catalog.accounts
        .list()
        .filter((account) => holds(ctx, 'CREATE USER') || isOwnAccount(ctx, account.user, account.host))
        .map((account) => [account.user, account.host, shownAttributes(account.attributes)]),
  },
  // Without MySQL's User_attributes column: the attributes are read, masked, from USER_ATTRIBUTES.
  'mysql.user': {
    columns: ['Host', 'User', 'plugin', 'authentication_string'],
    // Reading password hashes is an administrator's business.
    privilege: 'CREATE USER',
    rows: (ctx) => ctx.catalog.accounts.list().map((account) => [account.host, account.user, account.plugin, account.authenticationString]),
  },
};

function tableOf(schema: string | null, name: string, ctx: StatementContext): Table {
  const qualified = `${(schema ?? ctx.database ?? '').toLowerCase()}.${name.toLowerCase()}`;
  const table = Object.hasOwn(TABLES, qualified) ? TABLES[qualified] : undefined;
  if (table === undefined) throw sqlError('ER_NO_SUCH_TABLE', schema ?? ctx.database ?? '', name);
  return table;
}

export function select(statement: Extract<Statement, { type: 'select' }>, ctx: StatementContext): Reply {
  const names: string[] = [];
  const rows: Value[][] = [];
  if (statement.from === null) {
    // No table: one row, unless WHERE says otherwise.
    const keep = statement.where === null || test(statement.where, ctx, null) === true;
    const row = statement.items.map((item) => {
      names.push(item.alias ?? item.text);
      return evaluate(item.expr, ctx, null);
    });
    if (keep) rows.push(row);
  } else {
    const table = tableOf(statement.from.schema, statement.from.name, ctx);
    if (table.privilege !== null) requirePrivilege(ctx, table.privilege, 'SELECT');
    const keys = table.columns.map((column) => column.toLowerCase());
    const items = statement.items.flatMap((item) =>
      item.expr.kind === 'star' ? table.columns.map((column) => ({ name: column, expr: { kind: 'column', table: null, name: column } as const })) : [{ name: item.alias ?? item.text, expr: item.expr }],
    );
    names.push(...items.map((item) => item.name));
    for (const values of table.rows(ctx)) {
      const row: Row = Object.fromEntries(keys.map((key, i) => [key, values[i]]));
      if (statement.where !== null && test(statement.where, ctx, row) !== true) continue;
      rows.push(items.map((item) => evaluate(item.expr, ctx, row)));
    }
  }
  return resultSet(ctx, names, statement.limit === null ? rows : rows.slice(0, statement.limit));
}
