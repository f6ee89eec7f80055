// The parser's view of the token list: lookahead, keyword and operator matching, names as
// sql_yacc.yy's ident / ident_or_text take them, and the two ways a parse stops: a 1064 at the
// token MySQL's parser would stop at, or UNSUPPORTED for MySQL syntax this server does not answer.
import { tokenize, type Token } from './lexer';
import { RESERVED } from './keywords';
import { syntaxError } from './syntax-error';

/** Thrown (not an Error: no stack to build) when the statement is MySQL's but not ours; parseStatement() answers 'unsupported'. */
export const UNSUPPORTED: unique symbol = Symbol('unsupported');

/** Deeper nesting (parentheses, calls, NOT) is refused rather than recursed into. */
const MAX_DEPTH = 64;

export class Cursor {
  private readonly tokens: Token[];
  private index = 0;
  private depth = 0;

  constructor(readonly text: string) {
    this.tokens = tokenize(text);
  }

  peek(ahead = 0): Token {
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)];
  }

  next(): Token {
    const token = this.peek();
    if (this.index < this.tokens.length - 1) this.index++;
    return token;
  }

  /** End offset of the last token taken. */
  get lastEnd(): number {
    return this.index === 0 ? 0 : this.tokens[this.index - 1].end;
  }

  /** Stops with 1064 at `token` (the next one by default). */
  fail(token: Token = this.peek()): never {
    throw syntaxError(this.text, token.start, token.line);
  }

  unsupported(): never {
    throw UNSUPPORTED;
  }

  isWord(token: Token, ...words: string[]): boolean {
    return token.kind === 'word' && words.includes(token.value.toUpperCase());
  }

  atWord(...words: string[]): boolean {
    return this.isWord(this.peek(), ...words);
  }

  acceptWord(word: string): boolean {
    if (!this.atWord(word)) return false;
    this.next();
    return true;
  }

  expectWord(word: string): void {
    if (!this.acceptWord(word)) this.fail();
  }

  atPunct(...symbols: string[]): boolean {
    const token = this.peek();
    return token.kind === 'punct' && symbols.includes(token.value);
  }

  acceptPunct(symbol: string): boolean {
    if (!this.atPunct(symbol)) return false;
    this.next();
    return true;
  }

  expectPunct(symbol: string): void {
    if (!this.acceptPunct(symbol)) this.fail();
  }

  /** A bare word that is not reserved, or a backquoted identifier. */
  atName(): boolean {
    const token = this.peek();
    return token.kind === 'ident' || (token.kind === 'word' && !RESERVED.has(token.value.toUpperCase()));
  }

  /** ident: a bare non-reserved word or a backquoted identifier. */
  name(): string {
    if (!this.atName()) this.fail();
    return this.next().value;
  }

  /** TEXT_STRING: a quoted string. */
  string(): string {
    if (this.peek().kind !== 'string') this.fail();
    return this.next().value;
  }

  /** ident_or_text: a name or a quoted string. */
  nameOrString(): string {
    return this.peek().kind === 'string' ? this.next().value : this.name();
  }

  /** Runs a nested parse one level deeper, refusing more than MAX_DEPTH levels. */
  nested<T>(parse: () => T): T {
    if (this.depth >= MAX_DEPTH) this.fail();
    this.depth++;
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  /** The statement ends here: trailing ';' (or \G) are ignored, anything else is an error. */
  end(): void {
    while (this.acceptPunct(';'));
    if (this.peek().kind !== 'eof') this.fail();
  }
}
