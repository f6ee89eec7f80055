// /regex lines of an ident map: which patterns regexHazard refuses (and why), which it keeps, and
// that every kept one among adversarial candidates runs to its answer on worst-case 64-character
// names. Refused candidates are never run: a regression that accepted one fails the classification
// check before any match is tried, rather than hanging the suite.
import {
  compileIdentRegex,
  MAX_REGEX_CHOICES,
  MAX_REGEX_NAME_LENGTH,
  MAX_REGEX_PATHS,
  MAX_REGEX_PATTERN_LENGTH,
  MAX_REGEX_REPETITIONS,
  MAX_REGEX_WORK,
  regexAccount,
  regexHazard,
} from '../../lib/peer/ident-regex';

const NESTED = /repeated group holds a repetition, an optional part or an alternation/;
const CHOICES = /optional parts and alternatives can go \d+ ways/;
const PATHS = /ways to backtrack, more than 47905/;
const REPETITIONS = /more than 3 repetitions/;
const STRUCTURED =
  /repeated group holds a group, a lookaround or an assertion \(\\b \\B \^ \$\): only plain atoms may repeat/;
const LOOKAROUND = /a lookaround holds a repetition/;
const LENGTH = /the pattern is \d+ characters long, more than 256/;
const WORK = /lookarounds of \d+ characters, run again on each of up to \d+ ways to backtrack/;

// The second review's: no choice in the repeated group, but each iteration of its body does work
// that no count of paths saw (188 ms at n = 20 on 64 a's, 1.2 s at n = 100, 6 s at n = 490).
const emptyGroups = (n: number): string => `${`(?:${'()'.repeat(n)}a)*`.repeat(4)}b`;
// The longest pattern of that shape with `unit` in the body that fits MAX_REGEX_PATTERN_LENGTH.
const longest = (unit: string): string => {
  let n = 1;
  const shape = (k: number): string => `${`(?:${unit.repeat(k)}a)*`.repeat(4)}b`;
  while (shape(n + 1).length <= MAX_REGEX_PATTERN_LENGTH) n++;
  return shape(n);
};

// Patterns refused, with the reason each must give.
const refused: [string, RegExp][] = [
  // The security review's: optional atoms inside a repeated group.
  ['(?:aa?)*b', NESTED],
  ['(?:a?a?)*b', NESTED],
  ['(?:a?[ab])*c', NESTED],
  ['(?:\\w?\\w?)+\\d', NESTED],
  ['(?:a{0,1}b?)+c', NESTED],
  ['(a?)+b', NESTED],
  // Any count above one repeats: {n}, {n,m}, {n,} on a group holding a choice.
  ['(?:a|a){30}', NESTED],
  ['(?:a?){30}a{30}', NESTED],
  ['(?:a*){2,}', NESTED],
  ['(?:a|b){2}', NESTED],
  ['(?:a*?)+?b', NESTED],
  ['(?<n>a+)+', NESTED],
  ['((?:a+))*b', NESTED],
  ['(?:[a-z]|\\w)+!', NESTED],
  ['(?:\\d|[0-9])*x', NESTED],
  // A lookaround holding a choice is a choice of its group.
  ['(?:(?!b?)a)+', NESTED],
  // A repeated group holding a group or an assertion, however plain: its cost per iteration grows.
  [emptyGroups(20), STRUCTURED],
  [emptyGroups(5), STRUCTURED],
  [longest('()'), STRUCTURED],
  [longest('(?=a)'), STRUCTURED],
  [longest('(?=[a-z])'), STRUCTURED],
  [longest('(?!b)'), STRUCTURED],
  [longest('(?<=a)'), STRUCTURED],
  [longest('\\B'), STRUCTURED],
  ['(?:(?=a)a)*b', STRUCTURED],
  ['(?:(?!b)a)+b', STRUCTURED],
  ['(?:(?<=a)a)*b', STRUCTURED],
  ['(?:(?<!b)a){2,}b', STRUCTURED],
  ['(?:\\ba)*b', STRUCTURED],
  ['(?:a\\B)+b', STRUCTURED],
  ['(?:^a)*b', STRUCTURED],
  ['(?:a$)*b', STRUCTURED],
  ['(?:(a))*b', STRUCTURED],
  ['(?:(?:a)b)*c', STRUCTURED],
  ['(?:a(?<n>b)){2}c', STRUCTURED],
  ['(?:a(?:b){2}){2}c', STRUCTURED],
  // A lookaround holding a repetition, anywhere.
  ['(?:(?=a*)a)*b', LOOKAROUND],
  ['(?=.*\\d)[a-z0-9]+', LOOKAROUND],
  ['(?=a*)b', LOOKAROUND],
  ['(?!a+$)b', LOOKAROUND],
  ['(?<=a{1,2})b', LOOKAROUND],
  ['(?=(?:ab)+)a', LOOKAROUND],
  ['x(?:(?=a{2,})a)?', LOOKAROUND],
  ['(?=.*a)(?=.*a)a*a*a*b', LOOKAROUND],
  ['(?=a*a*)a*a*b', LOOKAROUND],
  ['(?=a*a*a*)a*', LOOKAROUND],
  ['(?=a*a*)a*a{30}b', LOOKAROUND],
  ['(?=' + 'a?'.repeat(12) + 'a{40}b)', LOOKAROUND],
  ['a*a*a*a*(?<=\\p{L}{64})b', LOOKAROUND],
  ['a*a*a*a*(?<=[^b]{64})b', LOOKAROUND],
  // Lookarounds that every path runs again (the third review's: 82-144 ms on a name of astral characters).
  ['.*.*.*' + `(?<=${'.'.repeat(60)})`.repeat(3) + `(?<=${'.'.repeat(49)})c`, WORK],
  [`.*.*.*(?<=${'.'.repeat(17)})c`, WORK],
  [`.*.*.*(?=${'.'.repeat(9)})(?<=${'.'.repeat(8)})c`, WORK],
  // Too long, whatever it holds.
  [emptyGroups(100), LENGTH],
  ['a'.repeat(MAX_REGEX_PATTERN_LENGTH + 1), LENGTH],
  // No quantifier repeats, but choices in a row multiply: exponential all the same.
  ['(a|a)'.repeat(24), CHOICES],
  ['a?'.repeat(24) + 'a{24}', CHOICES],
  ['[ab]?'.repeat(19) + 'a{12}c', CHOICES],
  ['(?:a?b?c?d?e?f?g?)?'.repeat(2), CHOICES],
  // Repetitions: too many, or too many paths with the choices beside them.
  ['a*a*a*a*a*', REPETITIONS],
  ['\\u{61}*\\u{61}*\\u{61}*\\u{61}*\\u{61}*b', REPETITIONS],
  ['[a-z]*[a-y]*[b-z]*[a-z]*[a-z]+0', REPETITIONS],
  ['a*a*a*a?', PATHS],
  ['[a-z]*[a-z]*[a-z]*(?:a{30}|b)', PATHS],
  ['a*a*a*a*b', REPETITIONS],
  ['^(.*)a(.*)a(.*)a(.*)b$', REPETITIONS],
  ['a?a?a?a?a?a?a*a*a*b', PATHS],
  ['a?'.repeat(8) + 'a*a*a{30}b', PATHS],
  // Backreferences.
  ['(a*)\\1', /backreferences/],
  ['(?<x>a)\\k<x>', /backreferences/],
];

// Patterns kept: everyday ones, and adversarial ones at the edge of the bounds.
const accepted = [
  '^(.*)ie$',
  '(.*)@example',
  '[a-z]+_ro',
  '(dev|ops)-[a-z]+',
  'a?b*',
  '^(.*)\\.dba$',
  '^([a-z]+)\\.(dba|ops)$',
  '[(+]*x(?:ab)+',
  'x(y)?z',
  '[a-z]+(_ro)?(_rw)?(_adm)?',
  '(?!root$)[a-z_][a-z0-9_-]*',
  '\\p{L}+\\.dba',
  '(?:ab)+c',
  '(?:[a-z]{2}-)+x',
  '(?:ab){2}c',
  '^(?:ab)+$',
  '(?:[\\^$(]a)+b',
  '(?:\\$\\^\\(\\.)+c',
  '\\ba+\\B\\w*$',
  'x(?:(y)|z)w',
  '(?!root$)(?:(?=[a-z])\\w)?',
  '(?:a?){1}b',
  '(?:a{3})*b',
  '(?:ab)*(?:ab)*(?:ab)*c',
  '(?:[ab][bc])+d',
  '^(.*)a(.*)a(.*)b$',
  'a*a*a*b',
  '\\w*\\w*\\w*\\d',
  'a{0,64}a{0,64}a{0,64}b',
  'a*a*a*a{30}b',
  'a?'.repeat(12) + 'a{40}b',
  '[ab]?'.repeat(12) + 'a{40}c',
  '(?:a|a)'.repeat(12) + 'a{40}b',
  'a?'.repeat(4) + 'a*a*a{30}b',
  'a*a*a*a{20}b',
  'a?'.repeat(9) + 'a*a{30}b',
  '(?:a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a)'.repeat(3) + 'a{40}b',
  '(?=' + 'a?'.repeat(12) + 'aaaab)',
  'a'.repeat(MAX_REGEX_PATTERN_LENGTH - 1) + 'b',
  `.*.*.*(?<=${'.'.repeat(16)})c`,
  '.*.*' + `(?<=${'.'.repeat(60)})`.repeat(3) + `(?<=${'.'.repeat(40)})c`,
];

// Names built to make a backtracking engine try every split of a run before failing at its end.
const worstNames = [
  ...['b', 'c', '0', '!', 'a'].map((last) => 'a'.repeat(MAX_REGEX_NAME_LENGTH - 1) + last),
  'ab'.repeat(MAX_REGEX_NAME_LENGTH / 2),
  'a'.repeat(MAX_REGEX_NAME_LENGTH / 2) + 'b'.repeat(MAX_REGEX_NAME_LENGTH / 2),
  '0'.repeat(MAX_REGEX_NAME_LENGTH - 1) + 'x',
  'a'.repeat(MAX_REGEX_NAME_LENGTH - 4) + '.dba',
];

describe('regexHazard', () => {
  it.each(refused)('refuses %s with a reason', (pattern, reason) => {
    expect(regexHazard(pattern)).toMatch(reason);
    expect(() => compileIdentRegex(pattern)).toThrow(new RegExp(`refused: .*${reason.source}`));
  });

  it.each(accepted)('accepts %s', (pattern) => {
    expect(regexHazard(pattern)).toBeNull();
    expect(compileIdentRegex(pattern).regex.flags).toBe('u');
  });

  it('bounds sit where the constants say', () => {
    expect([MAX_REGEX_REPETITIONS, MAX_REGEX_PATHS, MAX_REGEX_CHOICES, MAX_REGEX_WORK]).toEqual([3, 47905, 4096, 47905 * 80]);
    // 2^12 optional parts is the most; one more is refused.
    expect(regexHazard('a?'.repeat(12))).toBeNull();
    expect(regexHazard('a?'.repeat(13))).toMatch(/8192 ways, more than 4096/);
    // Three repetitions fill MAX_REGEX_PATHS alone, two leave room for 22 ways.
    expect(regexHazard('a*b*c*')).toBeNull();
    expect(regexHazard('a*b*c*d?')).toMatch(PATHS);
    expect(regexHazard('a*b*(?:d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s|t|u|v|w|x|y)')).toBeNull();
    expect(regexHazard('a*b*(?:d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s|t|u|v|w|x|y|z)')).toMatch(PATHS);
    // {n} on a plain atom and {0,1}, {1} on anything are no repetition; {n,m} with m > n is.
    expect(regexHazard('a{2}b{3}c{4}d{5}e{6}(?:fg){7}')).toBeNull();
    expect(regexHazard('(?:a*b)?(?:c|d){1}(?:e+){0,1}')).toBeNull();
    expect(regexHazard('a{1,2}b{1,2}c{1,2}d{1,2}e{1,2}')).toMatch(REPETITIONS);
    // Lazy quantifiers count as the greedy ones; a class is one atom whatever it holds.
    expect(regexHazard('(?:ab?)+?')).toMatch(NESTED);
    expect(regexHazard('[*+?{}()|]+[\\]]*')).toBeNull();
    // The length cap counts UTF-16 units; at the cap is kept.
    expect(MAX_REGEX_PATTERN_LENGTH).toBe(256);
    expect(regexHazard('a'.repeat(256))).toBeNull();
    expect(regexHazard('a'.repeat(257))).toMatch(/257 characters long, more than 256/);
    expect(regexHazard('\u{1F600}'.repeat(129))).toMatch(/258 characters long/);
    // A group repeated at most once may hold anything the other rules allow.
    expect(regexHazard('(?:(a)(?=b)\\b^$)?(?:(c)(d)){1}x')).toBeNull();
    expect(regexHazard('(?:(a)){2}')).toMatch(STRUCTURED);
    // A lookaround may hold choices, never a repetition or a count above one.
    expect(regexHazard('(?=(?:a|b)c?ddd{1})\\w')).toBeNull();
    expect(regexHazard('(?=(?:a|b)c?d{3})\\w')).toMatch(/a lookaround holds a repetition or a count above one/);
    expect(regexHazard('(?<=(?:\\p{L}){64})b')).toMatch(LOOKAROUND);
    expect(regexHazard('(?:(?=a)|(?=(?:ab){2}))b')).toMatch(LOOKAROUND);
    expect(regexHazard('(?=(?=a*)b)c')).toMatch(LOOKAROUND);
  });

  it('compileIdentRegex still says why a pattern is no regex at all', () => {
    expect(() => compileIdentRegex('')).toThrow(/empty regular expression/);
    expect(() => compileIdentRegex('a)|(b')).toThrow(/^bad regular expression \/a\)\|\(b: /);
    expect(() => compileIdentRegex('(?=a)*')).toThrow(/^bad regular expression/);
  });

  it('keeps captures and \\1 as before', () => {
    const compiled = compileIdentRegex('^(.*)ie$');
    expect(compiled.captures).toBe(1);
    expect(regexAccount(compiled, 'valerie', '\\1_db')).toBe('valer_db');
    expect(regexAccount(compileIdentRegex('(dev|ops)-[a-z]+'), 'ops-alice', 'team_\\1')).toBe('team_ops');
    expect(regexAccount(compiled, 'a'.repeat(MAX_REGEX_NAME_LENGTH) + 'ie', 'x')).toBeNull();
  });

  it('every accepted adversarial candidate answers on worst-case 64-character names', () => {
    // Which of worstNames each accepted pattern matches (by index); the others match none.
    const matches: Record<string, number[]> = {
      '^(.*)\\.dba$': [8],
      '^([a-z]+)\\.(dba|ops)$': [8],
      '[a-z]+(_ro)?(_rw)?(_adm)?': [0, 1, 4, 5, 6],
      '(?!root$)[a-z_][a-z0-9_-]*': [0, 1, 2, 4, 5, 6],
      '\\p{L}+\\.dba': [8],
      '(?:a{3})*b': [0],
      '^(.*)a(.*)a(.*)b$': [0, 5, 6],
      'a*a*a*b': [0],
      '\\w*\\w*\\w*\\d': [2],
      'a{0,64}a{0,64}a{0,64}b': [0],
      'a*a*a*a{30}b': [0],
      [`${'a?'.repeat(4)}a*a*a{30}b`]: [0],
      'a*a*a*a{20}b': [0],
      [`${'a?'.repeat(9)}a*a{30}b`]: [0],
      '^(?:ab)+$': [5],
      [`.*.*.*(?<=${'.'.repeat(16)})c`]: [1],
      ['.*.*' + `(?<=${'.'.repeat(60)})`.repeat(3) + `(?<=${'.'.repeat(40)})c`]: [1],
      '\\ba+\\B\\w*$': [0, 1, 2, 4, 5, 6],
    };
    const candidates = [...refused.map(([pattern]) => pattern), ...accepted];
    // Classified first: a refused pattern that a regression lets through fails here, never run.
    const kept = candidates.filter((pattern) => regexHazard(pattern) === null);
    expect(kept).toEqual(accepted);
    expect(Object.keys(matches).filter((pattern) => !kept.includes(pattern))).toEqual([]);
    for (const pattern of kept) {
      const compiled = compileIdentRegex(pattern);
      const got = worstNames.flatMap((name, at) => (regexAccount(compiled, name, 'x') === 'x' ? [at] : []));
      expect([pattern, got]).toEqual([pattern, matches[pattern] ?? []]);
    }
    expect(worstNames.every((name) => name.length === MAX_REGEX_NAME_LENGTH)).toBe(true);
  });
});
