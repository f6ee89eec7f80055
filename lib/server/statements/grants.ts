// GRANT, REVOKE and SHOW GRANTS for the global privileges this server checks (ALL, CREATE USER,
// the grant option), as sql/auth/sql_authorization.cc handles them at the *.* level. A grantor
// must hold what it grants, and the grant option.
import { Privilege } from '../catalog/accounts';
import { Statement } from '../sql/statements';
import { sqlError } from '../sql-error';
import { backquoted } from './accounts';
import { currentAccount, isOwnAccount, ok, Reply, requirePrivilege, resultSet, StatementContext } from './context';

type Of<T extends Statement['type']> = Extract<Statement, { type: T }>;

// A grantor holds what it grants (or revokes), and the grant option.
function requireGrantRights(ctx: StatementContext, privileges: readonly Privilege[]): void {
  for (const privilege of privileges) requirePrivilege(ctx, privilege, privilege === 'ALL' ? 'ALL PRIVILEGES' : privilege);
  if (currentAccount(ctx)?.grantOption !== true) throw sqlError('ER_SPECIFIC_ACCESS_DENIED_ERROR', 'GRANT OPTION');
}

export async function grant(statement: Of<'grant'>, ctx: StatementContext): Promise<Reply> {
  await ctx.catalog.change(() => {
    requireGrantRights(ctx, statement.privileges);
    for (const { user, host } of statement.to) {
      const account = ctx.catalog.accounts.get(user, host);
      // MySQL 8 no longer creates an account by GRANT.
      if (account === null) throw sqlError('ER_CANT_CREATE_USER_WITH_GRANT');
      const privileges = new Set<Privilege>([...account.privileges, ...statement.privileges]);
      ctx.catalog.accounts.setPrivileges(user, host, [...privileges], account.grantOption || statement.withGrantOption);
    }
  });
  return ok();
}

export async function revoke(statement: Of<'revoke'>, ctx: StatementContext): Promise<Reply> {
  await ctx.catalog.change(() => {
    requireGrantRights(ctx, statement.privileges);
    for (const { user, host } of statement.from) {
      const account = ctx.catalog.accounts.get(user, host);
      if (account === null) throw sqlError('ER_NONEXISTING_GRANT', user, host);
      const all = statement.privileges.includes('ALL');
      // ALL less one privilege is a set this server cannot name: refused rather than guessed.
      if (!all && account.privileges.includes('ALL') && statement.privileges.length > 0) {
        throw sqlError('ER_NOT_SUPPORTED_YET', 'REVOKE of one privilege from an account holding ALL');
      }
      const privileges = all ? [] : account.privileges.filter((privilege) => !statement.privileges.includes(privilege));
      ctx.catalog.accounts.setPrivileges(user, host, privileges, account.grantOption && !statement.grantOption);
    }
  });
  return ok();
}

export function showGrants(statement: Of<'show-grants'>, ctx: StatementContext): Reply {
  const { user, host } = statement.account ?? ctx.connection.account;
  if (!isOwnAccount(ctx, user, host)) requirePrivilege(ctx, 'CREATE USER', 'CREATE USER');
  const account = ctx.catalog.accounts.get(user, host);
  if (account === null) throw sqlError('ER_NONEXISTING_GRANT', user, host);
  const what = account.privileges.includes('ALL') ? 'ALL PRIVILEGES' : account.privileges.includes('CREATE USER') ? 'CREATE USER' : 'USAGE';
  const line = `GRANT ${what} ON *.* TO ${backquoted(account.user, account.host)}${account.grantOption ? ' WITH GRANT OPTION' : ''}`;
  return resultSet(ctx, [`Grants for ${account.user}@${account.host}`], [[line]]);
}
