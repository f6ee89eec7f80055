// The statements this server answers, as typed values: what server/sql/parser.ts makes of a
// COM_QUERY's text and server/statements/ executes. MySQL's own grammar (sql/sql_yacc.yy) for
// the account-management, plugin and informational statements of the auth_socket manual page.

/** 'user'@'host'; a host left out is '%', and the host is lower-cased, as in MySQL. */
export interface AccountName {
  user: string;
  host: string;
}

/** One method of an IDENTIFIED clause. */
export type AuthMethodOption =
  /** WITH plugin [AS 'auth_string'] (MariaDB: VIA plugin [USING 'auth_string']) */
  | { kind: 'plugin'; plugin: string; authString: string | null }
  /** WITH plugin BY 'password' (MariaDB: VIA plugin USING PASSWORD('password')) */
  | { kind: 'plugin-password'; plugin: string; password: string };

/** An IDENTIFIED clause. */
export type AuthOption =
  | AuthMethodOption
  /** IDENTIFIED BY 'password' (the account's current plugin, or the default one) */
  | { kind: 'password'; password: string }
  /** MariaDB's IDENTIFIED VIA method OR method ...: tried in order at login (two or more) */
  | { kind: 'or'; methods: AuthMethodOption[] };

export interface UserSpec {
  account: AccountName;
  auth: AuthOption | null;
}

export type Expr =
  | { kind: 'literal'; value: string | number | null }
  /** @@name, @@global.name, @@session.name (scope null when unqualified); name lower-cased */
  | { kind: 'variable'; scope: 'global' | 'session' | null; name: string }
  /** A function call: VERSION(), USER(), CURRENT_USER() (also written without parentheses), ...; name upper-cased */
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'column'; table: string | null; name: string }
  | { kind: 'star' };

export interface SelectItem {
  expr: Expr;
  /** AS alias, or null. */
  alias: string | null;
  /** The item as written (MySQL names an unaliased column after its text). */
  text: string;
}

export type Condition =
  | { kind: 'compare'; op: '=' | '<>' | 'LIKE' | 'NOT LIKE'; left: Expr; right: Expr }
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  | { kind: 'not'; operand: Condition };

export interface TableName {
  /** As written; compare case-insensitively (INFORMATION_SCHEMA, mysql). */
  schema: string | null;
  name: string;
}

export type Privilege = 'ALL' | 'CREATE USER';

export type Statement =
  /** attribute: ATTRIBUTE's JSON text as written, COMMENT 'text' as {"comment": text}, or null (the clause comes last, as in MySQL 8.0.21) */
  | { type: 'create-user'; ifNotExists: boolean; users: UserSpec[]; attribute: string | null }
  | { type: 'alter-user'; ifExists: boolean; users: UserSpec[]; attribute: string | null }
  | { type: 'drop-user'; ifExists: boolean; accounts: AccountName[] }
  /** SHOW CREATE USER account | CURRENT_USER | CURRENT_USER() */
  | { type: 'show-create-user'; account: AccountName | null }
  | { type: 'install-plugin'; name: string; soname: string }
  | { type: 'uninstall-plugin'; name: string }
  | { type: 'show-plugins' }
  /** SELECT items [FROM table] [WHERE condition] [LIMIT n] (FROM DUAL: from null) */
  | { type: 'select'; items: SelectItem[]; from: TableName | null; where: Condition | null; limit: number | null }
  | { type: 'grant'; privileges: Privilege[]; to: AccountName[]; withGrantOption: boolean }
  /** REVOKE privileges [, GRANT OPTION] ON *.* FROM ..., or REVOKE ALL [PRIVILEGES], GRANT OPTION FROM ... */
  | { type: 'revoke'; privileges: Privilege[]; grantOption: boolean; from: AccountName[] }
  /** SHOW GRANTS [FOR account] (null: the current account) */
  | { type: 'show-grants'; account: AccountName | null }
  /** SET NAMES charset [COLLATE collation] */
  | { type: 'set-names'; charset: string; collation: string | null }
  /**
   * SET [SESSION|GLOBAL|@@...] name = value [, ...]; name lower-cased. A bare name takes the last
   * GLOBAL/SESSION keyword before it, as in MySQL; a bare word value (OFF, ON, ...) is that string.
   */
  | { type: 'set'; assignments: Array<{ scope: 'global' | 'session' | null; name: string; value: Expr }> }
  /** SHOW [SESSION|GLOBAL] VARIABLES [LIKE 'pattern'] */
  | { type: 'show-variables'; like: string | null }
  /** SHOW [SESSION|GLOBAL] STATUS [LIKE 'pattern'] */
  | { type: 'show-status'; like: string | null }
  | { type: 'flush-privileges' }
  /** FLUSH [NO_WRITE_TO_BINLOG | LOCAL] STATUS */
  | { type: 'flush-status' }
  | { type: 'shutdown' }
  /** Nothing but comments, whitespace or ';': MySQL answers 1065 (ER_EMPTY_QUERY). */
  | { type: 'empty' }
  /** MySQL syntax outside this grammar (other statements, clauses, operators): answered with 1235. */
  | { type: 'unsupported'; text: string };
