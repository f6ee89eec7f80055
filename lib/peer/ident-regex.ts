// The /regex OS-NAME of an ident map (pg_ident.conf's regular-expression lines, src/backend/libpq/
// hba.c check_ident_usermap): compiled once, matched against the whole OS user name, its first
// capture substituted for \1 in the account. PostgreSQL runs its own automaton-based regex
// engine; V8's backtracks, so a pattern is refused here unless a count of the paths a backtracking
// search can take through it proves it small, and a name longer than MAX_REGEX_NAME_LENGTH is
// never tested. The count holds because:
// - a repeated group (any count above one, {n} included) holds plain atoms only: characters,
//   classes, escapes, exact {n} on those. No choice (quantifier, alternation), so each iteration
//   matches one way and only the number of iterations varies ((aa?)*, (a|a)*, (a?){30} refused);
//   no group and no assertion (\b \B ^ $), so one iteration costs at most its body's length
//   ((?:()()a)*, (?:(?=a)a)* refused: V8 does work per nested group and lookaround per iteration);
// - optional parts (? and {0,1}) and alternatives multiply the count by the ways they can go (at
//   most MAX_REGEX_CHOICES), k repetitions by C(64 + k, k) (their iterations share the name);
// - a lookaround holds no repetition and no count above one ({n}): its own search, run wherever
//   it is reached, goes only the ways of its choices, which multiply the count, and reads at most
//   its length (a lookbehind reads back over what the repetitions before it took: a*a*a*a* then
//   (?<=\p{L}{64})b took 0.95 s);
// - there are no backreferences;
// - the pattern is at most MAX_REGEX_PATTERN_LENGTH long.
// At most MAX_REGEX_PATHS paths (what MAX_REGEX_REPETITIONS repetitions alone take), each at most
// a name's length plus the lookarounds it runs again (MAX_REGEX_WORK bounds paths times that):
// the slowest we built takes 25 ms on its first (interpreted) run and 1-5 ms after, where (aa?)*b
// took 12.9 s on 41 characters. Four repetitions (814385 paths) let a 245-character lookbehind
// after a*a*a*a* take 0.42 s: three are the most allowed.

/** Names longer than this (UTF-16 units) never match a /regex line (Linux's useradd takes 32). */
export const MAX_REGEX_NAME_LENGTH = 64;
/** Longer patterns (UTF-16 units) are refused: a path's cost grows with the pattern's length. */
export const MAX_REGEX_PATTERN_LENGTH = 256;
/**
 * Repetitions (*, +, {n,}, {n,m} with m > 1 and m > n) a pattern may hold: its worst case's degree
 * (^(.*)ie$ holds one; three leave room for ^(.*)_(.*)_(.*)$).
 * ? and {0,1} do not count: they double the paths rather than multiply them by the name's length,
 * and MAX_REGEX_CHOICES and MAX_REGEX_PATHS bound them.
 */
export const MAX_REGEX_REPETITIONS = 3;

// How many ways k repetitions of plain atoms can share a name of MAX_REGEX_NAME_LENGTH: their
// iteration counts sum to at most that, C(MAX_REGEX_NAME_LENGTH + k, k) tuples.
function repetitionPaths(k: number): number {
  let paths = 1;
  for (let i = 1; i <= k; i++) paths = (paths * (MAX_REGEX_NAME_LENGTH + i)) / i;
  return paths;
}

/** The backtracking paths a pattern may take: three repetitions in a row (47905), no more. */
export const MAX_REGEX_PATHS = repetitionPaths(MAX_REGEX_REPETITIONS);
/**
 * Paths times what one costs (the name's length and every lookaround's body, which each path that
 * reaches it runs again): MAX_REGEX_PATHS with 16 characters of lookarounds. At 64 (a lookbehind
 * of 60 dots after .*.*.*), a name of astral characters took 70 ms on its first run; at 16, 9 ms.
 */
export const MAX_REGEX_WORK = MAX_REGEX_PATHS * (MAX_REGEX_NAME_LENGTH + 16);
/**
 * The ways its optional parts and alternatives alone may go. Lower than MAX_REGEX_PATHS: V8 steps
 * through a repeated character without saving a backtrack point per iteration, but saves one per
 * ? and |, so 2^19 ?'s take about a second on 64 characters where four repetitions took 10 ms.
 */
export const MAX_REGEX_CHOICES = 4096;

export interface IdentRegex {
  readonly regex: RegExp;
  /** How many capture groups it has (\1 in the account needs one). */
  readonly captures: number;
}

// What a quantifier applies to (or a finished group): the ways its optional parts and alternatives
// can go, the repetitions inside, whether it holds any choice, whether it is or holds a group or
// an assertion (either way it may not be repeated).
interface Atom {
  paths: number;
  repeats: number;
  complex: boolean;
  /** A group or an assertion: what a repeated group may not hold. */
  structured: boolean;
  /** It holds (or is) one: it may not be repeated. */
  nested: boolean;
}

const PLAIN: Atom = { paths: 1, repeats: 0, complex: false, structured: false, nested: false };
const ASSERTION: Atom = { paths: 1, repeats: 0, complex: false, structured: true, nested: true };

interface Frame {
  lookaround: boolean;
  /** Where its body starts in the pattern. */
  start: number;
  complex: boolean;
  nested: boolean;
  repeats: number;
  /** Paths of the finished alternatives (they add up), and of the one being read (it multiplies). */
  done: number;
  current: number;
}

const newFrame = (lookaround: boolean, start: number): Frame => ({
  lookaround,
  start,
  complex: false,
  nested: false,
  repeats: 0,
  done: 0,
  current: 1,
});

function add(frame: Frame, atom: Atom | null): void {
  if (atom === null) return;
  frame.current *= atom.paths;
  frame.repeats += atom.repeats;
  frame.complex ||= atom.complex;
  frame.nested ||= atom.structured;
}

const count = (n: number): string => (n < 1e9 ? String(n) : n.toPrecision(3));

// A quantifier at `at`: its length (with a lazy '?') and bounds, or null.
function quantifier(pattern: string, at: number): { length: number; min: number; max: number } | null {
  const c = pattern[at];
  let q: { length: number; min: number; max: number } | null = null;
  if (c === '*') q = { length: 1, min: 0, max: Infinity };
  else if (c === '+') q = { length: 1, min: 1, max: Infinity };
  else if (c === '?') q = { length: 1, min: 0, max: 1 };
  else if (c === '{') {
    const match = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(at));
    if (match === null) return null;
    const min = Number(match[1]);
    const max = match[2] === undefined ? min : match[3] === '' ? Infinity : Number(match[3]);
    q = { length: match[0].length, min, max };
  }
  if (q !== null && pattern[at + q.length] === '?') q.length++;
  return q;
}

/**
 * Why `pattern` may take exponential (or too many) backtracking steps, or null. A scan of its
 * syntax as the 'u' flag reads it (the pattern already compiled there).
 */
export function regexHazard(pattern: string): string | null {
  if (pattern.length > MAX_REGEX_PATTERN_LENGTH) {
    return `the pattern is ${pattern.length} characters long, more than ${MAX_REGEX_PATTERN_LENGTH}`;
  }
  const frames: Frame[] = [newFrame(false, 0)];
  // Every lookaround's body, in pattern characters: each path that reaches one runs it again.
  let lookaroundChars = 0;
  // The atom a quantifier would apply to, not yet added to its frame (null: none, e.g. after '(').
  let atom: Atom | null = null;
  let repetitions = 0;
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i];
    const frame = frames[frames.length - 1];
    const q = atom === null ? null : quantifier(pattern, i);
    if (q !== null && atom !== null) {
      if (q.max > 1 && frames.some((f) => f.lookaround)) {
        return 'a lookaround holds a repetition or a count above one';
      }
      if (q.max <= 1) {
        // Optional: taken or not (both tried), so one way more; {0}, {1} change nothing.
        if (q.min !== q.max) atom = { ...atom, paths: atom.paths + 1, complex: true };
      } else if (atom.complex) {
        // Even {n}: (a?){30} splits a run of a's 2^30 ways.
        return 'a repeated group holds a repetition, an optional part or an alternation (exponential backtracking)';
      } else if (atom.nested) {
        // V8 resets a nested group's captures, runs a lookaround's own search, per iteration.
        return 'a repeated group holds a group, a lookaround or an assertion (\\b \\B ^ $): only plain atoms may repeat';
      } else if (q.min !== q.max) {
        // The atom is plain (fixed width, one way to match): only the iteration count varies.
        repetitions++;
        atom = { ...atom, paths: 1, repeats: 1, complex: true };
      }
      add(frame, atom);
      atom = null;
      i += q.length;
      continue;
    }
    add(frame, atom);
    atom = PLAIN;
    if (c === '\\') {
      if (/[1-9k]/.test(pattern[i + 1] ?? '')) return 'backreferences are not allowed';
      if (/[bB]/.test(pattern[i + 1] ?? '')) atom = ASSERTION;
      // \u{...}, \p{...}, \P{...} are one atom: their braces are no quantifier.
      const braced = /^\\[uPp]\{[^}]*\}/.exec(pattern.slice(i));
      i += braced?.[0].length ?? 2;
    } else if (c === '[') {
      // A class is one atom; an escaped ']' does not end it (with 'u', an unescaped one always does).
      i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '(') {
      // (?: (?= (?! (?<= (?<! (?<name> (?i:: the prefix is no atom of its own.
      const prefix = /^\(\?(?:[=!]|<[=!]|<[^>]*>|[a-z-]*:)?/.exec(pattern.slice(i));
      i += prefix?.[0].length ?? 1;
      frames.push(newFrame(/^\(\?<?[=!]/.test(prefix?.[0] ?? ''), i));
      atom = null;
    } else if (c === ')') {
      const group = frames.pop()!;
      if (group.lookaround) lookaroundChars += i - group.start;
      // A lookaround's search is its own, run again wherever it is reached: its choices multiply.
      const paths = group.done + group.current;
      const nested = group.nested || group.lookaround;
      atom = { paths, repeats: group.repeats, complex: group.complex, structured: true, nested };
      i++;
    } else if (c === '|') {
      frame.done += frame.current;
      frame.current = 1;
      frame.complex = true;
      atom = null;
      i++;
    } else {
      if (c === '^' || c === '$') atom = ASSERTION;
      i++;
    }
  }
  const top = frames[0];
  add(top, atom);
  if (repetitions > MAX_REGEX_REPETITIONS) return `more than ${MAX_REGEX_REPETITIONS} repetitions`;
  const choices = top.done + top.current;
  if (choices > MAX_REGEX_CHOICES) return `optional parts and alternatives can go ${count(choices)} ways, more than ${MAX_REGEX_CHOICES}`;
  const paths = choices * repetitionPaths(top.repeats);
  if (paths > MAX_REGEX_PATHS) {
    return `up to ${count(paths)} ways to backtrack, more than ${MAX_REGEX_PATHS} (optional parts, alternatives and repetitions multiply)`;
  }
  // A path costs about the name's length plus the lookarounds it runs: with them, fewer paths.
  if (paths * (MAX_REGEX_NAME_LENGTH + lookaroundChars) > MAX_REGEX_WORK) {
    return `lookarounds of ${lookaroundChars} characters, run again on each of up to ${count(paths)} ways to backtrack`;
  }
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
