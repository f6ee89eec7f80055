// The Debian `mariadb` command-line client, run as other OS users, against our server: who gets in
// with auth_socket, what CURRENT_USER(), USER() and @@external_user say, and the exact refusal line.
import path from 'path';

import { Accounts } from '../../lib/server/catalog/accounts';
import { AuthServer, createServer } from '../../lib/server/listener';
import { accessDenied1698, OsIdentity, runMariadbCli } from '../helpers/clients';
import { describeAsRoot, ensureOsUser, unmappedUid } from '../helpers/root';
import { close, listen, tempDir, TempDir } from '../helpers/sockets';

const IDENTITY_SQL = 'SELECT CURRENT_USER(), USER(), @@external_user';

describeAsRoot('the mariadb CLI as other OS users', () => {
  let dir: TempDir;
  let socketPath: string;
  let accounts: Accounts;
  let server: AuthServer;
  let tcpServer: AuthServer;
  let tcpPort: number;
  let nobody: OsIdentity;
  let daemon: OsIdentity;
  let valerie: OsIdentity;
  let stephanie: OsIdentity;
  let ghost: OsIdentity;

  beforeAll(async () => {
    nobody = ensureOsUser('nobody');
    daemon = ensureOsUser('daemon');
    valerie = ensureOsUser('valerie');
    stephanie = ensureOsUser('stephanie');
    const uid = unmappedUid();
    ghost = { uid, gid: uid };
    accounts = new Accounts();
    accounts.create({ user: 'nobody', host: 'localhost', plugin: 'auth_socket' });
    accounts.create({ user: 'shared', host: 'localhost', plugin: 'auth_socket', authenticationString: 'daemon' });
    accounts.create({ user: 'nobody', host: '%', plugin: 'auth_socket' });
    dir = tempDir();
    socketPath = path.join(dir.path, 'mysqld.sock');
    server = createServer({ accounts });
    await listen(server, socketPath);
    tcpServer = createServer({ accounts });
    await listen(tcpServer, { port: 0, host: '127.0.0.1' });
    tcpPort = (tcpServer.address() as { port: number }).port;
  });

  afterAll(async () => {
    await close(server);
    await close(tcpServer);
    dir.remove();
  });

  async function identity(as: OsIdentity, user: string): Promise<string> {
    const run = await runMariadbCli({ endpoint: { socketPath }, user, sql: IDENTITY_SQL, as });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    return run.stdout;
  }

  async function refusal(as: OsIdentity, user: string, endpoint: { socketPath: string } | { port: number } = { socketPath }): Promise<string> {
    const run = await runMariadbCli({ endpoint, user, sql: 'SELECT 1', as });
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
    return run.stderr;
  }

  it('nobody --user=nobody gets in, and MySQL identity functions say so', async () => {
    expect(await identity(nobody, 'nobody')).toBe('nobody@localhost\tnobody@localhost\tnobody\n');
  });

  it('daemon --user=shared gets in through the AS string only', async () => {
    expect(await identity(daemon, 'shared')).toBe('shared@localhost\tshared@localhost\tdaemon\n');
  });

  it('daemon --user=nobody is refused with 1698', async () => {
    expect(await refusal(daemon, 'nobody')).toBe(`${accessDenied1698('nobody')}\n`);
  });

  it('nobody --user=shared is refused with 1698 (neither the name nor the AS string)', async () => {
    expect(await refusal(nobody, 'shared')).toBe(`${accessDenied1698('shared')}\n`);
  });

  it('a uid without a passwd entry is refused with 1698', async () => {
    expect(await refusal(ghost, 'nobody')).toBe(`${accessDenied1698('nobody')}\n`);
  });

  it('nobody over TCP is refused with 1698 though the name matches', async () => {
    expect(await refusal(nobody, 'nobody', { port: tcpPort })).toBe(`${accessDenied1698('nobody', '127.0.0.1')}\n`);
  });

  it('an unknown account is refused with 1045 (using password: NO)', async () => {
    expect(await refusal(nobody, 'nosuchuser')).toBe(
      "ERROR 1045 (28000): Access denied for user 'nosuchuser'@'localhost' (using password: NO)\n",
    );
  });

  it("the manual's valerie/stephanie scenario, CREATE then ALTER ... AS 'stephanie'", async () => {
    accounts.create({ user: 'valerie', host: 'localhost', plugin: 'auth_socket' });
    expect(await identity(valerie, 'valerie')).toBe('valerie@localhost\tvalerie@localhost\tvalerie\n');
    expect(await refusal(stephanie, 'valerie')).toBe(`${accessDenied1698('valerie')}\n`);
    accounts.alter({ user: 'valerie', host: 'localhost', plugin: 'auth_socket', authenticationString: 'stephanie' });
    expect(await identity(stephanie, 'valerie')).toBe('valerie@localhost\tvalerie@localhost\tstephanie\n');
    expect(await identity(valerie, 'valerie')).toBe('valerie@localhost\tvalerie@localhost\tvalerie\n');
    // stephanie has no account of her own.
    expect(await refusal(stephanie, 'stephanie')).toBe(
      "ERROR 1045 (28000): Access denied for user 'stephanie'@'localhost' (using password: NO)\n",
    );
  });

  it('several statements in one run: the version comment, aliases, DATABASE(), and 1235 for the rest', async () => {
    const run = await runMariadbCli({
      endpoint: { socketPath },
      user: 'nobody',
      sql: 'select @@version_comment limit 1; SELECT 1 AS one, DATABASE(); SHOW DATABASES',
      as: nobody,
    });
    expect(run.stdout).toBe('auth-socket server\n1\tNULL\n');
    // The CLI echoes the failing statement before the error line.
    expect(run.stderr.split('\n').filter((line) => line.startsWith('ERROR'))).toEqual([
      "ERROR 1235 (42000) at line 1: This version of MySQL doesn't yet support 'SHOW DATABASES'",
    ]);
    expect(run.code).toBe(1);
  });
});
