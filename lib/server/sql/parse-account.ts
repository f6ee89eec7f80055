// The account statements (sql_yacc.yy create_user_stmt, alter_user_stmt, drop_user_stmt,
// show_create_user_stmt, grant, revoke, SHOW GRANTS): user names as MySQL's `user` rule reads
// them, IDENTIFIED clauses (MariaDB's VIA / USING as synonyms of WITH / AS, its OR chains and
// USING PASSWORD('pw'), sql_yacc.yy's auth_expression), and the global
// privileges this server knows. Account options it does not keep (REQUIRE, resource limits,
// password and lock options, roles) are UNSUPPORTED rather than silently dropped.
import type { Cursor } from './cursor';
import type { AccountName, AuthMethodOption, AuthOption, Privilege, Statement, UserSpec } from './statements';

/** user: name_or_string ['@' host]; host '%' when left out, lower-cased as MySQL stores it. */
export function account(cursor: Cursor): AccountName {
  if (cursor.atWord('CURRENT_USER')) cursor.unsupported();
  if (cursor.atWord('USER') && cursor.peek(1).kind === 'punct' && cursor.peek(1).value === '(') cursor.unsupported();
  const user = cursor.nameOrString();
  if (!cursor.acceptPunct('@')) return { user, host: '%' };
  const host = cursor.peek().kind === 'hostname' ? cursor.next().value : cursor.nameOrString();
  return { user, host: host.toLowerCase() };
}

/** An account, or CURRENT_USER [()] (null). */
function accountOrCurrent(cursor: Cursor): AccountName | null {
  if (!cursor.acceptWord('CURRENT_USER')) return account(cursor);
  if (cursor.acceptPunct('(')) cursor.expectPunct(')');
  return null;
}

function accounts(cursor: Cursor): AccountName[] {
  const list: AccountName[] = [];
  do list.push(account(cursor));
  while (cursor.acceptPunct(','));
  return list;
}

/** auth_token: plugin [BY 'pw' | {AS | USING} 'string' | {AS | USING} PASSWORD('pw')]. */
function authMethod(cursor: Cursor): AuthMethodOption {
  const plugin = cursor.nameOrString();
  if (cursor.acceptWord('BY')) {
    if (cursor.atWord('RANDOM')) cursor.unsupported();
    return { kind: 'plugin-password', plugin, password: cursor.string() };
  }
  if (!cursor.acceptWord('AS') && !cursor.acceptWord('USING')) return { kind: 'plugin', plugin, authString: null };
  // PASSWORD('pw') is MariaDB's: the plugin's hash of pw.
  if (!cursor.acceptWord('PASSWORD')) return { kind: 'plugin', plugin, authString: cursor.string() };
  cursor.expectPunct('(');
  const password = cursor.string();
  cursor.expectPunct(')');
  return { kind: 'plugin-password', plugin, password };
}

/** IDENTIFIED BY 'pw' | IDENTIFIED {WITH | VIA} auth_token [OR auth_token]..., or none. */
function authOption(cursor: Cursor): AuthOption | null {
  if (!cursor.acceptWord('IDENTIFIED')) return null;
  if (cursor.acceptWord('BY')) {
    // BY RANDOM PASSWORD (MySQL), BY PASSWORD 'hash' (MySQL 5.7, MariaDB).
    if (cursor.atWord('RANDOM', 'PASSWORD')) cursor.unsupported();
    return { kind: 'password', password: cursor.string() };
  }
  if (!cursor.acceptWord('WITH') && !cursor.acceptWord('VIA')) return cursor.fail();
  const methods = [authMethod(cursor)];
  while (cursor.acceptWord('OR')) methods.push(authMethod(cursor));
  // MySQL's multifactor AND / INITIAL AUTHENTICATION.
  if (cursor.atWord('AND', 'INITIAL')) cursor.unsupported();
  return methods.length === 1 ? methods[0] : { kind: 'or', methods };
}

function userSpecs(cursor: Cursor): UserSpec[] {
  const specs: UserSpec[] = [];
  do specs.push({ account: account(cursor), auth: authOption(cursor) });
  while (cursor.acceptPunct(','));
  return specs;
}

/** IF NOT EXISTS (create) / IF EXISTS (alter, drop). */
function ifClause(cursor: Cursor, not: boolean): boolean {
  if (!cursor.acceptWord('IF')) return false;
  if (not) cursor.expectWord('NOT');
  cursor.expectWord('EXISTS');
  return true;
}

/** The options after the users: ATTRIBUTE 'json' or COMMENT 'text' (stored as {"comment": text}, as MySQL does). */
function attribute(cursor: Cursor): string | null {
  if (cursor.atWord('DEFAULT', 'REQUIRE', 'WITH', 'PASSWORD', 'ACCOUNT', 'FAILED_LOGIN_ATTEMPTS', 'PASSWORD_LOCK_TIME', 'REPLACE', 'RETAIN', 'DISCARD')) {
    cursor.unsupported();
  }
  if (cursor.acceptWord('ATTRIBUTE')) return cursor.string();
  if (cursor.acceptWord('COMMENT')) return JSON.stringify({ comment: cursor.string() });
  return null;
}

/** After CREATE USER. */
export function parseCreateUser(cursor: Cursor): Statement {
  const ifNotExists = ifClause(cursor, true);
  const users = userSpecs(cursor);
  const attr = attribute(cursor);
  cursor.end();
  return { type: 'create-user', ifNotExists, users, attribute: attr };
}

/** After ALTER USER. */
export function parseAlterUser(cursor: Cursor): Statement {
  const ifExists = ifClause(cursor, false);
  const users = userSpecs(cursor);
  const attr = attribute(cursor);
  cursor.end();
  return { type: 'alter-user', ifExists, users, attribute: attr };
}

/** After DROP USER. */
export function parseDropUser(cursor: Cursor): Statement {
  const ifExists = ifClause(cursor, false);
  const list = accounts(cursor);
  cursor.end();
  return { type: 'drop-user', ifExists, accounts: list };
}

/** After SHOW CREATE USER. */
export function parseShowCreateUser(cursor: Cursor): Statement {
  const target = accountOrCurrent(cursor);
  cursor.end();
  return { type: 'show-create-user', account: target };
}

/** After SHOW GRANTS: [FOR account | CURRENT_USER [()]]. */
export function parseShowGrants(cursor: Cursor): Statement {
  const target = cursor.acceptWord('FOR') ? accountOrCurrent(cursor) : null;
  if (cursor.atWord('USING')) cursor.unsupported(); // USING role
  cursor.end();
  return { type: 'show-grants', account: target };
}

/** ON *.*: other levels (a schema, a table, a routine) are MySQL's, not this server's. */
function onGlobal(cursor: Cursor): void {
  cursor.expectWord('ON');
  if (cursor.acceptPunct('*')) {
    if (!cursor.acceptPunct('.')) cursor.unsupported();
    cursor.expectPunct('*');
    return;
  }
  if (cursor.atName() || cursor.atWord('TABLE', 'FUNCTION', 'PROCEDURE')) cursor.unsupported();
  cursor.fail();
}

/** priv [, priv] ...: CREATE USER and GRANT OPTION; any other privilege (or a role) is unsupported. */
function privilegeList(cursor: Cursor): { privileges: Privilege[]; grantOption: boolean } {
  const privileges: Privilege[] = [];
  let grantOption = false;
  do {
    if (cursor.acceptWord('GRANT')) {
      cursor.expectWord('OPTION');
      grantOption = true;
    } else if (cursor.atWord('CREATE') && cursor.isWord(cursor.peek(1), 'USER')) {
      cursor.next();
      cursor.next();
      if (!privileges.includes('CREATE USER')) privileges.push('CREATE USER');
    } else if (cursor.peek().kind === 'word' || cursor.peek().kind === 'ident' || cursor.peek().kind === 'string') {
      cursor.unsupported();
    } else {
      cursor.fail();
    }
  } while (cursor.acceptPunct(','));
  return { privileges, grantOption };
}

/** After GRANT: {ALL [PRIVILEGES] | priv_list} ON *.* TO users [WITH GRANT OPTION]. */
export function parseGrant(cursor: Cursor): Statement {
  let list: { privileges: Privilege[]; grantOption: boolean };
  if (cursor.acceptWord('ALL')) {
    cursor.acceptWord('PRIVILEGES');
    list = { privileges: ['ALL'], grantOption: false };
  } else {
    list = privilegeList(cursor);
  }
  onGlobal(cursor);
  cursor.expectWord('TO');
  const to = accounts(cursor);
  let withGrantOption = list.grantOption;
  if (cursor.acceptWord('WITH')) {
    // WITH MAX_QUERIES_PER_HOUR ... (MySQL 5.7, MariaDB), WITH ADMIN OPTION (roles).
    if (cursor.atName()) cursor.unsupported();
    cursor.expectWord('GRANT');
    cursor.expectWord('OPTION');
    withGrantOption = true;
  }
  if (cursor.atWord('REQUIRE', 'AS')) cursor.unsupported();
  cursor.end();
  return { type: 'grant', privileges: list.privileges, to, withGrantOption };
}

/** After REVOKE: priv_list ON *.* FROM users, or ALL [PRIVILEGES], GRANT OPTION FROM users. */
export function parseRevoke(cursor: Cursor): Statement {
  if (cursor.atWord('IF')) cursor.unsupported(); // REVOKE IF EXISTS (MySQL 8.0.30)
  let list: { privileges: Privilege[]; grantOption: boolean };
  if (cursor.acceptWord('ALL')) {
    cursor.acceptWord('PRIVILEGES');
    if (cursor.acceptPunct(',')) {
      cursor.expectWord('GRANT');
      cursor.expectWord('OPTION');
      cursor.expectWord('FROM');
      const from = accounts(cursor);
      if (cursor.atWord('IGNORE')) cursor.unsupported();
      cursor.end();
      return { type: 'revoke', privileges: ['ALL'], grantOption: true, from };
    }
    list = { privileges: ['ALL'], grantOption: false };
  } else {
    list = privilegeList(cursor);
  }
  onGlobal(cursor);
  cursor.expectWord('FROM');
  const from = accounts(cursor);
  if (cursor.atWord('IGNORE')) cursor.unsupported(); // IGNORE UNKNOWN USER
  cursor.end();
  return { type: 'revoke', privileges: list.privileges, grantOption: list.grantOption, from };
}
