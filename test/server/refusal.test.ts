// Every reason the server refuses for maps through the one table of MySQL errors: read from the
// source, so a new refusal without a mapping fails here, not on a client's screen.
import fs from 'fs';
import path from 'path';

import { MYSQL_ERRORS } from '../../lib/protocol/mysql-errors';
import { loginFailed, refusal, REFUSALS } from '../../lib/server/refusal';
import { PASSWORD_USED_NO, PASSWORD_USED_NO_MENTION, PASSWORD_USED_YES } from '../../lib/protocol/mysql-errors';

const LIB = path.join(__dirname, '..', '..', 'lib');
// Handshakes that end with no ERR at all, as MySQL's do: a timeout, a client gone, no transport.
const CLOSED_WITHOUT_ERR = ['connect-timeout', 'connection-closed', 'no-transport', 'tls-handshake-failed'];
// The upstream's own ERR, passed on as it came (upstreamRefused()).
const PASSED_ON = ['upstream-refused'];

// The handshake's modules (lib/server/*.ts), the plugins (lib/server/plugins/) and the proxy's
// admission (lib/proxy/): where refusals are decided.
function sources(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => name.endsWith('.ts')).map((name) => fs.readFileSync(path.join(dir, name), 'utf8'));
}

it('maps each reason to an entry of the error table, or to a failed login', () => {
  for (const [reason, error] of Object.entries(REFUSALS)) {
    if (error === 'login-failed') continue;
    expect([reason, MYSQL_ERRORS[error]]).toEqual([reason, expect.objectContaining({ errno: expect.any(Number), code: expect.any(String) })]);
  }
});

it('leaves no reason the server code gives unmapped', () => {
  // Reasons are kebab-case words where a reason is given: refusal('x'), refusalReason = 'x', the
  // plugins' refuse(info, 'x'), the branches of a reason's ternary, a packet error's reason
  // (ERR_X: 'x'); and auth_socket's own.
  const server = [...sources(path.join(LIB, 'server')), ...sources(path.join(LIB, 'server', 'plugins')), ...sources(path.join(LIB, 'proxy'))].join('\n');
  const authSocket = fs.readFileSync(path.join(LIB, 'peer', 'authenticate.ts'), 'utf8');
  const refusals = authSocket.slice(authSocket.indexOf('export type AuthSocketReason'), authSocket.indexOf(';', authSocket.indexOf('export type AuthSocketReason')));
  const given = /(?:refusal\(|refusalReason = |refuse\(info, |\s[?:] |\?\? |\| |[A-Z]: )'([a-z]+(?:-[a-z0-9]+)+)'/g;
  const found = new Set([...`${server}\n${refusals}`.matchAll(given)].map((m) => m[1]));
  const accepted = ['user-match', 'authentication-string-match', 'map-match', 'login-failed'];
  const unmapped = [...found].filter((reason) => !(reason in REFUSALS) && ![...CLOSED_WITHOUT_ERR, ...PASSED_ON, ...accepted].includes(reason));
  expect(found.size).toBeGreaterThan(20);
  expect(unmapped).toEqual([]);
});

it('builds MySQL\'s own ERR for each, and a failed login as login_failed_error does', () => {
  expect(refusal('tls-not-offered').err).toEqual({ errno: 1043, sqlState: '08S01', message: 'Bad handshake' });
  expect(refusal('plugin-not-loaded', undefined, 'x').err).toEqual({ errno: 1524, sqlState: 'HY000', message: "Plugin 'x' is not loaded" });
  expect(refusal('too-many-connections')).toMatchObject({ code: 'ERR_TOO_MANY_CONNECTIONS', err: { errno: 1040, sqlState: '08004' } });
  expect(loginFailed('user-mismatch', 'u', 'localhost', PASSWORD_USED_NO_MENTION)).toMatchObject({
    code: 'ERR_ACCESS_DENIED',
    err: { errno: 1698, sqlState: '28000', message: "Access denied for user 'u'@'localhost'" },
  });
  expect(loginFailed('wrong-password', 'u', '10.0.0.1', PASSWORD_USED_YES).err.message).toBe(
    "Access denied for user 'u'@'10.0.0.1' (using password: YES)",
  );
  expect(loginFailed('unknown-account', 'u', 'h', PASSWORD_USED_NO).err.errno).toBe(1045);
});
