// MySQL's LIKE as the statements evaluate it: wildcards, escapes, case, characters beyond the
// BMP, and patterns that would make a backtracking matcher run for ever.
import { like } from '../../lib/server/statements/values';

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

it('stays linear on patterns that make backtracking matchers explode', () => {
  const value = 'a'.repeat(10_000);
  expect(like(value, `${'%a'.repeat(50)}%b`)).toBe(false);
  expect(like(value, `${'%'.repeat(1000)}b`)).toBe(false);
  expect(like(value, `${'%a'.repeat(50)}%`)).toBe(true);
});
