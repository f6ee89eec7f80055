// CREATE USER, ALTER USER, DROP USER and SHOW CREATE USER (sql/auth/sql_user.cc): each statement
// all or nothing, MySQL's 1396 naming every account it failed for, the change durable before
// its OK. An account's plugin must be loaded when it is named (1524), as in MySQL. ATTRIBUTE and
// COMMENT merge into each account's attributes (statements/attributes.ts). MariaDB's OR chains
// (IDENTIFIED VIA a OR b) are kept whole and shown in MariaDB's form (sql_acl.cc's
// mysql_show_create_user), as are unix_socket accounts.
import { Account, AccountSpec, AuthMethod, AuthMethodSpec, methodsOf, takesPassword } from '../catalog/accounts';
import { AccountName, AuthMethodOption, Statement, UserSpec } from '../sql/statements';
import { SqlError, sqlError } from '../sql-error';
import { mergedAttributes, shownAttributes } from './attributes';
import { holds, isOwnAccount, ok, quotedAccount, Reply, requirePrivilege, resultSet, SECRET, StatementContext } from './context';

/** MySQL 8's default_authentication_plugin: the plugin of an account created with none named. */
const DEFAULT_PLUGIN = 'caching_sha2_password';

type Of<T extends Statement['type']> = Extract<Statement, { type: T }>;

// The plugin's own name for it; 1524 when no such plugin is loaded.
function loadedPlugin(ctx: StatementContext, name: string): string {
  const plugin = ctx.catalog.plugins.get(name);
  if (plugin === undefined) throw sqlError('ER_PLUGIN_IS_NOT_LOADED', name);
  return plugin.name;
}

// A method as named in an IDENTIFIED clause.
function namedMethod(ctx: StatementContext, auth: AuthMethodOption): AuthMethodSpec {
  const plugin = loadedPlugin(ctx, auth.plugin);
  return auth.kind === 'plugin-password' ? { plugin, password: auth.password } : { plugin, authenticationString: auth.authString ?? '' };
}

// IDENTIFIED BY 'password' over the methods kept: as MariaDB's SET PASSWORD, every one whose
// plugin hashes passwords takes it; with none, the first is given it (and refuses it).
function withPassword(ctx: StatementContext, kept: readonly AuthMethodSpec[], password: string): AuthMethodSpec[] {
  const any = kept.some((method) => takesPassword(method.plugin));
  return kept.map((method, i) =>
    takesPassword(method.plugin) || (!any && i === 0) ? { plugin: loadedPlugin(ctx, method.plugin), password } : method,
  );
}

const chained = ([first, ...or]: AuthMethodSpec[]): AuthMethodSpec & { or?: AuthMethodSpec[] } => (or.length > 0 ? { ...first, or } : first);

// The account row a CREATE or ALTER makes of `spec`; `kept` are the methods it keeps when none
// is named: the account's own (ALTER), or the default plugin (CREATE).
function rowOf(ctx: StatementContext, { account: { user, host }, auth }: UserSpec, kept: readonly AuthMethodSpec[]): AccountSpec {
  if (auth === null) return { user, host, plugin: loadedPlugin(ctx, kept[0].plugin) };
  if (auth.kind === 'password') return { user, host, ...chained(withPassword(ctx, kept, auth.password)) };
  return { user, host, ...chained((auth.kind === 'or' ? auth.methods : [auth]).map((method) => namedMethod(ctx, method))) };
}

// Runs `each` for every account of the statement, and fails the whole statement (undone by the
// catalog) with 1396 naming the accounts it failed for. A SqlError of its own (1524) stands.
function forEachAccount<T extends { account: AccountName } | AccountName>(operation: string, items: readonly T[], each: (item: T) => boolean): void {
  const failed: string[] = [];
  for (const item of items) {
    let done: boolean;
    try {
      done = each(item);
    } catch (error) {
      if (error instanceof SqlError) throw error;
      done = false;
    }
    const { user, host } = 'account' in item ? item.account : item;
    if (!done) failed.push(quotedAccount(user, host));
  }
  if (failed.length > 0) throw sqlError('ER_CANNOT_USER', operation, failed.join(','));
}

// As MySQL's SYSTEM_USER: an account holding ALL, or able to grant, is managed only by one holding ALL.
function requireRightsOver(ctx: StatementContext, user: string, host: string): void {
  const target = ctx.catalog.accounts.get(user, host);
  if (target !== null && (target.privileges.includes('ALL') || target.grantOption)) requirePrivilege(ctx, null, 'SYSTEM_USER');
}

export async function createUser(statement: Of<'create-user'>, ctx: StatementContext): Promise<Reply> {
  await ctx.catalog.change(() => {
    requirePrivilege(ctx, 'CREATE USER', 'CREATE USER');
    const attributes = statement.attribute === null ? null : mergedAttributes(null, statement.attribute);
    forEachAccount('CREATE USER', statement.users, (spec) => {
      if (ctx.catalog.accounts.get(spec.account.user, spec.account.host) !== null) return statement.ifNotExists;
      ctx.catalog.accounts.create({ ...rowOf(ctx, spec, [{ plugin: DEFAULT_PLUGIN }]), attributes });
      return true;
    });
  });
  return ok();
}

export async function alterUser(statement: Of<'alter-user'>, ctx: StatementContext): Promise<Reply> {
  await ctx.catalog.change(() => {
    requirePrivilege(ctx, 'CREATE USER', 'CREATE USER');
    for (const { account } of statement.users) requireRightsOver(ctx, account.user, account.host);
    forEachAccount('ALTER USER', statement.users, (spec) => {
      const current = ctx.catalog.accounts.get(spec.account.user, spec.account.host);
      if (current === null) return statement.ifExists;
      if (spec.auth === null && statement.attribute === null) return true;
      // Without IDENTIFIED the plugin and its string stay; without ATTRIBUTE the attributes do.
      const row: AccountSpec = spec.auth === null ? { ...current } : rowOf(ctx, spec, methodsOf(current));
      if (statement.attribute !== null) row.attributes = mergedAttributes(current.attributes, statement.attribute);
      ctx.catalog.accounts.alter(row);
      return true;
    });
  });
  return ok();
}

export async function dropUser(statement: Of<'drop-user'>, ctx: StatementContext): Promise<Reply> {
  await ctx.catalog.change(() => {
    requirePrivilege(ctx, 'CREATE USER', 'CREATE USER');
    for (const { user, host } of statement.accounts) requireRightsOver(ctx, user, host);
    forEachAccount('DROP USER', statement.accounts, ({ user, host }) => {
      if (ctx.catalog.accounts.get(user, host) === null) return statement.ifExists;
      ctx.catalog.accounts.drop(user, host);
      return true;
    });
  });
  return ok();
}

/** `account` as SHOW statements print one: back-quoted, a back-quote doubled. */
export const backquoted = (user: string, host: string): string => `\`${user.replace(/`/g, '``')}\`@\`${host.replace(/`/g, '``')}\``;

/** A string literal as SHOW statements print one: quoted, a quote or backslash escaped. */
const quoted = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

// An authentication string as MySQL 8 prints it: quoted, or as hex when not printable (hashes).
function authStringLiteral(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return quoted(value);
  return `0x${Buffer.from(value, 'latin1').toString('hex').toUpperCase()}`;
}

// MariaDB's IDENTIFIED clause: VIA plugin [USING 'string'] [OR ...].
function mariadbIdentified(methods: readonly AuthMethod[], shown: (value: string) => string): string {
  return `IDENTIFIED VIA ${methods.map(({ plugin, authenticationString }) => (authenticationString === '' ? plugin : `${plugin} USING ${shown(authenticationString)}`)).join(' OR ')}`;
}

export function showCreateUser(statement: Of<'show-create-user'>, ctx: StatementContext): Reply {
  const { user, host } = statement.account ?? ctx.connection.account;
  if (!isOwnAccount(ctx, user, host)) {
    requirePrivilege(ctx, 'CREATE USER', 'CREATE USER');
    requireRightsOver(ctx, user, host);
  }
  const account: Account | null = ctx.catalog.accounts.get(user, host);
  if (account === null) throw sqlError('ER_CANNOT_USER', 'SHOW CREATE USER', quotedAccount(user, host));
  // As MySQL 8: without the right to read mysql.user, a stored string is shown as <secret>.
  const shown = (value: string) => (holds(ctx, 'CREATE USER') ? authStringLiteral(value) : quoted(SECRET));
  // As MySQL 8.0.21: the attributes last, the secret ones masked whoever asks.
  const attributes = shownAttributes(account.attributes);
  const identified =
    account.or.length > 0 || account.plugin === 'unix_socket'
      ? mariadbIdentified(methodsOf(account), shown)
      : `IDENTIFIED WITH '${account.plugin}'${account.authenticationString === '' ? '' : ` AS ${shown(account.authenticationString)}`} REQUIRE NONE ` +
        'PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK PASSWORD HISTORY DEFAULT PASSWORD REUSE INTERVAL DEFAULT PASSWORD REQUIRE CURRENT DEFAULT';
  const text = `CREATE USER ${backquoted(account.user, account.host)} ${identified}${attributes === null ? '' : ` ATTRIBUTE ${quoted(attributes)}`}`;
  return resultSet(ctx, [`CREATE USER for ${account.user}@${account.host}`], [[text]]);
}
