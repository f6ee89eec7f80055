// The /regex OS-NAME of an ident map (pg_ident.conf's regular-expression lines, src/backend/libpq/
// hba.c check_ident_usermap): compiled once, matched against the whole OS user name, its first
// capture substituted for \1 in the account. PostgreSQL runs its own automaton-based regex
// engine; V8's backtracks, so a pattern that can take exponential time is refused here instead
// (nested or alternating repetition, backreferences, many unbounded repetitions), and a name
// longer than MAX_REGEX_NAME_LENGTH is never tested: every accepted pattern stays polynomial and
// small on inputs that short.

/** Names longer than this (UTF-16 units) never match a /regex line (Linux's useradd takes 32). */
export const MAX_REGEX_NAME_LENGTH = 64;
/** Repetitions (*, +, {n,}, {n,m} with m > 1) a pattern may hold: the degree of its worst case. */
export const MAX_REGEX_REPETITIONS = 4;

export interface IdentRegex {
  readonly regex: RegExp;
  /** How many capture groups it has (\1 in the account needs one). */
  readonly captures: number;
}

interface Frame {
  /** A repetition or a group holding one is inside. */
  repeats: boolean;
  alternates: boolean;
}

// A quantifier at `at`: its length, and whether it repeats (more than once), or null.
function quantifier(pattern: string, at: number): { length: number; repeats: boolean } | null {
  const c = pattern[at];
  if (c === '*' || c === '+') return { length: 1, repeats: true };
  if (c === '?') return { length: 1, repeats: false };
  if (c !== '{') return null;
  const match = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(at));
  if (match === null) return null;
  const max = match[2] === undefined ? Number(match[1]) : match[3] === '' ? Infinity : Number(match[3]);
  return { length: match[0].length, repeats: max > 1 };
}

/**
 * Why `pattern` may take exponential (or high-degree polynomial) time in a backtracking engine,
 * or null. A scan of its syntax as the 'u' flag reads it (the pattern already compiled there):
 * a repeated group may not hold a repetition or an alternation, nor may a backreference appear.
 */
export function regexHazard(pattern: string): string | null {
  const frames: Frame[] = [{ repeats: false, alternates: false }];
  // The atom a quantifier would apply to: nothing, a plain one, or a group holding repetition or |.
  let atom: 'none' | 'plain' | 'complex' = 'none';
  let repetitions = 0;
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i];
    const q = quantifier(pattern, i);
    if (q !== null && atom !== 'none') {
      if (q.repeats && atom === 'complex') return 'a repeated group holds a repetition or an alternation (exponential backtracking)';
      if (q.repeats) repetitions++;
      if (q.repeats || atom === 'complex') frames[frames.length - 1].repeats = true;
      i += q.length + (pattern[i + q.length] === '?' ? 1 : 0);
      atom = 'none';
      continue;
    }
    if (c === '\\') {
      if (/[1-9k]/.test(pattern[i + 1] ?? '')) return 'backreferences are not allowed';
      i += 2;
      atom = 'plain';
    } else if (c === '[') {
      // A class is one atom; an escaped ']' does not end it.
      i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      i++;
      atom = 'plain';
    } else if (c === '(') {
      frames.push({ repeats: false, alternates: false });
      // (?: (?= (?! (?<= (?<! (?<name>: the prefix is no atom of its own.
      const prefix = /^\(\?(?::|=|!|<=|<!|<[^>]*>)?/.exec(pattern.slice(i));
      i += prefix?.[0].length ?? 1;
      atom = 'none';
    } else if (c === ')') {
      const frame = frames.pop()!;
      if (frame.repeats) frames[frames.length - 1].repeats = true;
      atom = frame.repeats || frame.alternates ? 'complex' : 'plain';
      i++;
    } else if (c === '|') {
      frames[frames.length - 1].alternates = true;
      atom = 'none';
      i++;
    } else {
      atom = 'plain';
      i++;
    }
  }
  if (repetitions > MAX_REGEX_REPETITIONS) return `more than ${MAX_REGEX_REPETITIONS} repetitions`;
  return null;
}

/**
 * Compiles an OS-NAME's regex, anchored to the whole name (^(?:...)$). Throws an Error whose
 * message says why it cannot be one.
 */
export function compileIdentRegex(pattern: string): IdentRegex {
  if (pattern === '') throw new Error('an empty regular expression');
  try {
    // Alone first: a pattern such as "a)|(b" would otherwise escape the anchoring group.
    new RegExp(pattern, 'u');
  } catch (error) {
    throw new Error(`bad regular expression /${pattern}: ${(error as Error).message}`);
  }
  const hazard = regexHazard(pattern);
  if (hazard !== null) throw new Error(`regular expression /${pattern} refused: ${hazard}`);
  const captures = new RegExp(`(?:${pattern})|`, 'u').exec('')!.length - 1;
  return { regex: new RegExp(`^(?:${pattern})$`, 'u'), captures };
}

/**
 * The account a regex line gives `name`: `account` with its first \1 replaced by the first
 * capture (as PostgreSQL replaces it), or null when the name does not match.
 */
export function regexAccount(compiled: IdentRegex, name: string, account: string): string | null {
  if (name.length > MAX_REGEX_NAME_LENGTH) return null;
  const match = compiled.regex.exec(name);
  if (match === null) return null;
  const at = account.indexOf('\\1');
  if (at < 0) return account;
  const capture = match[1];
  // A capture that took no part in the match gives no account rather than a guessed one.
  if (capture === undefined) return null;
  return account.slice(0, at) + capture + account.slice(at + 2);
}
