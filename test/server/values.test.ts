// MySQL's LIKE as the statements evaluate it: wildcards, escapes, case, characters beyond the
// BMP, and patterns that would make a backtracking matcher run for ever.
import { like } from '../../lib/server/statements/values';
import { wildcardMatch } from '../../lib/server/wildcard';

it.each([
  ['auth_socket', '%socket%', true],
  ['auth_socket', 'AUTH\\_SOCKET', true],
  ['authXsocket', 'auth\\_socket', false],
  ['authXsocket', 'auth_socket', true],
  ['auth_socket', '%sock', false],
  ['', '%', true],
  ['', '_', false],
  ['50%', '50\\%', true],
  ['500', '50\\%', false],
  ['😀x', '_x', true],
  ['ABC', 'a%c', true],
])('%j LIKE %j is %j', (value, pattern, expected) => {
  expect(like(value, pattern)).toBe(expected);
});

it('refuses LIKE operands over 1024 characters rather than walk them', () => {
  expect(() => like('a'.repeat(1025), '%')).toThrow(expect.objectContaining({ err: expect.objectContaining({ errno: 1235 }) }));
  expect(() => like('a', '%'.repeat(1025))).toThrow(expect.objectContaining({ err: expect.objectContaining({ errno: 1235 }) }));
});

it('stays within n·m steps on patterns that make backtracking matchers explode', () => {
  const value = 'a'.repeat(1024);
  expect(like(value, `${'%a'.repeat(500)}%b`)).toBe(false);
  expect(like(value, `${'%'.repeat(1000)}b`)).toBe(false);
  // A host pattern as an account may hold one: was a RegExp of .* runs, exponential in them.
  expect(wildcardMatch('localhost', `${'%'.repeat(40)}z`, false)).toBe(false);
  expect(wildcardMatch('x'.repeat(255), `${'%x'.repeat(100)}%z`, false)).toBe(false);
});

it('matches host patterns without escapes, case-insensitively', () => {
  expect(wildcardMatch('192.168.1.7', '192.168.1._', false)).toBe(true);
  expect(wildcardMatch('db.EXAMPLE.com', '%.example.com', false)).toBe(true);
  expect(wildcardMatch('a\\b', 'a\\b', false)).toBe(true);
});
