// The SQL lexer: MySQL's token forms, escapes, comments (skipped and executable), user@host and
// @@variables, and the line numbers a 1064 message quotes.
import { tokenize, type Token } from '../../../lib/server/sql/lexer';

const brief = (text: string) => tokenize(text).map((t: Token) => [t.kind, t.value]);

describe('tokenize', () => {
  it('reads words as written, with offsets, and ends with one eof token', () => {
    const tokens = tokenize('select  Plugin_Name');
    expect(tokens.map((t) => [t.kind, t.value, t.start, t.end])).toEqual([
      ['word', 'select', 0, 6],
      ['word', 'Plugin_Name', 8, 19],
      ['eof', '', 19, 19],
    ]);
  });

  it('reads backquoted identifiers with `` for a backquote', () => {
    expect(brief('`a``b` `select` `with space`')).toEqual([
      ['ident', 'a`b'],
      ['ident', 'select'],
      ['ident', 'with space'],
      ['eof', ''],
    ]);
  });

  it("reads ' and \" strings with MySQL's escapes; \\% and \\_ keep their backslash", () => {
    const text = String.raw`'\0\'\"\b\n\r\t\Z\\\%\_\q' "a""b" 'it''s' "x\"y"`;
    expect(brief(text)).toEqual([
      ['string', '\0\'"\b\n\r\t\x1a\\\\%\\_q'],
      ['string', 'a"b'],
      ['string', "it's"],
      ['string', 'x"y'],
      ['eof', ''],
    ]);
  });

  it('reads numbers, and digits running into letters as an identifier', () => {
    expect(brief('1 12.5 .5 1e5 1.5e-3 123abc 1e5x')).toEqual([
      ['number', '1'],
      ['number', '12.5'],
      ['number', '.5'],
      ['number', '1e5'],
      ['number', '1.5e-3'],
      ['word', '123abc'],
      ['word', '1e5x'],
      ['eof', ''],
    ]);
  });

  it('reads a dot after a name as a separator, not a number', () => {
    expect(brief('mysql.user t.5')).toEqual([
      ['word', 'mysql'],
      ['punct', '.'],
      ['word', 'user'],
      ['word', 't'],
      ['punct', '.'],
      ['number', '5'],
      ['eof', ''],
    ]);
  });

  it('reads @@variables with their scope', () => {
    const tokens = tokenize('@@version_comment @@GLOBAL.max_connections @@session.autocommit @@local.x @@`odd name` @@validate_password.length');
    expect(tokens.slice(0, -1).map((t) => [t.kind, t.value, t.scope])).toEqual([
      ['sysvar', 'version_comment', null],
      ['sysvar', 'max_connections', 'global'],
      ['sysvar', 'autocommit', 'session'],
      ['sysvar', 'x', 'session'],
      ['sysvar', 'odd name', null],
      ['sysvar', 'validate_password.length', null],
    ]);
  });

  it("reads user@host as MySQL does: '@' then a host name unless a quote follows", () => {
    expect(brief("'u'@'h' u@localhost `u`@`h` 'u'@localhost u@192.168.0.1 \"u\"@\"h\"")).toEqual([
      ['string', 'u'], ['punct', '@'], ['string', 'h'],
      ['word', 'u'], ['punct', '@'], ['hostname', 'localhost'],
      ['ident', 'u'], ['punct', '@'], ['ident', 'h'],
      ['string', 'u'], ['punct', '@'], ['hostname', 'localhost'],
      ['word', 'u'], ['punct', '@'], ['hostname', '192.168.0.1'],
      ['string', 'u'], ['punct', '@'], ['string', 'h'],
      ['eof', ''],
    ]);
    // A space after '@' leaves an empty host name, as MY_LEX_HOSTNAME does.
    expect(brief('a @ b')).toEqual([['word', 'a'], ['punct', '@'], ['hostname', ''], ['word', 'b'], ['eof', '']]);
  });

  it('reads operators, longest first, and \\G as the end of a statement', () => {
    expect(brief("a<>b != <= >= := = ( ) , * ; \\G \\g")).toEqual([
      ['word', 'a'], ['punct', '<>'], ['word', 'b'],
      ['punct', '!='], ['punct', '<='], ['punct', '>='], ['punct', ':='], ['punct', '='],
      ['punct', '('], ['punct', ')'], ['punct', ','], ['punct', '*'], ['punct', ';'], ['punct', ';'], ['punct', ';'],
      ['eof', ''],
    ]);
  });

  it('skips -- (with a space), # and /* */ comments; --x is two minus signs', () => {
    expect(brief('a -- one\nb # two\nc /* three\n */ d --\ne--x')).toEqual([
      ['word', 'a'], ['word', 'b'], ['word', 'c'], ['word', 'd'], ['word', 'e'], ['punct', '-'], ['punct', '-'], ['word', 'x'],
      ['eof', ''],
    ]);
    expect(brief('a --')).toEqual([['word', 'a'], ['eof', '']]);
  });

  it('reads /*! ... */ and /*!NNNNN ... */ up to our version as SQL, and skips later versions', () => {
    expect(brief('SELECT 1 /*!, 2 */ /*!50700 , 3*/ /*!80036 , 4 */ /*!80037 , 5 */ /*!99999 , 6 */')).toEqual([
      ['word', 'SELECT'], ['number', '1'], ['punct', ','], ['number', '2'], ['punct', ','], ['number', '3'], ['punct', ','], ['number', '4'],
      ['eof', ''],
    ]);
    // Outside an executable comment, */ is two operators.
    expect(brief('a */')).toEqual([['word', 'a'], ['punct', '*'], ['punct', '/'], ['eof', '']]);
  });

  it('ends with an invalid token at an unterminated string, identifier or comment', () => {
    expect(brief("a 'abc")).toEqual([['word', 'a'], ['invalid', "'abc"], ['eof', '']]);
    expect(brief('a `abc')).toEqual([['word', 'a'], ['invalid', '`abc'], ['eof', '']]);
    expect(brief("a 'ends in \\")).toEqual([['word', 'a'], ['invalid', "'ends in \\"], ['eof', '']]);
    expect(brief('a /* open')).toEqual([['word', 'a'], ['invalid', '/* open'], ['eof', '']]);
    expect(brief('a /*! b')).toEqual([['word', 'a'], ['word', 'b'], ['invalid', ''], ['eof', '']]);
    // @@ without a name: the parser stops after it.
    expect(tokenize('@@ x').map((t) => [t.kind, t.start])).toEqual([['invalid', 2], ['word', 3], ['eof', 4]]);
  });

  it('counts the lines MySQL counts: between tokens and in comments, not inside strings', () => {
    const lines = (text: string) => tokenize(text).map((t) => t.line);
    expect(lines('a\n\nb')).toEqual([1, 3, 3]);
    expect(lines("'x\ny' b")).toEqual([1, 1, 1]);
    expect(lines('a /* x\ny */ b -- z\nc # w\nd')).toEqual([1, 2, 3, 4, 4]);
  });

  it('keeps non-ASCII identifiers and strings whole', () => {
    expect(brief("café 'naïve 😀' `日本`")).toEqual([['word', 'café'], ['string', 'naïve 😀'], ['ident', '日本'], ['eof', '']]);
  });
});
