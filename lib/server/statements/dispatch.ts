// A COM_QUERY's text to its reply, as sql/sql_parse.cc's mysql_execute_command dispatches: the
// statement parsed, then one handler per statement type from this table; a refusal (a parse
// error, a missing privilege, a failed change) is MySQL's own ERR.
import { mysqlError } from '../../protocol/mysql-errors';
import { buildErr } from '../../protocol/responses';
import { errorCode } from '../../errors';
import { parseStatement } from '../sql/parser';
import { Statement } from '../sql/statements';
import { ParseError, SYNTAX_ERROR_TEXT } from '../sql/syntax-error';
import { SqlError, sqlError } from '../sql-error';
import { alterUser, createUser, dropUser, showCreateUser } from './accounts';
import { ok, Reply, requirePrivilege, resultSet, StatementContext } from './context';
import { grant, revoke, showGrants } from './grants';
import { installPlugin, showPlugins, uninstallPlugin } from './plugins';
import { select } from './select';
import { flushStatus, showStatus } from './status';
import { like, variable } from './values';

// Long statements are cut in the 1235 message, as MySQL cuts them in its own messages.
const MAX_QUOTED_STATEMENT = 64;

type Handlers = { [T in Statement['type']]: (statement: Extract<Statement, { type: T }>, ctx: StatementContext) => Reply | Promise<Reply> };

const handlers: Handlers = {
  'create-user': createUser,
  'alter-user': alterUser,
  'drop-user': dropUser,
  'show-create-user': showCreateUser,
  'install-plugin': installPlugin,
  'uninstall-plugin': uninstallPlugin,
  'show-plugins': showPlugins,
  select,
  grant,
  revoke,
  'show-grants': showGrants,
  // The session's character set and variables are the server's: a SET of one that exists is taken.
  'set-names': () => ok(),
  set: (statement, ctx) => {
    for (const assignment of statement.assignments) variable(ctx, assignment.name);
    return ok();
  },
  'show-variables': ({ like: pattern }, ctx) => {
    const rows = Object.entries(ctx.variables)
      .filter(([name]) => pattern === null || like(name, pattern))
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return resultSet(ctx, ['Variable_name', 'Value'], rows.map(([name, value]) => [name, value === null ? '' : String(value)]));
  },
  'show-status': showStatus,
  // Every change is already in effect and durable.
  'flush-privileges': () => ok(),
  'flush-status': flushStatus,
  shutdown: (_statement, ctx) => {
    requirePrivilege(ctx, null, 'SHUTDOWN');
    if (!ctx.requestShutdown()) throw sqlError('ER_NOT_SUPPORTED_YET', 'SHUTDOWN');
    return ok();
  },
  empty: () => {
    throw sqlError('ER_EMPTY_QUERY');
  },
  unsupported: ({ text }) => {
    throw sqlError('ER_NOT_SUPPORTED_YET', text.length > MAX_QUOTED_STATEMENT ? `${text.slice(0, MAX_QUOTED_STATEMENT)}...` : text);
  },
};

/** Runs one statement; resolves with the payloads that answer it, an ERR for any refusal. */
export async function execute(sql: string, ctx: StatementContext): Promise<Reply> {
  try {
    const statement = parseStatement(sql);
    return await (handlers[statement.type] as (statement: Statement, ctx: StatementContext) => Reply | Promise<Reply>)(statement, ctx);
  } catch (error) {
    if (error instanceof SqlError) return [buildErr(error.err)];
    if (errorCode(error) === 'ERR_PARSE') {
      const { near, line } = error as ParseError;
      return [buildErr(mysqlError('ER_PARSE_ERROR', SYNTAX_ERROR_TEXT, near, String(line)))];
    }
    throw error;
  }
}
