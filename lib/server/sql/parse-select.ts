// SELECT as the informational queries use it (sql_yacc.yy query_specification, cut down): items
// of literals, @@variables, function calls and columns, one [schema.]table, a WHERE of
// comparisons joined by AND / OR / NOT, and LIMIT n. Also the expressions SET assigns. Syntax
// MySQL has here but this server does not evaluate (arithmetic, joins, ORDER BY, ...) is UNSUPPORTED.
import type { Cursor } from './cursor';
import { BARE_FUNCTIONS, FUNCTION_WORDS } from './keywords';
import type { Condition, Expr, SelectItem, Statement, TableName } from './statements';

/** Operators MySQL has after an operand; this server evaluates none of them in items. */
const OPERATORS = ['+', '-', '*', '/', '%', '|', '&', '^', '<<', '>>', '||', '&&', '=', '<>', '!=', '<', '>', '<=', '>=', '<=>', ':='];
const OPERATOR_WORDS = ['AND', 'OR', 'XOR', 'DIV', 'MOD', 'IS', 'IN', 'NOT', 'BETWEEN', 'LIKE', 'REGEXP', 'RLIKE', 'SOUNDS', 'MEMBER', 'COLLATE', 'ESCAPE'];
/** Clauses of a SELECT that MySQL knows and this server does not answer. */
const LATER_CLAUSES = ['GROUP', 'HAVING', 'WINDOW', 'ORDER', 'UNION', 'INTO', 'FOR', 'LOCK', 'EXCEPT', 'INTERSECT', 'PROCEDURE'];
/** What may follow a table in MySQL's FROM: joins, aliases, index hints, partitions. */
const TABLE_FOLLOWERS = ['AS', 'JOIN', 'INNER', 'LEFT', 'RIGHT', 'CROSS', 'NATURAL', 'STRAIGHT_JOIN', 'USE', 'FORCE', 'IGNORE', 'PARTITION'];

/** The statement goes on with an operator this server does not evaluate: UNSUPPORTED. */
function refuseOperator(cursor: Cursor, allowed: string[] = []): void {
  const token = cursor.peek();
  const isOperator =
    (token.kind === 'punct' && OPERATORS.includes(token.value)) || (token.kind === 'word' && OPERATOR_WORDS.includes(token.value.toUpperCase()));
  if (isOperator && !allowed.includes(token.value.toUpperCase())) cursor.unsupported();
}

/** An operand: a literal, @@variable, function call, [table.]column, or (where allowed) '*'. */
export function expr(cursor: Cursor, allowStar = false): Expr {
  const token = cursor.peek();
  switch (token.kind) {
    case 'string': {
      // 'a' 'b' is 'ab', as in MySQL.
      let value = '';
      while (cursor.peek().kind === 'string') value += cursor.next().value;
      return { kind: 'literal', value };
    }
    case 'number':
      cursor.next();
      return { kind: 'literal', value: Number(token.value) };
    case 'sysvar':
      cursor.next();
      return { kind: 'variable', scope: token.scope, name: token.value.toLowerCase() };
    case 'ident':
      if (cursor.peek(1).kind === 'punct' && cursor.peek(1).value === '(') cursor.unsupported(); // a UDF
      return column(cursor);
    case 'word':
      return wordExpr(cursor);
    case 'punct':
      if (token.value === '*' && allowStar) {
        cursor.next();
        return { kind: 'star' };
      }
      if ((token.value === '-' || token.value === '+') && cursor.peek(1).kind === 'number') {
        cursor.next();
        const value = Number(cursor.next().value);
        return { kind: 'literal', value: token.value === '-' ? -value : value };
      }
      // A user variable, a subquery or parenthesized expression, unary operators: MySQL's, not ours.
      if (['@', '(', '-', '+', '!', '~'].includes(token.value)) cursor.unsupported();
      return cursor.fail();
    default:
      return cursor.fail();
  }
}

function wordExpr(cursor: Cursor): Expr {
  const word = cursor.peek().value.toUpperCase();
  const call = cursor.peek(1).kind === 'punct' && cursor.peek(1).value === '(';
  if (word === 'NULL' || word === 'TRUE' || word === 'FALSE') {
    cursor.next();
    return { kind: 'literal', value: word === 'NULL' ? null : word === 'TRUE' ? 1 : 0 };
  }
  if (call && (cursor.atName() || FUNCTION_WORDS.has(word))) {
    cursor.next();
    cursor.next();
    const args: Expr[] = [];
    cursor.nested(() => {
      if (cursor.atWord('DISTINCT', 'ALL')) cursor.unsupported();
      if (!cursor.atPunct(')')) {
        do args.push(expr(cursor, true));
        while (cursor.acceptPunct(','));
      }
      refuseOperator(cursor);
      cursor.expectPunct(')');
    });
    return { kind: 'call', name: word, args };
  }
  if (BARE_FUNCTIONS.has(word)) {
    cursor.next();
    return { kind: 'call', name: word, args: [] };
  }
  if (cursor.atName()) return column(cursor);
  // CASE, EXISTS, NOT, INTERVAL, BINARY, DEFAULT, ...: expressions this server does not evaluate.
  if (['CASE', 'EXISTS', 'NOT', 'INTERVAL', 'BINARY', 'DEFAULT', 'ROW', 'MATCH', 'CAST', 'VALUES'].includes(word)) cursor.unsupported();
  return cursor.fail();
}

/** column, or table.column (schema.table.column and table.* are MySQL's, not ours). */
function column(cursor: Cursor): Expr {
  const first = cursor.name();
  if (!cursor.acceptPunct('.')) return { kind: 'column', table: null, name: first };
  if (cursor.atPunct('*')) cursor.unsupported();
  const name = cursor.name();
  if (cursor.atPunct('.')) cursor.unsupported();
  return { kind: 'column', table: first, name };
}

/** An item with its text as written and its [AS] alias. */
function selectItem(cursor: Cursor): SelectItem {
  const start = cursor.peek().start;
  const value = expr(cursor, true);
  const text = cursor.text.slice(start, cursor.lastEnd);
  refuseOperator(cursor);
  let alias: string | null = null;
  if (value.kind !== 'star') {
    if (cursor.acceptWord('AS')) alias = cursor.nameOrString();
    else if (cursor.atName() || cursor.peek().kind === 'string') alias = cursor.next().value;
  }
  return { expr: value, alias, text };
}

function table(cursor: Cursor): TableName | null {
  if (cursor.atPunct('(')) cursor.unsupported(); // a derived table
  if (cursor.acceptWord('DUAL')) return null;
  const first = cursor.name();
  const name = cursor.acceptPunct('.') ? cursor.name() : null;
  if (cursor.atName() || cursor.atPunct(',') || cursor.atWord(...TABLE_FOLLOWERS)) cursor.unsupported();
  return name === null ? { schema: null, name: first } : { schema: first, name };
}

/** left = right, left <> right (or !=), left [NOT] LIKE right. */
function comparison(cursor: Cursor): Condition {
  const left = expr(cursor);
  let op: '=' | '<>' | 'LIKE' | 'NOT LIKE';
  if (cursor.acceptPunct('=')) op = '=';
  else if (cursor.acceptPunct('<>') || cursor.acceptPunct('!=')) op = '<>';
  else if (cursor.acceptWord('LIKE')) op = 'LIKE';
  else if (cursor.atWord('NOT') && cursor.isWord(cursor.peek(1), 'LIKE')) {
    cursor.next();
    cursor.next();
    op = 'NOT LIKE';
  } else {
    refuseOperator(cursor);
    // A bare operand is a condition to MySQL (WHERE 1); not one this server evaluates.
    const token = cursor.peek();
    if (token.kind === 'eof' || cursor.atPunct(')', ';') || cursor.atWord('LIMIT', ...LATER_CLAUSES)) cursor.unsupported();
    return cursor.fail();
  }
  const right = expr(cursor);
  refuseOperator(cursor, ['AND', 'OR']);
  return { kind: 'compare', op, left, right };
}

function primaryCondition(cursor: Cursor): Condition {
  if (cursor.acceptWord('NOT')) return { kind: 'not', operand: cursor.nested(() => primaryCondition(cursor)) };
  if (!cursor.acceptPunct('(')) return comparison(cursor);
  return cursor.nested(() => {
    const inner = condition(cursor);
    cursor.expectPunct(')');
    return inner;
  });
}

function andCondition(cursor: Cursor): Condition {
  let left = primaryCondition(cursor);
  while (cursor.acceptWord('AND') || cursor.acceptPunct('&&')) left = { kind: 'and', left, right: primaryCondition(cursor) };
  return left;
}

/** OR binds loosest, then AND, then NOT, as in MySQL. */
function condition(cursor: Cursor): Condition {
  let left = andCondition(cursor);
  while (cursor.acceptWord('OR') || cursor.acceptPunct('||')) left = { kind: 'or', left, right: andCondition(cursor) };
  if (cursor.atWord('XOR')) cursor.unsupported();
  return left;
}

/** After SELECT: items [FROM table] [WHERE condition] [LIMIT n]. */
export function parseSelect(cursor: Cursor): Statement {
  // DISTINCT, HIGH_PRIORITY, SQL_NO_CACHE, ...: select options.
  const option = cursor.peek();
  if (cursor.atWord('ALL', 'DISTINCT', 'DISTINCTROW', 'HIGH_PRIORITY', 'STRAIGHT_JOIN') || (option.kind === 'word' && /^SQL_/i.test(option.value))) {
    cursor.unsupported();
  }
  const items: SelectItem[] = [];
  do items.push(selectItem(cursor));
  while (cursor.acceptPunct(','));
  const from = cursor.acceptWord('FROM') ? table(cursor) : null;
  const where = cursor.acceptWord('WHERE') ? condition(cursor) : null;
  if (cursor.atWord(...LATER_CLAUSES)) cursor.unsupported();
  let limit: number | null = null;
  if (cursor.acceptWord('LIMIT')) {
    const count = cursor.peek();
    // LIMIT takes an integer; a name is a stored-program variable.
    if (count.kind === 'number' && /^\d+$/.test(count.value)) limit = Number(cursor.next().value);
    else if (cursor.atName()) cursor.unsupported();
    else cursor.fail();
    if (cursor.atPunct(',') || cursor.atWord('OFFSET')) cursor.unsupported();
  }
  if (cursor.atWord(...LATER_CLAUSES)) cursor.unsupported();
  cursor.end();
  return { type: 'select', items, from, where, limit };
}

/**
 * The value of SET name = value: an operand, where a bare word is the string it spells (OFF,
 * ANSI, and the reserved ON, ALL, BINARY, ROW, SYSTEM), as MySQL's set_var takes it.
 */
export function assignedValue(cursor: Cursor): Expr {
  if (cursor.atWord('DEFAULT')) cursor.unsupported();
  if (cursor.atWord('ON', 'ALL', 'BINARY', 'ROW', 'SYSTEM')) return { kind: 'literal', value: cursor.next().value.toUpperCase() };
  const value = expr(cursor);
  refuseOperator(cursor);
  if (value.kind !== 'column') return value;
  if (value.table !== null) cursor.unsupported();
  return { kind: 'literal', value: value.name };
}
