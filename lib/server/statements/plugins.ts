// INSTALL PLUGIN, UNINSTALL PLUGIN and SHOW PLUGINS (sql/sql_plugin.cc, sql/sql_show.cc). Plugin
// statements need ALL (MySQL: INSERT and DELETE on mysql.plugin); the mysql.plugin row is made
// durable before the OK, so an installed plugin loads at every later start.
import { Statement } from '../sql/statements';
import { ok, Reply, requirePrivilege, resultSet, StatementContext } from './context';
import { pluginRows } from './select';

type Of<T extends Statement['type']> = Extract<Statement, { type: T }>;

export async function installPlugin(statement: Of<'install-plugin'>, ctx: StatementContext): Promise<Reply> {
  await ctx.catalog.change(() => {
    requirePrivilege(ctx, null, 'SUPER');
    ctx.catalog.plugins.install(statement.name, statement.soname);
  });
  return ok();
}

export async function uninstallPlugin(statement: Of<'uninstall-plugin'>, ctx: StatementContext): Promise<Reply> {
  await ctx.catalog.change(() => {
    requirePrivilege(ctx, null, 'SUPER');
    return ctx.catalog.dropUnloadable(statement.name) || ctx.catalog.plugins.uninstall(statement.name);
  });
  return ok();
}

export function showPlugins(_statement: Of<'show-plugins'>, ctx: StatementContext): Reply {
  // Name, Status, Type, Library, License: the PLUGINS columns SHOW PLUGINS shows.
  const rows = pluginRows(ctx).map((row) => [row[0], row[2], row[3], row[5], row[9]]);
  return resultSet(ctx, ['Name', 'Status', 'Type', 'Library', 'License'], rows);
}
