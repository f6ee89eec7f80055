// mysql_clear_password: the password in cleartext, for servers that must see it (PAM, LDAP).
// The connection refuses to run it unless the caller enabled it (see client/policy.ts).
import { declareClientPlugin } from '../plugin';
import { sendPasswordInCleartext } from './auth-simple';

export const mysqlClearPassword = declareClientPlugin({
  name: 'mysql_clear_password',
  author: 'auth-socket',
  description: 'Sends the password in cleartext; only when explicitly enabled',
  version: [1, 0, 0],
  license: 'MIT',
  // Same wire behaviour as the manual's auth_simple: password and a NUL.
  authenticate: sendPasswordInCleartext,
  sendsCleartextPassword: true,
});
