// Expressions and conditions of the SELECTs the server answers (sql/item_func.cc's few functions,
// sys_vars for @@name, item_cmpfunc.cc's =, <> and LIKE), evaluated for a session, and over a row
// of a table when there is a FROM.
import { Condition, Expr } from '../sql/statements';
import { sqlError } from '../sql-error';
import { wildcardMatch } from '../wildcard';
import { StatementContext, Value } from './context';

/** A table row by lower-case column name. */
export type Row = Readonly<Record<string, Value>>;

const functions: Record<string, (ctx: StatementContext) => Value> = {
  USER: ({ connection }) => `${connection.user}@${connection.host}`,
  SESSION_USER: ({ connection }) => `${connection.user}@${connection.host}`,
  SYSTEM_USER: ({ connection }) => `${connection.user}@${connection.host}`,
  CURRENT_USER: ({ connection }) => `${connection.account.user}@${connection.account.host}`,
  DATABASE: ({ database }) => database,
  SCHEMA: ({ database }) => database,
  VERSION: ({ variables }) => variables.version,
  CONNECTION_ID: ({ connection }) => connection.connectionId,
};

export function variable(ctx: StatementContext, name: string): Value {
  if (!Object.hasOwn(ctx.variables, name)) throw sqlError('ER_UNKNOWN_SYSTEM_VARIABLE', name);
  return ctx.variables[name];
}

export function evaluate(expr: Expr, ctx: StatementContext, row: Row | null): Value {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'variable':
      return variable(ctx, expr.name);
    case 'call': {
      if (!Object.hasOwn(functions, expr.name) || expr.args.length > 0) throw sqlError('ER_SP_DOES_NOT_EXIST', 'FUNCTION', expr.name);
      return functions[expr.name](ctx);
    }
    case 'column': {
      const name = expr.name.toLowerCase();
      if (row === null || !Object.hasOwn(row, name)) throw sqlError('ER_BAD_FIELD_ERROR', expr.name, 'field list');
      return row[name];
    }
    case 'star':
      throw sqlError('ER_NO_TABLES_USED');
  }
}

// LIKE's operands are names and short texts here; longer ones are refused, so the O(n·m) walk of
// a hostile pattern over a hostile text stays within about a million steps.
const MAX_LIKE_OPERAND = 1024;

/** MySQL's LIKE under a case-insensitive collation: % any run, _ one character, \\ escapes. */
export function like(value: string, pattern: string): boolean {
  if (value.length > MAX_LIKE_OPERAND || pattern.length > MAX_LIKE_OPERAND) {
    throw sqlError('ER_NOT_SUPPORTED_YET', `LIKE over ${MAX_LIKE_OPERAND} characters`);
  }
  return wildcardMatch(value, pattern, true);
}

// Comparisons under a case-insensitive collation, as MySQL compares strings by default; NULL is unknown.
function compare(op: '=' | '<>' | 'LIKE' | 'NOT LIKE', left: Value, right: Value): boolean | null {
  if (left === null || right === null) return null;
  if (op === 'LIKE' || op === 'NOT LIKE') return like(String(left), String(right)) === (op === 'LIKE');
  const equal =
    typeof left === 'number' && typeof right === 'number' ? left === right : String(left).localeCompare(String(right), undefined, { sensitivity: 'accent' }) === 0;
  return op === '=' ? equal : !equal;
}

/** SQL's three-valued logic: null is unknown, and a WHERE keeps only true. */
export function test(condition: Condition, ctx: StatementContext, row: Row | null): boolean | null {
  switch (condition.kind) {
    case 'compare':
      return compare(condition.op, evaluate(condition.left, ctx, row), evaluate(condition.right, ctx, row));
    case 'not': {
      const value = test(condition.operand, ctx, row);
      return value === null ? null : !value;
    }
    case 'and': {
      const [a, b] = [test(condition.left, ctx, row), test(condition.right, ctx, row)];
      return a === false || b === false ? false : a === null || b === null ? null : true;
    }
    case 'or': {
      const [a, b] = [test(condition.left, ctx, row), test(condition.right, ctx, row)];
      return a === true || b === true ? true : a === null || b === null ? null : false;
    }
  }
}
