// Differential: MariaDB's unix_socket and its OR chains, the same CREATE USER statements run by
// the real mariadb CLI on a private MariaDB 10.11 and on our server, then the same logins by the
// same OS users. Where 10.11 and 11.6 agree (no AS string, chains) the answers must be the same,
// SHOW CREATE USER included; the AS string is where 10.11 (ignores it) and 11.6 (it replaces the
// user name, ours) differ, and that divergence is pinned once rather than held to 10.11.
import path from 'path';

import { Accounts } from '../../lib/server/catalog/accounts';
import { AuthServer, createServer } from '../../lib/server/listener';
import { accessDenied1698, ClientRun, runMariadbCli } from '../helpers/clients';
import { MariadbInstance, startMariadb } from '../helpers/mariadb';
import { describeAsRoot, ensureOsUser, OsUser } from '../helpers/root';
import { close, listen, tempDir } from '../helpers/sockets';

const ROOT = { uid: 0, gid: 0 };

describeAsRoot("unix_socket and OR chains: MariaDB 10.11 and ours, same statements, same CLI, same OS users", () => {
  const dir = tempDir('auth-socket-unix-socket-');
  const ourSocket = path.join(dir.path, 'ours.sock');
  let mariadb: MariadbInstance;
  let ours: AuthServer;
  const users: Record<string, OsUser> = {};

  beforeAll(async () => {
    for (const name of ['valerie', 'stephanie', 'daemon', 'nobody']) users[name] = ensureOsUser(name);
    const accounts = new Accounts();
    accounts.create({ user: 'root', host: 'localhost', plugin: 'auth_socket', privileges: ['ALL'], grantOption: true });
    ours = createServer({ accounts });
    [mariadb] = await Promise.all([startMariadb(), listen(ours, ourSocket)]);
    const statements = [
      "CREATE USER 'valerie'@'localhost' IDENTIFIED VIA unix_socket",
      "CREATE USER 'stephanie'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('pw')",
      "CREATE USER 'daemon'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('pw') OR unix_socket",
      "CREATE USER 'nobody'@'localhost' IDENTIFIED VIA unix_socket USING 'stephanie'",
    ].join('; ');
    for (const socketPath of [mariadb.socketPath, ourSocket]) {
      expect(await runMariadbCli({ endpoint: { socketPath }, user: 'root', sql: statements, as: ROOT })).toEqual({ code: 0, stdout: '', stderr: '' });
    }
  });
  afterAll(async () => {
    await Promise.all([mariadb?.stop(), ours && close(ours)]);
    dir.remove();
  });

  const both = (user: string, os: string, password?: string): Promise<ClientRun[]> =>
    Promise.all(
      [mariadb.socketPath, ourSocket].map((socketPath) =>
        runMariadbCli({ endpoint: { socketPath }, user, as: users[os], sql: 'SELECT CURRENT_USER()', extraArgs: password === undefined ? [] : [`--password=${password}`] }),
      ),
    );
  const ok = (user: string) => ({ code: 0, stdout: `${user}@localhost\n`, stderr: '' });
  const denied = (line: string) => ({ code: 1, stdout: '', stderr: `${line}\n` });

  it.each([
    // [account, OS user, password, answer]
    ['valerie', 'valerie', undefined, ok('valerie')],
    ['valerie', 'stephanie', undefined, denied(accessDenied1698('valerie'))],
    // unix_socket OR mysql_native_password: the socket first, then the password.
    ['stephanie', 'stephanie', undefined, ok('stephanie')],
    ['stephanie', 'valerie', 'pw', ok('stephanie')],
    ['stephanie', 'valerie', 'wrong', denied("ERROR 1045 (28000): Access denied for user 'stephanie'@'localhost' (using password: YES)")],
    ['stephanie', 'valerie', undefined, denied(accessDenied1698('stephanie'))],
    // mysql_native_password OR unix_socket (mariadb-install-db's root form): the last refusal, unix_socket's, answers.
    ['daemon', 'daemon', undefined, ok('daemon')],
    ['daemon', 'nobody', 'pw', ok('daemon')],
    ['daemon', 'nobody', 'wrong', denied(accessDenied1698('daemon'))],
    ['daemon', 'nobody', undefined, denied(accessDenied1698('daemon'))],
  ] as const)('account %s, OS user %s, password %s: the same answer', async (user, os, password, answer) => {
    const [theirs, mine] = await both(user, os, password);
    expect(theirs).toEqual(answer);
    expect(mine).toEqual(theirs);
  });

  it.each(['caching_sha2_password', 'client_ed25519'])('a chain whatever plugin the client starts with (--default-auth=%s)', async (plugin) => {
    const run = (socketPath: string, user: string, os: string, password?: string) =>
      runMariadbCli({ endpoint: { socketPath }, user, as: users[os], sql: 'SELECT CURRENT_USER()', extraArgs: [`--default-auth=${plugin}`, ...(password === undefined ? [] : [`--password=${password}`])] });
    for (const [user, os, password] of [['daemon', 'daemon'], ['daemon', 'nobody', 'pw'], ['stephanie', 'valerie', 'pw'], ['stephanie', 'valerie', 'wrong']] as const) {
      const [theirs, mine] = await Promise.all([run(mariadb.socketPath, user, os, password), run(ourSocket, user, os, password)]);
      expect([user, os, password, mine]).toEqual([user, os, password, theirs]);
      expect(theirs.code).toBe(password === 'wrong' ? 1 : 0);
    }
  });

  it('SHOW CREATE USER prints a chain the same way', async () => {
    const show = (socketPath: string) => runMariadbCli({ endpoint: { socketPath }, user: 'root', as: ROOT, sql: "SHOW CREATE USER 'stephanie'@'localhost'; SHOW CREATE USER 'daemon'@'localhost'" });
    const [theirs, mine] = await Promise.all([show(mariadb.socketPath), show(ourSocket)]);
    expect(theirs.stdout).toMatch(/^CREATE USER `stephanie`@`localhost` IDENTIFIED VIA unix_socket OR mysql_native_password USING '\*[0-9A-F]{40}'\n/);
    expect(mine).toEqual(theirs);
  });

  it("the AS string: 10.11 ignores it, ours (11.6's rule) lets only the named OS user in", async () => {
    const [theirsNobody, mineNobody] = await both('nobody', 'nobody');
    expect(theirsNobody).toEqual(ok('nobody'));
    expect(mineNobody).toEqual(denied(accessDenied1698('nobody')));
    const [theirsStephanie, mineStephanie] = await both('nobody', 'stephanie');
    expect(theirsStephanie).toEqual(denied(accessDenied1698('nobody')));
    expect(mineStephanie).toEqual(ok('nobody'));
  });
});
