// parseStatement(): the text of a COM_QUERY to the typed Statement (statements.ts) this server
// answers, dispatched on its first words as sql_yacc.yy's simple_statement does. SELECT lives in
// parse-select.ts, the account and privilege statements in parse-account.ts; the plugin
// statements, SET, SHOW VARIABLES / STATUS, FLUSH PRIVILEGES / STATUS and SHUTDOWN here. Pure:
// text in, statement (or ERR_PARSE) out.
import { Cursor, UNSUPPORTED } from './cursor';
import { STATEMENT_WORDS } from './keywords';
import {
  parseAlterUser,
  parseCreateUser,
  parseDropUser,
  parseGrant,
  parseRevoke,
  parseShowCreateUser,
  parseShowGrants,
} from './parse-account';
import { assignedValue, parseSelect } from './parse-select';
import type { Expr, Statement } from './statements';
import { syntaxError } from './syntax-error';

/** Longer statements are refused before they are read (MySQL's own cap is max_allowed_packet). */
export const MAX_STATEMENT_LENGTH = 1024 * 1024;

type Parse = (cursor: Cursor) => Statement;

/** A statement that is complete after its words. */
function ended(statement: Statement): Parse {
  return (cursor) => {
    cursor.end();
    return statement;
  };
}

/** The entry for a word, case-insensitively; never one of Object.prototype's. */
function wordIn(table: Record<string, Parse>, word: string): Parse | undefined {
  const key = word.toUpperCase();
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Dispatches on the next word; a word outside `table` is MySQL's statement, not ours. */
function byWord(table: Record<string, Parse>): Parse {
  return (cursor) => {
    const token = cursor.peek();
    const parse = token.kind === 'word' ? wordIn(table, token.value) : undefined;
    if (parse !== undefined) {
      cursor.next();
      return parse(cursor);
    }
    return token.kind === 'eof' ? cursor.fail() : cursor.unsupported();
  };
}

/** After INSTALL PLUGIN: name SONAME 'library'. */
function parseInstallPlugin(cursor: Cursor): Statement {
  const name = cursor.name();
  cursor.expectWord('SONAME');
  const soname = cursor.string();
  cursor.end();
  return { type: 'install-plugin', name, soname };
}

/** After UNINSTALL PLUGIN: name. */
function parseUninstallPlugin(cursor: Cursor): Statement {
  const name = cursor.name();
  cursor.end();
  return { type: 'uninstall-plugin', name };
}

/** After FLUSH: [NO_WRITE_TO_BINLOG | LOCAL] PRIVILEGES | STATUS; other flush options, and lists of them, are MySQL's. */
function parseFlush(cursor: Cursor): Statement {
  if (!cursor.acceptWord('NO_WRITE_TO_BINLOG')) cursor.acceptWord('LOCAL');
  if (cursor.peek().kind === 'eof') cursor.fail();
  const type = cursor.acceptWord('PRIVILEGES') ? 'flush-privileges' : cursor.acceptWord('STATUS') ? 'flush-status' : null;
  if (type === null || cursor.atPunct(',')) cursor.unsupported();
  cursor.end();
  return { type };
}

/** SET forms MySQL has and this server does not: passwords, transactions, roles, user variables, ... */
const OTHER_SET_FORMS = ['PASSWORD', 'TRANSACTION', 'ROLE', 'DEFAULT', 'RESOURCE', 'STATEMENT', 'CHARACTER', 'CHARSET', 'PERSIST', 'PERSIST_ONLY', 'NAMES'];

/** After SET: NAMES charset [COLLATE collation], or [GLOBAL|SESSION|LOCAL] name = value | @@[scope.]name = value, ... */
function parseSet(cursor: Cursor): Statement {
  if (cursor.acceptWord('NAMES')) {
    if (cursor.atWord('DEFAULT')) cursor.unsupported();
    const charset = cursor.nameOrString();
    let collation: string | null = null;
    if (cursor.acceptWord('COLLATE')) {
      if (cursor.atWord('DEFAULT')) cursor.unsupported();
      collation = cursor.nameOrString();
    }
    if (cursor.atPunct(',')) cursor.unsupported(); // NAMES mixed with assignments
    cursor.end();
    return { type: 'set-names', charset, collation };
  }
  const assignments: Array<{ scope: 'global' | 'session' | null; name: string; value: Expr }> = [];
  // The last GLOBAL / SESSION keyword applies to the bare names after it.
  let keywordScope: 'global' | 'session' | null = null;
  do {
    const keyword = cursor.acceptWord('GLOBAL') ? 'global' : cursor.acceptWord('SESSION') || cursor.acceptWord('LOCAL') ? 'session' : null;
    if (keyword !== null) keywordScope = keyword;
    if (cursor.atWord(...OTHER_SET_FORMS)) cursor.unsupported();
    const token = cursor.peek();
    let scope = keywordScope;
    let name: string;
    if (keyword === null && token.kind === 'sysvar') {
      cursor.next();
      [scope, name] = [token.scope, token.value];
    } else {
      if (keyword === null && cursor.atPunct('@')) cursor.unsupported(); // a user variable
      name = cursor.name();
      // A component's variable: validate_password.length.
      if (cursor.acceptPunct('.')) name += `.${cursor.name()}`;
    }
    if (!cursor.acceptPunct('=') && !cursor.acceptPunct(':=')) cursor.fail();
    assignments.push({ scope, name: name.toLowerCase(), value: assignedValue(cursor) });
  } while (cursor.acceptPunct(','));
  cursor.end();
  return { type: 'set', assignments };
}

/** After SHOW [SESSION|GLOBAL] VARIABLES or STATUS: [LIKE 'pattern'] (WHERE is MySQL's, not ours). */
function parseShowLike(type: 'show-variables' | 'show-status'): Parse {
  return (cursor) => {
    let like: string | null = null;
    if (cursor.acceptWord('LIKE')) like = cursor.nameOrString();
    else if (cursor.atWord('WHERE')) cursor.unsupported();
    cursor.end();
    return { type, like };
  };
}

const SHOW_LIKE = { VARIABLES: parseShowLike('show-variables'), STATUS: parseShowLike('show-status') };

const STATEMENTS: Record<string, Parse> = {
  SELECT: parseSelect,
  CREATE: byWord({ USER: parseCreateUser }),
  ALTER: byWord({ USER: parseAlterUser }),
  DROP: byWord({ USER: parseDropUser }),
  SHOW: byWord({
    CREATE: byWord({ USER: parseShowCreateUser }),
    GRANTS: parseShowGrants,
    PLUGINS: ended({ type: 'show-plugins' }),
    ...SHOW_LIKE,
    // The scope is not kept: every status variable here is the server's (see statements/status.ts).
    SESSION: byWord(SHOW_LIKE),
    GLOBAL: byWord(SHOW_LIKE),
  }),
  INSTALL: byWord({ PLUGIN: parseInstallPlugin }),
  UNINSTALL: byWord({ PLUGIN: parseUninstallPlugin }),
  GRANT: parseGrant,
  REVOKE: parseRevoke,
  SET: parseSet,
  FLUSH: parseFlush,
  SHUTDOWN: ended({ type: 'shutdown' }),
};

/**
 * The statement `text` says. A statement MySQL has but this server does not answer is
 * { type: 'unsupported' } (1235); one that does not parse throws ERR_PARSE with MySQL's 1064
 * message; one of only comments or ';' is { type: 'empty' } (1065).
 */
export function parseStatement(text: string): Statement {
  if (text.length > MAX_STATEMENT_LENGTH) throw syntaxError(text, 0, 1);
  const cursor = new Cursor(text);
  while (cursor.acceptPunct(';'));
  const first = cursor.peek();
  if (first.kind === 'eof') return { type: 'empty' };
  try {
    const parse = first.kind === 'word' ? wordIn(STATEMENTS, first.value) : undefined;
    if (parse !== undefined) {
      cursor.next();
      return parse(cursor);
    }
    // A parenthesized SELECT, or any statement of MySQL's that is not in this grammar.
    if ((first.kind === 'word' && STATEMENT_WORDS.has(first.value.toUpperCase())) || cursor.atPunct('(')) cursor.unsupported();
    return cursor.fail();
  } catch (error) {
    if (error === UNSUPPORTED) return { type: 'unsupported', text };
    throw error;
  }
}
