// MySQL's 1064 (ER_PARSE_ERROR) as a coded error: what sql/sql_yacc.yy's MYSQLerror() reports
// through my_syntax_error() (sql/sql_lex.cc): "%s near '%-.80s' at line %d", the near text being
// the rest of the statement from the token the parser could not take.
import { codedError, type CodedError } from '../../errors';

/** ER_SYNTAX_ERROR, the %s of ER_PARSE_ERROR for every syntax error. */
export const SYNTAX_ERROR_TEXT =
  'You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use';

/** %-.80s counts characters, not bytes or UTF-16 units. */
const NEAR_CHARACTERS = 80;

export interface ParseError extends CodedError {
  code: 'ERR_PARSE';
  /** The rest of the statement from the offending token, cut to 80 characters ('' at the end). */
  near: string;
  /** 1-based line of the offending token. */
  line: number;
}

/** The error for a statement `text` that cannot be parsed at `offset`, on line `line`. */
export function syntaxError(text: string, offset: number, line: number): ParseError {
  // Array.from() splits by code point; a cut never leaves half a surrogate pair.
  let near = text.slice(offset, offset + NEAR_CHARACTERS * 2);
  const points = Array.from(near);
  if (points.length > NEAR_CHARACTERS) near = points.slice(0, NEAR_CHARACTERS).join('');
  const error = codedError('ERR_PARSE', `${SYNTAX_ERROR_TEXT} near '${near}' at line ${line}`) as ParseError;
  error.near = near;
  error.line = line;
  return error;
}
