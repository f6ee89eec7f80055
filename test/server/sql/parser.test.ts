// parseStatement(): the auth_socket manual page's statements verbatim, every statement form the
// server answers, MySQL's quoting and comments, 1064 messages (checked against a private MariaDB
// where MySQL and MariaDB agree), 'unsupported', and random input that only ever ends in ERR_PARSE.
import fs from 'fs';
import path from 'path';
import fc from 'fast-check';
import { parseStatement, MAX_STATEMENT_LENGTH } from '../../../lib/server/sql/parser';
import type { ParseError } from '../../../lib/server/sql/syntax-error';
import type { Statement } from '../../../lib/server/sql/statements';
import { startMariadb, type MariadbInstance } from '../../helpers/mariadb';

// The seed document (the MySQL manual's auth_socket page) sits beside the repository where it is
// developed, not in every checkout: its wording is checked when it is there; the statements below
// are that page's, as written, either way.
const SEED_FILE = path.join(__dirname, '../../../../shared/reference/seed-auth-socket-plugin.txt');
const SEED = fs.existsSync(SEED_FILE) ? fs.readFileSync(SEED_FILE, 'utf8') : null;
const SYNTAX = 'You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use';

function parseError(text: string): ParseError {
  try {
    parseStatement(text);
  } catch (error) {
    return error as ParseError;
  }
  throw new Error(`parsed: ${text}`);
}

const near = (text: string) => {
  const error = parseError(text);
  expect(error.code).toBe('ERR_PARSE');
  expect(error.message).toBe(`${SYNTAX} near '${error.near}' at line ${error.line}`);
  return [error.near, error.line];
};

const account = (user: string, host = '%') => ({ user, host });
const lit = (value: string | number | null) => ({ kind: 'literal', value });
const col = (name: string, table: string | null = null) => ({ kind: 'column', table, name });
const call = (name: string, ...args: unknown[]) => ({ kind: 'call', name, args });
const sysvar = (name: string, scope: string | null = null) => ({ kind: 'variable', scope, name });

describe('the manual page, verbatim', () => {
  const verbatim = (statement: string) => {
    if (SEED !== null) expect(SEED).toContain(statement);
    return parseStatement(statement);
  };

  it('INSTALL PLUGIN and UNINSTALL PLUGIN', () => {
    expect(verbatim("INSTALL PLUGIN auth_socket SONAME 'auth_socket.so';")).toEqual({ type: 'install-plugin', name: 'auth_socket', soname: 'auth_socket.so' });
    expect(verbatim('UNINSTALL PLUGIN auth_socket;')).toEqual({ type: 'uninstall-plugin', name: 'auth_socket' });
    if (SEED !== null) expect(SEED).toContain('SHOW PLUGINS');
    expect(parseStatement('SHOW PLUGINS')).toEqual({ type: 'show-plugins' });
  });

  it('the INFORMATION_SCHEMA.PLUGINS query, over three lines', () => {
    const query = verbatim("SELECT PLUGIN_NAME, PLUGIN_STATUS\n       FROM INFORMATION_SCHEMA.PLUGINS\n       WHERE PLUGIN_NAME LIKE '%socket%';");
    expect(query).toEqual({
      type: 'select',
      items: [
        { expr: col('PLUGIN_NAME'), alias: null, text: 'PLUGIN_NAME' },
        { expr: col('PLUGIN_STATUS'), alias: null, text: 'PLUGIN_STATUS' },
      ],
      from: { schema: 'INFORMATION_SCHEMA', name: 'PLUGINS' },
      where: { kind: 'compare', op: 'LIKE', left: col('PLUGIN_NAME'), right: lit('%socket%') },
      limit: null,
    });
  });

  it('CREATE USER ... IDENTIFIED WITH auth_socket [AS], and ALTER USER', () => {
    const valerie = account('valerie', 'localhost');
    expect(verbatim("CREATE USER 'valerie'@'localhost' IDENTIFIED WITH auth_socket;")).toEqual({
      type: 'create-user',
      ifNotExists: false,
      users: [{ account: valerie, auth: { kind: 'plugin', plugin: 'auth_socket', authString: null } }],
      attribute: null,
    });
    const as = { kind: 'plugin', plugin: 'auth_socket', authString: 'stephanie' };
    expect(verbatim("CREATE USER 'valerie'@'localhost' IDENTIFIED WITH auth_socket AS 'stephanie';")).toEqual({
      type: 'create-user',
      ifNotExists: false,
      users: [{ account: valerie, auth: as }],
      attribute: null,
    });
    expect(verbatim("ALTER USER 'valerie'@'localhost' IDENTIFIED WITH auth_socket AS 'stephanie';")).toEqual({
      type: 'alter-user',
      ifExists: false,
      users: [{ account: valerie, auth: as }],
      attribute: null,
    });
  });
});

describe('account statements', () => {
  it('reads every user name form; the host defaults to % and is lower-cased', () => {
    const users = (list: string) => (parseStatement(`DROP USER ${list}`) as Extract<Statement, { type: 'drop-user' }>).accounts;
    expect(users("'u'@'h', \"u\"@\"h\", `u`@`h`, u@h, 'u'@localhost, u@192.168.0.1, `a``b`@'%', u, 'u', '', user@'LOCALHOST'")).toEqual([
      account('u', 'h'),
      account('u', 'h'),
      account('u', 'h'),
      account('u', 'h'),
      account('u', 'localhost'),
      account('u', '192.168.0.1'),
      account('a`b', '%'),
      account('u'),
      account('u'),
      account(''),
      account('user', 'localhost'),
    ]);
    // A space before '@' is allowed; after it, MySQL's lexer reads an empty host name first.
    expect(users("'u' @'h'")).toEqual([account('u', 'h')]);
    expect(near("DROP USER 'u' @ 'h'")).toEqual(["'h'", 1]);
  });

  it('reads every IDENTIFIED form, MariaDB VIA / USING included, with quoted or bare plugin names', () => {
    const auth = (clause: string) =>
      (parseStatement(`CREATE USER u ${clause}`) as Extract<Statement, { type: 'create-user' }>).users[0].auth;
    expect(auth('')).toBeNull();
    expect(auth("IDENTIFIED BY 'pw'")).toEqual({ kind: 'password', password: 'pw' });
    expect(auth('IDENTIFIED WITH auth_socket')).toEqual({ kind: 'plugin', plugin: 'auth_socket', authString: null });
    expect(auth("IDENTIFIED WITH 'caching_sha2_password' BY 'pw'")).toEqual({ kind: 'plugin-password', plugin: 'caching_sha2_password', password: 'pw' });
    expect(auth("IDENTIFIED WITH `auth_socket` AS 'x'")).toEqual({ kind: 'plugin', plugin: 'auth_socket', authString: 'x' });
    expect(auth("IDENTIFIED WITH \"mysql_native_password\" AS '*ABC'")).toEqual({ kind: 'plugin', plugin: 'mysql_native_password', authString: '*ABC' });
    expect(auth("identified via unix_socket using 'stephanie'")).toEqual({ kind: 'plugin', plugin: 'unix_socket', authString: 'stephanie' });
    expect(auth('IDENTIFIED VIA unix_socket')).toEqual({ kind: 'plugin', plugin: 'unix_socket', authString: null });
  });

  it('takes several users, each with its own IDENTIFIED clause, IF [NOT] EXISTS, ATTRIBUTE and COMMENT', () => {
    expect(parseStatement("create user if not exists a@localhost identified with auth_socket, 'b'@'%' identified by 'x', c ATTRIBUTE '{\"k\": 1}'")).toEqual({
      type: 'create-user',
      ifNotExists: true,
      users: [
        { account: account('a', 'localhost'), auth: { kind: 'plugin', plugin: 'auth_socket', authString: null } },
        { account: account('b', '%'), auth: { kind: 'password', password: 'x' } },
        { account: account('c'), auth: null },
      ],
      attribute: '{"k": 1}',
    });
    expect(parseStatement("ALTER USER IF EXISTS a, b COMMENT 'it''s'")).toEqual({
      type: 'alter-user',
      ifExists: true,
      users: [{ account: account('a'), auth: null }, { account: account('b'), auth: null }],
      attribute: '{"comment":"it\'s"}',
    });
    expect(parseStatement("DROP USER IF EXISTS 'valerie'@'localhost', stephanie@localhost")).toEqual({
      type: 'drop-user',
      ifExists: true,
      accounts: [account('valerie', 'localhost'), account('stephanie', 'localhost')],
    });
  });

  it('ATTRIBUTE / COMMENT: one of them, a quoted string, after the IDENTIFIED clauses (MySQL 8.0.21)', () => {
    const attribute = (text: string) => (parseStatement(text) as Extract<Statement, { type: 'create-user' | 'alter-user' }>).attribute;
    // The JSON is taken as the string literal says, escapes undone; whether it is an object is the statement's business.
    expect(attribute(`CREATE USER u IDENTIFIED WITH auth_socket AS 'x' ATTRIBUTE '{"upstream_user": "app", "n": "a\\\\nb"}'`)).toBe('{"upstream_user": "app", "n": "a\\nb"}');
    expect(attribute("alter user u, v@localhost attribute \"[1]\"")).toBe('[1]');
    expect(attribute("ALTER USER u IDENTIFIED BY 'pw' COMMENT 'say \"hi\"\\n'")).toBe(JSON.stringify({ comment: 'say "hi"\n' }));
    expect(attribute("CREATE USER u COMMENT ''")).toBe('{"comment":""}');
    expect(attribute('CREATE USER u')).toBeNull();
    // A user may be called attribute or comment.
    expect(parseStatement("CREATE USER attribute ATTRIBUTE '{}'")).toMatchObject({ users: [{ account: account('attribute') }], attribute: '{}' });
    // Anything else is MySQL's 1064, at the token its parser stops at.
    expect(near("CREATE USER u ATTRIBUTE '{}' IDENTIFIED BY 'pw'")).toEqual(["IDENTIFIED BY 'pw'", 1]);
    expect(near("CREATE USER u ATTRIBUTE '{}' COMMENT 'c'")).toEqual(["COMMENT 'c'", 1]);
    expect(near("ALTER USER u COMMENT 'a' COMMENT 'b'")).toEqual(["COMMENT 'b'", 1]);
    expect(near('CREATE USER u ATTRIBUTE {}')).toEqual(['{}', 1]);
    expect(near('ALTER USER u ATTRIBUTE')).toEqual(['', 1]);
    expect(near('CREATE USER u COMMENT 42')).toEqual(['42', 1]);
    // The options MySQL puts before it are not this server's.
    expect(parseStatement("CREATE USER u REQUIRE SSL ATTRIBUTE '{}'")).toMatchObject({ type: 'unsupported' });
    expect(parseStatement("ALTER USER u ACCOUNT LOCK COMMENT 'x'")).toMatchObject({ type: 'unsupported' });
  });

  it('SHOW CREATE USER and SHOW GRANTS, for an account or CURRENT_USER [()]', () => {
    expect(parseStatement("SHOW CREATE USER 'valerie'@'localhost'")).toEqual({ type: 'show-create-user', account: account('valerie', 'localhost') });
    expect(parseStatement('show create user current_user')).toEqual({ type: 'show-create-user', account: null });
    expect(parseStatement('SHOW CREATE USER CURRENT_USER()')).toEqual({ type: 'show-create-user', account: null });
    expect(parseStatement('SHOW GRANTS')).toEqual({ type: 'show-grants', account: null });
    expect(parseStatement('SHOW GRANTS FOR CURRENT_USER()')).toEqual({ type: 'show-grants', account: null });
    expect(parseStatement('SHOW GRANTS FOR CURRENT_USER')).toEqual({ type: 'show-grants', account: null });
    expect(parseStatement('show grants for valerie@localhost')).toEqual({ type: 'show-grants', account: account('valerie', 'localhost') });
  });

  it('GRANT and REVOKE of ALL [PRIVILEGES], CREATE USER and GRANT OPTION on *.*', () => {
    expect(parseStatement('GRANT ALL PRIVILEGES ON *.* TO a@localhost, b WITH GRANT OPTION')).toEqual({
      type: 'grant',
      privileges: ['ALL'],
      to: [account('a', 'localhost'), account('b')],
      withGrantOption: true,
    });
    expect(parseStatement("grant all on *.* to 'a'")).toEqual({ type: 'grant', privileges: ['ALL'], to: [account('a')], withGrantOption: false });
    expect(parseStatement('GRANT CREATE USER ON *.* TO a')).toEqual({ type: 'grant', privileges: ['CREATE USER'], to: [account('a')], withGrantOption: false });
    expect(parseStatement('GRANT CREATE USER, GRANT OPTION ON *.* TO a')).toEqual({ type: 'grant', privileges: ['CREATE USER'], to: [account('a')], withGrantOption: true });
    expect(parseStatement('REVOKE ALL PRIVILEGES ON *.* FROM a')).toEqual({ type: 'revoke', privileges: ['ALL'], grantOption: false, from: [account('a')] });
    expect(parseStatement('REVOKE ALL ON *.* FROM a, b@h')).toEqual({ type: 'revoke', privileges: ['ALL'], grantOption: false, from: [account('a'), account('b', 'h')] });
    expect(parseStatement('REVOKE ALL PRIVILEGES, GRANT OPTION FROM a')).toEqual({ type: 'revoke', privileges: ['ALL'], grantOption: true, from: [account('a')] });
    expect(parseStatement('revoke all, grant option from a')).toEqual({ type: 'revoke', privileges: ['ALL'], grantOption: true, from: [account('a')] });
    expect(parseStatement('REVOKE CREATE USER ON *.* FROM a')).toEqual({ type: 'revoke', privileges: ['CREATE USER'], grantOption: false, from: [account('a')] });
    expect(parseStatement('REVOKE GRANT OPTION ON *.* FROM a')).toEqual({ type: 'revoke', privileges: [], grantOption: true, from: [account('a')] });
  });
});

describe('SET, FLUSH PRIVILEGES, SHUTDOWN', () => {
  it('SET NAMES [COLLATE]', () => {
    expect(parseStatement('SET NAMES utf8mb4')).toEqual({ type: 'set-names', charset: 'utf8mb4', collation: null });
    expect(parseStatement("set names 'utf8mb4' collate 'utf8mb4_general_ci'")).toEqual({ type: 'set-names', charset: 'utf8mb4', collation: 'utf8mb4_general_ci' });
  });

  it('SET with every scope form; a keyword scope carries to the bare names after it', () => {
    expect(parseStatement('SET autocommit=1')).toEqual({ type: 'set', assignments: [{ scope: null, name: 'autocommit', value: lit(1) }] });
    expect(parseStatement('SET character_set_results = NULL')).toEqual({ type: 'set', assignments: [{ scope: null, name: 'character_set_results', value: lit(null) }] });
    expect(parseStatement("SET GLOBAL a = 'x', b := 2, SESSION c = ON, LOCAL d = off, @@e = @@global.f, @@global.G = -1, @@SESSION.h = TRUE")).toEqual({
      type: 'set',
      assignments: [
        { scope: 'global', name: 'a', value: lit('x') },
        { scope: 'global', name: 'b', value: lit(2) },
        { scope: 'session', name: 'c', value: lit('ON') },
        { scope: 'session', name: 'd', value: lit('off') },
        { scope: null, name: 'e', value: sysvar('f', 'global') },
        { scope: 'global', name: 'g', value: lit(-1) },
        { scope: 'session', name: 'h', value: lit(1) },
      ],
    });
    expect(parseStatement("SET time_zone='+00:00'")).toEqual({ type: 'set', assignments: [{ scope: null, name: 'time_zone', value: lit('+00:00') }] });
  });

  it('FLUSH PRIVILEGES, FLUSH STATUS and SHUTDOWN', () => {
    expect(parseStatement('FLUSH PRIVILEGES')).toEqual({ type: 'flush-privileges' });
    expect(parseStatement('flush local privileges;')).toEqual({ type: 'flush-privileges' });
    expect(parseStatement('FLUSH STATUS')).toEqual({ type: 'flush-status' });
    expect(parseStatement('flush no_write_to_binlog status;')).toEqual({ type: 'flush-status' });
    expect(parseStatement('shutdown')).toEqual({ type: 'shutdown' });
  });
});

describe('SELECT', () => {
  const select = (text: string) => parseStatement(text) as Extract<Statement, { type: 'select' }>;

  it('the mysql.user query of the manual', () => {
    expect(select("SELECT user, host, plugin, authentication_string FROM mysql.user WHERE user = 'valerie'")).toEqual({
      type: 'select',
      items: ['user', 'host', 'plugin', 'authentication_string'].map((name) => ({ expr: col(name), alias: null, text: name })),
      from: { schema: 'mysql', name: 'user' },
      where: { kind: 'compare', op: '=', left: col('user'), right: lit('valerie') },
      limit: null,
    });
  });

  it("what the mariadb CLI and the connectors send, keeping each item's text as written", () => {
    expect(select('select @@version_comment limit 1')).toMatchObject({ items: [{ expr: sysvar('version_comment'), alias: null, text: '@@version_comment' }], limit: 1 });
    expect(select('SELECT DATABASE(), USER() limit 1').items).toEqual([
      { expr: call('DATABASE'), alias: null, text: 'DATABASE()' },
      { expr: call('USER'), alias: null, text: 'USER()' },
    ]);
    expect(select('select @@character_set_client, @@character_set_connection, @@character_set_server, @@character_set_database limit 1').items.map((i) => i.text)).toEqual([
      '@@character_set_client',
      '@@character_set_connection',
      '@@character_set_server',
      '@@character_set_database',
    ]);
    expect(select('SELECT @@max_allowed_packet').items[0].expr).toEqual(sysvar('max_allowed_packet'));
    expect(select('SELECT @@system_time_zone stz, @@time_zone tz').items.map((i) => i.alias)).toEqual(['stz', 'tz']);
    expect(select('SELECT @@VERSION AS v').items[0]).toEqual({ expr: sysvar('version'), alias: 'v', text: '@@VERSION' });
    expect(select('SELECT DATABASE() as db').items[0].alias).toBe('db');
  });

  it('literals, calls with arguments, CURRENT_USER bare or called, table.column, *, aliases', () => {
    const items = select("SELECT 1, -2.5, 'a' 'b', NULL, version(), Current_User, CURRENT_USER(), CONCAT('x', @@global.y, 3) AS `c`, t.col 'al', * FROM DUAL").items;
    expect(items.map((i) => i.expr)).toEqual([
      lit(1), lit(-2.5), lit('ab'), lit(null), call('VERSION'), call('CURRENT_USER'), call('CURRENT_USER'),
      call('CONCAT', lit('x'), sysvar('y', 'global'), lit(3)), col('col', 't'), { kind: 'star' },
    ]);
    expect(items.map((i) => i.text)).toEqual(['1', '-2.5', "'a' 'b'", 'NULL', 'version()', 'Current_User', 'CURRENT_USER()', "CONCAT('x', @@global.y, 3)", 't.col', '*']);
    expect(items.map((i) => i.alias)).toEqual([null, null, null, null, null, null, null, 'c', 'al', null]);
    expect(select('SELECT 1 FROM DUAL').from).toBeNull();
  });

  it('conditions: =, <> and !=, [NOT] LIKE, AND over OR, NOT, parentheses', () => {
    const where = (condition: string) => select(`SELECT * FROM t WHERE ${condition}`).where;
    const eq = (name: string, value: string) => ({ kind: 'compare', op: '=', left: col(name), right: lit(value) });
    expect(where("a = 'x' OR b = 'y' AND c = 'z'")).toEqual({ kind: 'or', left: eq('a', 'x'), right: { kind: 'and', left: eq('b', 'y'), right: eq('c', 'z') } });
    expect(where("(a = 'x' OR b = 'y') AND NOT c = 'z'")).toEqual({
      kind: 'and',
      left: { kind: 'or', left: eq('a', 'x'), right: eq('b', 'y') },
      right: { kind: 'not', operand: eq('c', 'z') },
    });
    expect(where("a <> 'x'")).toMatchObject({ op: '<>' });
    expect(where("a != 'x'")).toMatchObject({ op: '<>' });
    expect(where("a not like 'x%'")).toMatchObject({ op: 'NOT LIKE' });
    expect(where("a LIKE 'x\\_%'")).toMatchObject({ op: 'LIKE', right: lit('x\\_%') });
  });

  it('refuses nesting beyond 64 levels with ERR_PARSE, without recursing', () => {
    expect(select(`SELECT 1 FROM t WHERE ${'('.repeat(63)}a = 1${')'.repeat(63)}`).where).toMatchObject({ op: '=' });
    expect(parseError(`SELECT 1 FROM t WHERE ${'('.repeat(100_000)}a = 1`).code).toBe('ERR_PARSE');
    expect(parseError(`SELECT ${'f('.repeat(100_000)}`).code).toBe('ERR_PARSE');
    expect(parseError(`SELECT 1 FROM t WHERE ${'NOT '.repeat(100_000)} a = 1`).code).toBe('ERR_PARSE');
  });
});

describe('case, quoting and comments', () => {
  it('keywords in any case', () => {
    expect(parseStatement('cReAtE uSeR x IdEnTiFiEd WiTh auth_socket')).toMatchObject({ type: 'create-user', users: [{ account: account('x') }] });
    expect(parseStatement('Show Plugins')).toEqual({ type: 'show-plugins' });
  });

  it('skips comments, runs executable comments up to our version, ignores trailing ; and \\G', () => {
    expect(parseStatement("/* why */ CREATE USER -- who\n 'v'@'localhost' # how\n IDENTIFIED WITH auth_socket /*!80000 AS 'stephanie' */;")).toMatchObject({
      users: [{ auth: { authString: 'stephanie' } }],
    });
    expect(parseStatement("CREATE USER v /*!99999 IDENTIFIED WITH auth_socket */")).toMatchObject({ users: [{ auth: null }] });
    expect(parseStatement('SHOW PLUGINS\\G')).toEqual({ type: 'show-plugins' });
    expect(parseStatement('SHOW PLUGINS ; ; ')).toEqual({ type: 'show-plugins' });
  });

  it('an empty statement is empty', () => {
    for (const text of ['', '  \n', '/* x */', '-- x', ';', ' ; ;']) expect(parseStatement(text)).toEqual({ type: 'empty' });
  });
});

describe('unsupported: MySQL syntax this server does not answer', () => {
  it.each([
    'SHOW VARIABLES WHERE Value = 1', 'SHOW DATABASES', 'SHOW CREATE TABLE t', 'CREATE TABLE t (a int)', 'DROP DATABASE d', 'ALTER TABLE t',
    'INSERT INTO t VALUES (1)', 'UPDATE t SET a = 1', 'USE mysql', 'BEGIN', 'COMMIT', '(SELECT 1)', 'INSTALL COMPONENT "x"', 'UNINSTALL SONAME "x"',
    'FLUSH TABLES', 'FLUSH PRIVILEGES, STATUS', 'SET PASSWORD = "x"', 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', 'SET @x = 1',
    'SET NAMES DEFAULT', 'SET a = DEFAULT', 'SET a = 1 + 1', 'SET NAMES utf8, a = 1', 'SET CHARACTER SET utf8',
    "CREATE USER a IDENTIFIED BY RANDOM PASSWORD", "CREATE USER a REQUIRE SSL", "CREATE USER a PASSWORD EXPIRE", "ALTER USER a ACCOUNT LOCK",
    "CREATE USER a IDENTIFIED WITH auth_socket AND caching_sha2_password", "ALTER USER USER() IDENTIFIED BY 'x'", 'DROP USER CURRENT_USER()',
    'GRANT SELECT ON *.* TO a', 'GRANT ALL ON db.* TO a', 'GRANT ALL ON * TO a', 'GRANT role1 TO a', 'GRANT ALL ON *.* TO a WITH MAX_QUERIES_PER_HOUR 1',
    'REVOKE INSERT ON *.* FROM a', 'SHOW GRANTS FOR a USING r',
    'SELECT 1 + 1', 'SELECT @x', 'SELECT DISTINCT a FROM t', 'SELECT a FROM t ORDER BY a', 'SELECT a FROM t1 JOIN t2', 'SELECT a FROM t x',
    'SELECT * FROM t WHERE a > 1', 'SELECT * FROM t WHERE a IN (1)', 'SELECT * FROM t WHERE 1', 'SELECT 1 LIMIT 1, 2', 'SELECT (SELECT 1)',
    'SELECT COUNT(DISTINCT a) FROM t', 'SELECT t.* FROM t', 'SELECT a FROM (SELECT 1) x', "SELECT * FROM t WHERE a LIKE 'x' ESCAPE '!'",
  ])('%s', (text) => {
    expect(parseStatement(text)).toEqual({ type: 'unsupported', text });
  });
});

describe('1064', () => {
  it("quotes the rest of the statement from the offending token, cut to 80 characters, and its line", () => {
    expect(near('SELECT FROM')).toEqual(['FROM', 1]);
    expect(near('FOO BAR')).toEqual(['FOO BAR', 1]);
    expect(near('CREATE USER')).toEqual(['', 1]);
    expect(near("CREATE USER 'a'@'b' IDENTIFIED")).toEqual(['', 1]);
    expect(near("SELECT 'abc")).toEqual(["'abc", 1]);
    expect(near('SELECT 1\n\nFROM WHERE')).toEqual(['WHERE', 3]);
    expect(near("SELECT 'a\nb' FROM WHERE")).toEqual(['WHERE', 1]);
    expect(near('SELECT /* x\ny */ 1 FROM WHERE')).toEqual(['WHERE', 2]);
    expect(near('SELECT 1 /* unterminated')).toEqual(['/* unterminated', 1]);
    expect(near('SELECT 1; SELECT 2')).toEqual(['SELECT 2', 1]);
    expect(near('DROP USER a@b c')).toEqual(['c', 1]);
    expect(near('CREATE USER a @ b')).toEqual(['b', 1]);
    expect(near("INSTALL PLUGIN 'x' SONAME 'y'")).toEqual(["'x' SONAME 'y'", 1]);
    expect(near('GRANT ALL TO a')).toEqual(['TO a', 1]);
    expect(near('REVOKE ALL, GRANT OPTION ON *.* FROM a')).toEqual(['ON *.* FROM a', 1]);
    expect(near('SELECT * AS x')).toEqual(['AS x', 1]);
    expect(near('SELECT 1 LIMIT 1.5')).toEqual(['1.5', 1]);
    expect(near('CREATE USER IF EXISTS a')).toEqual(['EXISTS a', 1]);
    expect(near('SET = 1')).toEqual(['= 1', 1]);
    const long = `SELECT 1 FROM WHERE ${'x'.repeat(100)}`;
    expect(near(long)).toEqual([long.slice(14, 94), 1]);
    const emoji = `SELECT 1 FROM WHERE ${'😀'.repeat(100)}`;
    expect(Array.from(parseError(emoji).near)).toHaveLength(80);
  });

  it('refuses a statement over 1 MiB before reading it', () => {
    const error = parseError(`SELECT '${'x'.repeat(MAX_STATEMENT_LENGTH)}'`);
    expect([error.code, error.near, error.line]).toEqual(['ERR_PARSE', "SELECT '" + 'x'.repeat(72), 1]);
  });
});

// MariaDB says "MariaDB server version" where MySQL says "MySQL": compare what follows, the near
// text and the line, for errors where the two grammars agree.
describe('1064 as the real MariaDB gives it', () => {
  let mariadb: MariadbInstance;
  beforeAll(async () => {
    mariadb = await startMariadb();
  }, 60_000);
  afterAll(() => mariadb?.stop());

  const broken = [
    'SELECT FROM', 'FOO BAR', 'CREATE USER', "CREATE USER 'a'@'b' IDENTIFIED", "CREATE USER a@b IDENTIFIED WITH 'x' AS", "SELECT 'abc",
    'SELECT 1\n\nFROM WHERE', "SELECT 'a\nb' FROM WHERE", 'SELECT /* x\ny */ 1 FROM WHERE', 'SELECT 1 -- c\n FROM WHERE', 'SELECT 1 /* unterminated',
    'SELECT 1; SELECT 2', 'DROP USER a@b c', 'CREATE USER a @ b', "DROP USER 'u' @ 'h'", "INSTALL PLUGIN 'x' SONAME 'y'", 'UNINSTALL PLUGIN',
    'GRANT ALL TO a', 'GRANT ALL ON *.* TO', 'REVOKE ALL, GRANT OPTION ON *.* FROM a', 'SELECT * AS x', 'SELECT 1 LIMIT 1.5', 'SELECT 1 )',
    'CREATE USER IF EXISTS a', 'DROP USER IF NOT EXISTS a', 'SET = 1', 'SET NAMES', "SHOW PLUGINS LIKE 'a'", 'SELECT `a` FROM', 'SELECT @@',
    'SELECT 1 /*! FROM */', 'SHOW GRANTS FOR',
  ];

  it.each(broken)('%j', async (text) => {
    const ours = parseError(text);
    const theirs = await mariadb.query(text).then(
      () => null,
      (error: { errno: number; sqlMessage: string }) => error,
    );
    expect(theirs?.errno).toBe(1064);
    const [, theirNear, theirLine] = /near '(.*)' at line (\d+)$/s.exec(theirs!.sqlMessage)!;
    expect([ours.near, ours.line]).toEqual([theirNear, Number(theirLine)]);
  });

  it.each([
    'select @@version_comment limit 1', 'SELECT DATABASE(), USER() limit 1', 'SELECT @@max_allowed_packet', 'SELECT CURRENT_USER, CURRENT_USER()',
    "SELECT PLUGIN_NAME, PLUGIN_STATUS FROM INFORMATION_SCHEMA.PLUGINS WHERE PLUGIN_NAME LIKE '%socket%' AND NOT (PLUGIN_NAME <> 'x' OR PLUGIN_NAME != 'y')",
    "SELECT user, host, plugin, authentication_string FROM mysql.user WHERE user = 'valerie'", 'SHOW PLUGINS', 'SHOW GRANTS',
    'SHOW GRANTS FOR CURRENT_USER()', 'SET autocommit=1', 'SET character_set_results = NULL', 'SET NAMES utf8mb4 COLLATE utf8mb4_general_ci',
    "SET SESSION sql_mode = 'ANSI', @@session.autocommit = ON", 'FLUSH PRIVILEGES',
  ])('MariaDB runs %j too', async (text) => {
    expect(parseStatement(text).type).not.toBe('unsupported');
    await mariadb.query(text);
  });

  it.each(['   ', ';', ' ; '])('%j is empty (1065) to both', async (text) => {
    expect(parseStatement(text)).toEqual({ type: 'empty' });
    await expect(mariadb.query(text)).rejects.toMatchObject({ errno: 1065 });
  });
});

describe('random input', () => {
  const pieces = fc.constantFrom(
    'SELECT', 'CREATE', 'USER', 'ALTER', 'DROP', 'GRANT', 'REVOKE', 'SET', 'SHOW', 'IDENTIFIED', 'WITH', 'BY', 'AS', 'FROM', 'WHERE', 'LIKE',
    'NOT', 'AND', 'OR', 'LIMIT', 'ON', 'TO', '*.*', "'x'", '"y"', '`z`', '@', '@@v', '@@global.w', '(', ')', ',', '=', '<>', ';', '/*', '*/',
    '/*!', '--', '#', '\n', ' ', '1', '.', 'a', 'CURRENT_USER', '\\', "'", '`',
  );
  const statements = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.array(pieces, { maxLength: 40 }).map((p) => p.join(' ')));

  it('never throws anything but ERR_PARSE', () => {
    fc.assert(
      fc.property(statements, (text) => {
        try {
          parseStatement(text);
        } catch (error) {
          expect((error as ParseError).code).toBe('ERR_PARSE');
          expect((error as ParseError).message.startsWith(SYNTAX)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  // No clock in the assertion (a loaded CI machine is slow, not wrong): ~0.4 s in plain Node for
  // 500,000 items, while a quadratic reader would take hours and meet the test's time limit.
  it.each(["'a'", '/*', '/*!', '`', "'\\", '((', 'a.', '@@', 'NOT ', '-- \n', 'x,'])(
    'reads a statement of nearly 1 MiB of %j in linear time',
    (piece) => {
      const text = `SELECT ${piece.repeat(Math.floor((MAX_STATEMENT_LENGTH - 8) / piece.length))}`;
      let outcome: string;
      try {
        parseStatement(text);
        outcome = 'parsed';
      } catch (error) {
        outcome = (error as ParseError).code;
      }
      expect(['parsed', 'ERR_PARSE']).toContain(outcome);
    },
    60_000,
  );
});

it('parses SHOW [SESSION|GLOBAL] VARIABLES [LIKE], as mysqladmin sends it', () => {
  expect(parseStatement('SHOW VARIABLES')).toEqual({ type: 'show-variables', like: null });
  expect(parseStatement("SHOW GLOBAL VARIABLES LIKE 'pid_file'")).toEqual({ type: 'show-variables', like: 'pid_file' });
  expect(parseStatement('show session variables like "max%";')).toEqual({ type: 'show-variables', like: 'max%' });
});

it('parses SHOW [SESSION|GLOBAL] STATUS [LIKE] as SHOW VARIABLES; WHERE is MySQL\'s, not ours', () => {
  expect(parseStatement('SHOW STATUS')).toEqual({ type: 'show-status', like: null });
  expect(parseStatement("SHOW GLOBAL STATUS LIKE 'Threads\\_%'")).toEqual({ type: 'show-status', like: 'Threads\\_%' });
  expect(parseStatement('show session status like "auth_socket%";')).toEqual({ type: 'show-status', like: 'auth_socket%' });
  expect(parseStatement("SHOW STATUS WHERE Variable_name = 'Uptime'")).toEqual({ type: 'unsupported', text: "SHOW STATUS WHERE Variable_name = 'Uptime'" });
  expect(() => parseStatement('SHOW STATUS LIKE')).toThrow(expect.objectContaining({ code: 'ERR_PARSE' }));
  expect(() => parseStatement("SHOW STATUS 'x'")).toThrow(expect.objectContaining({ code: 'ERR_PARSE' }));
});
