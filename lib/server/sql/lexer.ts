// MySQL's tokens, for the statements this server answers: lex_one_token() of sql/sql_lex.cc cut
// down to words, backquoted identifiers, strings with MySQL's escapes, numbers, @@variables,
// the '@' and host name of user@host (MY_LEX_USER_END / MY_LEX_HOSTNAME), operators, and the
// comments MySQL skips or, for /*!NNNNN ... */, executes. One pass, no backtracking; every token
// knows its offset and line, which the 1064 message quotes.

export type TokenKind = 'word' | 'ident' | 'string' | 'number' | 'sysvar' | 'hostname' | 'punct' | 'invalid' | 'eof';

export interface Token {
  kind: TokenKind;
  /**
   * word, number, hostname: as written; ident (backquoted) and string: unescaped; sysvar: the
   * name after @@ and its scope; punct: the operator (the CLI's \G and \g read as ';');
   * invalid: an unterminated string, identifier or comment, from its opening to the end, or
   * the empty place after an @@ that no name follows.
   */
  value: string;
  /** sysvar only: @@global. / @@session. (@@local. is session); null otherwise. */
  scope: 'global' | 'session' | null;
  /** Offsets in the statement text of the token's first character and one past its last. */
  start: number;
  end: number;
  /** 1-based line of the token's start: MySQL counts the newlines between tokens and in comments, not those inside strings. */
  line: number;
}

/** /*!NNNNN ... *\/ runs when NNNNN <= this version (8.0.36, the version the server announces by default). */
const EXECUTABLE_COMMENT_VERSION = 80036;

const OPERATORS = ['<=>', '<>', '!=', '<=', '>=', ':=', '||', '&&', '<<', '>>'];

/** [A-Za-z0-9_$] and any non-ASCII character, as MySQL's identifier characters. */
function isIdentChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x24 || c >= 0x80;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** my_isspace(): space, \t, \n, \v, \f, \r. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** MySQL's backslash escapes (sql_lex.cc get_text()); \% and \_ keep their backslash for LIKE. */
const ESCAPES: Record<string, string> = { '0': '\0', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a', '%': '\\%', _: '\\_' };

class Lexer {
  private pos = 0;
  private line = 1;
  /** Inside /*! ... *\/: its closing *\/ is skipped, not read as '*' '/'. */
  private inExecutable = false;
  readonly tokens: Token[] = [];

  constructor(private readonly text: string) {}

  run(): Token[] {
    for (;;) {
      if (!this.skipTrivia()) break;
      if (this.pos >= this.text.length) {
        // An executable comment left open cannot end the statement.
        if (this.inExecutable) this.push('invalid', '', this.pos, this.pos);
        break;
      }
      this.readToken();
    }
    this.push('eof', '', this.text.length, this.text.length);
    return this.tokens;
  }

  private code(offset: number): number {
    return offset < this.text.length ? this.text.charCodeAt(offset) : -1;
  }

  private push(kind: TokenKind, value: string, start: number, end: number, scope: Token['scope'] = null): void {
    this.tokens.push({ kind, value, scope, start, end, line: this.line });
    this.pos = end;
  }

  /** Skips whitespace and comments; false when an unterminated comment ended the input (an invalid token was pushed). */
  private skipTrivia(): boolean {
    const { text } = this;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (isSpace(c)) {
        if (c === 0x0a) this.line++;
        this.pos++;
      } else if (c === 0x23 || (c === 0x2d && this.code(this.pos + 1) === 0x2d && !(this.code(this.pos + 2) > 0x20))) {
        // '#' or '-- ' (the second dash followed by a space, a control character or the end) to end of line.
        const newline = text.indexOf('\n', this.pos);
        this.pos = newline < 0 ? text.length : newline;
      } else if (c === 0x2f && this.code(this.pos + 1) === 0x2a) {
        if (!this.comment()) return false;
      } else if (c === 0x2a && this.inExecutable && this.code(this.pos + 1) === 0x2f) {
        this.inExecutable = false;
        this.pos += 2;
      } else {
        return true;
      }
    }
    return true;
  }

  /** At '/*': skips a comment, or enters /*!: its content is SQL when its version is ours or older. */
  private comment(): boolean {
    const start = this.pos;
    if (this.code(start + 2) === 0x21 && !this.inExecutable) {
      let digits = 0;
      while (digits < 5 && isDigit(this.code(start + 3 + digits))) digits++;
      const version = digits === 5 ? Number(this.text.slice(start + 3, start + 8)) : 0;
      if (version <= EXECUTABLE_COMMENT_VERSION) {
        this.inExecutable = true;
        this.pos = start + 3 + (digits === 5 ? 5 : 0);
        return true;
      }
    }
    const close = this.text.indexOf('*/', start + 2);
    if (close < 0) {
      this.push('invalid', this.text.slice(start), start, this.text.length);
      return false;
    }
    for (let i = this.text.indexOf('\n', start); i >= 0 && i < close; i = this.text.indexOf('\n', i + 1)) this.line++;
    this.pos = close + 2;
    return true;
  }

  private readToken(): void {
    const { text, pos } = this;
    const c = text.charCodeAt(pos);
    const previous = this.tokens[this.tokens.length - 1];
    const afterName = previous !== undefined && previous.end === pos && (previous.kind === 'word' || previous.kind === 'ident');
    if (isDigit(c) || (c === 0x2e && isDigit(this.code(pos + 1)) && !afterName)) return this.number();
    if (isIdentChar(c)) return this.word(pos);
    if (c === 0x60) return this.quoted(0x60, 'ident');
    if (c === 0x27 || c === 0x22) return this.quoted(c, 'string');
    if (c === 0x40) return this.at();
    if (c === 0x5c && (text[pos + 1] === 'G' || text[pos + 1] === 'g')) return this.push('punct', ';', pos, pos + 2);
    const operator = OPERATORS.find((op) => text.startsWith(op, pos));
    if (operator !== undefined) return this.push('punct', operator, pos, pos + operator.length);
    const character = String.fromCodePoint(text.codePointAt(pos)!);
    this.push('punct', character, pos, pos + character.length);
  }

  private identEnd(from: number): number {
    let i = from;
    while (isIdentChar(this.code(i))) i++;
    return i;
  }

  private word(start: number): void {
    const end = this.identEnd(start);
    this.push('word', this.text.slice(start, end), start, end);
  }

  /** 12, 1.5, .5, 1e5, 1.5e-3; digits run into letters (123abc) make an identifier, as in MySQL. */
  private number(): void {
    const start = this.pos;
    let i = start;
    while (isDigit(this.code(i))) i++;
    if (this.code(i) === 0x2e) {
      i++;
      while (isDigit(this.code(i))) i++;
    }
    if (this.code(i) === 0x65 || this.code(i) === 0x45) {
      let e = i + 1;
      if (this.code(e) === 0x2b || this.code(e) === 0x2d) e++;
      if (isDigit(this.code(e))) {
        while (isDigit(this.code(e))) e++;
        i = e;
      }
    }
    const integerOnly = !this.text.slice(start, i).includes('.');
    if (isIdentChar(this.code(i)) && integerOnly) return this.word(start);
    this.push('number', this.text.slice(start, i), start, i);
  }

  /** A quoted string (' or ") or backquoted identifier: doubled quotes, and backslash escapes in strings. */
  private quoted(quote: number, kind: 'ident' | 'string'): void {
    const { text } = this;
    const start = this.pos;
    let value = '';
    let segment = start + 1;
    for (let i = segment; i < text.length; ) {
      const c = text.charCodeAt(i);
      if (c === 0x5c && kind === 'string') {
        if (i + 1 >= text.length) break;
        const escaped = text[i + 1];
        value += text.slice(segment, i) + (ESCAPES[escaped] ?? escaped);
        i += 2;
        segment = i;
      } else if (c === quote) {
        value += text.slice(segment, i);
        if (this.code(i + 1) !== quote) return this.push(kind, value, start, i + 1);
        value += text[i];
        i += 2;
        segment = i;
      } else {
        i++;
      }
    }
    this.push('invalid', text.slice(start), start, text.length);
  }

  /** @@[global.|session.|local.]name, or the '@' of user@host followed by its host name. */
  private at(): void {
    const { text } = this;
    const start = this.pos;
    if (this.code(start + 1) === 0x40) {
      let i = start + 2;
      let scope: Token['scope'] = null;
      const qualifier = /^(global|session|local)\./i.exec(text.slice(i, i + 8));
      if (qualifier !== null) {
        scope = qualifier[1].toLowerCase() === 'global' ? 'global' : 'session';
        i += qualifier[0].length;
      }
      let name: string | null = null;
      let end = i;
      if (this.code(i) === 0x60) {
        const close = text.indexOf('`', i + 1);
        if (close > i + 1) [name, end] = [text.slice(i + 1, close), close + 1];
      } else {
        end = this.identEnd(i);
        // A component's variable: @@validate_password.length.
        if (this.code(end) === 0x2e && isIdentChar(this.code(end + 1))) end = this.identEnd(end + 1);
        if (end > i) name = text.slice(i, end);
      }
      if (name !== null) return this.push('sysvar', name, start, end, scope);
      // MySQL's parser stops at what follows @@ when it is no name.
      return this.push('invalid', '', i, i);
    }
    this.push('punct', '@', start, start + 1);
    // MY_LEX_USER_END: unless a quote or another '@' follows, a host name does, even an empty one.
    const next = this.code(start + 1);
    if (next === 0x27 || next === 0x22 || next === 0x60 || next === 0x40) return;
    let end = start + 1;
    while (isIdentChar(this.code(end)) || this.code(end) === 0x2e) end++;
    this.push('hostname', text.slice(start + 1, end), start + 1, end);
  }
}

/** The tokens of a statement, ending with one 'eof' token at its end. */
export function tokenize(text: string): Token[] {
  return new Lexer(text).run();
}
