// Differential test: the same real clients, run as the same OS users, against a private MariaDB
// 10.11 (unix_socket accounts) and against our server (auth_socket accounts). Outcomes must agree
// wherever MySQL's and MariaDB's rules agree; where they differ (@@external_user, the AS string),
// ours is held to MySQL's rule (mysql-auth-facts.md).
import net from 'net';
import path from 'path';

import { Accounts } from '../../lib/server/catalog/accounts';
import { createServer } from '../../lib/server/listener';
import { accessDenied1698, Endpoint, OsIdentity, runMariadbCli, runNodeClient } from '../helpers/clients';
import { MariadbInstance, startMariadb } from '../helpers/mariadb';
import { describeAsRoot, ensureOsUser, unmappedUid } from '../helpers/root';
import { close, listen, tempDir } from '../helpers/sockets';

const IDENTITY_SQL = 'SELECT CURRENT_USER(), USER(), @@external_user';
const CLIENTS = ['mariadb CLI', 'mysql2', 'mariadb connector'] as const;
type Client = (typeof CLIENTS)[number];
type OsUserKey = 'nobody' | 'daemon' | 'no passwd entry' | 'valerie' | 'stephanie';

type Outcome =
  | { row: [currentUser: string, user: string, externalUser: string | null] }
  | { error: { errno: number; sqlState: string; message: string } };

// The CLI prints a refusal as exactly one line: ERROR <errno> (<SQLSTATE>): <message>.
const CLI_ERROR_LINE = /^ERROR (\d+) \(([0-9A-Z]{5})\): (.*)\n$/;

/** Runs IDENTITY_SQL with `client` as OS identity `as`, logging in as MySQL user `user`. */
async function identityQuery(client: Client, endpoint: Endpoint, user: string, as: OsIdentity): Promise<Outcome> {
  if (client !== 'mariadb CLI') {
    const driver = client === 'mysql2' ? 'mysql2' : 'mariadb';
    const result = await runNodeClient({ driver, endpoint, user, sql: IDENTITY_SQL, as });
    return 'error' in result ? result : { row: result.rows[0] as [string, string, string | null] };
  }
  const run = await runMariadbCli({ endpoint, user, sql: IDENTITY_SQL, as });
  if (run.code === 0 && run.stderr === '') {
    const [currentUser, sessionUser, externalUser] = run.stdout.replace(/\n$/, '').split('\t');
    return { row: [currentUser, sessionUser, externalUser === 'NULL' ? null : externalUser] };
  }
  const refusal = CLI_ERROR_LINE.exec(run.stderr);
  if (run.code !== 1 || run.stdout !== '' || refusal === null) {
    throw new Error(`unexpected mariadb CLI result: ${JSON.stringify(run)}`);
  }
  return { error: { errno: Number(refusal[1]), sqlState: refusal[2], message: refusal[3] } };
}

function accepted(user: string, externalUser: string | null): Outcome {
  return { row: [`${user}@localhost`, `${user}@localhost`, externalUser] };
}

// auth_socket / unix_socket refusal: the plugin never mentions a password.
function refused(user: string): Outcome {
  return { error: { errno: 1698, sqlState: '28000', message: `Access denied for user '${user}'@'localhost'` } };
}

// No such account (MySQL): as for a password refusal with no password sent.
function unknownAccount(user: string): Outcome {
  return { error: { errno: 1045, sqlState: '28000', message: `Access denied for user '${user}'@'localhost' (using password: NO)` } };
}

/** Our server on a Unix socket in a temp dir that other OS users can reach. */
async function listenOnSocket(server: net.Server): Promise<{ socketPath: string; close(): Promise<void> }> {
  const dir = tempDir('auth-socket-differential-');
  const socketPath = path.join(dir.path, 'ours.sock');
  await listen(server, socketPath);
  return {
    socketPath,
    async close() {
      await close(server);
      dir.remove();
    },
  };
}

describeAsRoot('auth_socket against MariaDB 10.11 unix_socket, same clients, same OS users', () => {
  // Filled in beforeAll, not at collection: ensureOsUser may run useradd, which needs root.
  const osUsers: Record<OsUserKey, OsIdentity> = {} as Record<OsUserKey, OsIdentity>;
  let mariadb: MariadbInstance;
  beforeAll(async () => {
    for (const name of ['nobody', 'daemon', 'valerie', 'stephanie'] as const) osUsers[name] = ensureOsUser(name);
    const uid = unmappedUid();
    osUsers['no passwd entry'] = { uid, gid: uid };
    mariadb = await startMariadb({ tcp: true });
  });
  afterAll(() => mariadb?.stop());

  describe('the scenario matrix', () => {
    let ours: { socketPath: string; close(): Promise<void> };
    beforeAll(async () => {
      const accounts = new Accounts();
      for (const user of ['nobody', 'daemon']) {
        await mariadb.query(`CREATE USER '${user}'@'localhost' IDENTIFIED VIA unix_socket`);
        accounts.create({ user, host: 'localhost', plugin: 'auth_socket' });
      }
      ours = await listenOnSocket(createServer({ accounts }));
    });
    afterAll(() => ours?.close());

    // [OS user, --user, outcome on 'mariadb' / 'ours']
    const matrix: [OsUserKey, string, (server: 'mariadb' | 'ours') => Outcome][] = [
      // MariaDB 10.11 leaves @@external_user NULL for unix_socket; MySQL sets it to the OS user name.
      ['nobody', 'nobody', (server) => accepted('nobody', server === 'ours' ? 'nobody' : null)],
      ['nobody', 'daemon', () => refused('daemon')],
      ['daemon', 'daemon', (server) => accepted('daemon', server === 'ours' ? 'daemon' : null)],
      ['daemon', 'nobody', () => refused('nobody')],
      ['no passwd entry', 'nobody', () => refused('nobody')],
      ['no passwd entry', 'daemon', () => refused('daemon')],
    ];

    describe.each(CLIENTS)('%s', (client) => {
      it.each(matrix)('OS user %s, --user=%s', async (osUser, user, expected) => {
        const [theirs, mine] = await Promise.all([
          identityQuery(client, { socketPath: mariadb.socketPath }, user, osUsers[osUser]),
          identityQuery(client, { socketPath: ours.socketPath }, user, osUsers[osUser]),
        ]);
        expect(theirs).toEqual(expected('mariadb'));
        expect(mine).toEqual(expected('ours'));
      });

      // Not differential: for an unknown user MariaDB fakes one of its existing accounts, picked by a
      // hash of the name, and answers as that account's plugin would (1698 or 1045). MySQL's rule,
      // which ours follows: 1045, saying no password was sent.
      it.each(['nobody', 'no passwd entry'] as const)('ours: OS user %s, --user of no account gets 1045', async (osUser) => {
        await expect(identityQuery(client, { socketPath: ours.socketPath }, 'ghost', osUsers[osUser])).resolves.toEqual(
          unknownAccount('ghost'),
        );
      });
    });
  });

  it('both refuse a unix_socket / auth_socket account over TCP with 1698', async () => {
    await mariadb.query("CREATE USER 'tcpuser'@'localhost' IDENTIFIED VIA unix_socket");
    const accounts = new Accounts();
    accounts.create({ user: 'tcpuser', host: '%', plugin: 'auth_socket' });
    const tcpServer = createServer({ accounts });
    await listen(tcpServer, { port: 0, host: '127.0.0.1' });
    const { port } = tcpServer.address() as net.AddressInfo;
    try {
      const [theirs, mine] = await Promise.all([
        runMariadbCli({ endpoint: { port: mariadb.port as number }, user: 'tcpuser', sql: IDENTITY_SQL, as: osUsers.nobody }),
        runMariadbCli({ endpoint: { port }, user: 'tcpuser', sql: IDENTITY_SQL, as: osUsers.nobody }),
      ]);
      // MariaDB names a loopback TCP client 'localhost'; ours names the peer's address.
      expect(theirs).toEqual({ code: 1, stdout: '', stderr: `${accessDenied1698('tcpuser')}\n` });
      expect(mine).toEqual({ code: 1, stdout: '', stderr: `${accessDenied1698('tcpuser', '127.0.0.1')}\n` });
    } finally {
      await close(tcpServer);
    }
  });

  // auth_socket takes any client plugin, so whatever plugin the client starts with must get in.
  // libmariadb's caching_sha2_password, client_ed25519 and sha256_password send nothing when the
  // greeting named another plugin and wait for their data: a plain OK fails them with 2012 (a
  // pure MariaDB unix_socket account does exactly that). MariaDB's own OS-identity account, the
  // `mysql_native_password USING 'invalid' OR unix_socket` that mariadb-install-db gives root,
  // restarts them with mysql_native_password first; ours does the same.
  describe('any client plugin: the mariadb CLI with each --default-auth', () => {
    const PLUGINS = ['mysql_native_password', 'caching_sha2_password', 'client_ed25519', 'sha256_password', 'mysql_clear_password'];
    const NEED_DATA = ['caching_sha2_password', 'client_ed25519', 'sha256_password'];
    let ours: { socketPath: string; close(): Promise<void> };
    beforeAll(async () => {
      await mariadb.query("CREATE USER 'stephanie'@'localhost' IDENTIFIED VIA mysql_native_password USING 'invalid' OR unix_socket");
      await mariadb.query("CREATE USER IF NOT EXISTS 'daemon'@'localhost' IDENTIFIED VIA unix_socket");
      const accounts = new Accounts();
      accounts.create({ user: 'stephanie', host: 'localhost', plugin: 'auth_socket' });
      ours = await listenOnSocket(createServer({ accounts }));
    });
    afterAll(() => ours?.close());

    const login = (endpoint: Endpoint, user: string, as: OsIdentity, plugin: string) =>
      runMariadbCli({ endpoint, user, sql: 'SELECT CURRENT_USER()', as, extraArgs: [`--default-auth=${plugin}`] });

    it.each(PLUGINS)('--default-auth=%s: both let OS user stephanie in', async (plugin) => {
      const [theirs, mine] = await Promise.all([
        login({ socketPath: mariadb.socketPath }, 'stephanie', osUsers.stephanie, plugin),
        login({ socketPath: ours.socketPath }, 'stephanie', osUsers.stephanie, plugin),
      ]);
      expect(theirs).toEqual({ code: 0, stdout: 'stephanie@localhost\n', stderr: '' });
      expect(mine).toEqual(theirs);
    });

    it.each(PLUGINS)('--default-auth=%s: ours still refuses the wrong OS user with 1698', async (plugin) => {
      await expect(login({ socketPath: ours.socketPath }, 'stephanie', osUsers.nobody, plugin)).resolves.toEqual({
        code: 1,
        stdout: '',
        stderr: `${accessDenied1698('stephanie')}\n`,
      });
    });

    it.each(NEED_DATA)('MariaDB 10.11: a pure unix_socket account fails --default-auth=%s with 2012 (why ours restarts)', async (plugin) => {
      await expect(login({ socketPath: mariadb.socketPath }, 'daemon', osUsers.daemon, plugin)).resolves.toEqual({
        code: 1,
        stdout: '',
        stderr: 'ERROR 2012 (HY000): Error in server handshake\n',
      });
    });
  });

  // MariaDB before 11.6 ignores the AS string and MySQL honours it, so these cases are not
  // differential: ours is asserted against MySQL's rule, and MariaDB's divergence is pinned once.
  // The manual's other form (CREATE, then ALTER USER ... AS) is covered with the CLI in server-cli.test.ts.
  describe("the AS string: the manual's CREATE USER 'valerie'@'localhost' ... AS 'stephanie'", () => {
    let ours: { socketPath: string; close(): Promise<void> };
    beforeAll(async () => {
      const accounts = new Accounts();
      accounts.create({ user: 'valerie', host: 'localhost', plugin: 'auth_socket', authenticationString: 'stephanie' });
      ours = await listenOnSocket(createServer({ accounts }));
      await mariadb.query("CREATE USER 'valerie'@'localhost' IDENTIFIED VIA unix_socket AS 'stephanie'");
    });
    afterAll(() => ours?.close());

    it.each(CLIENTS)('%s: ours lets OS users valerie and stephanie in as valerie, and nobody else', async (client) => {
      const endpoint = { socketPath: ours.socketPath };
      await expect(identityQuery(client, endpoint, 'valerie', osUsers.valerie)).resolves.toEqual(accepted('valerie', 'valerie'));
      await expect(identityQuery(client, endpoint, 'valerie', osUsers.stephanie)).resolves.toEqual(
        accepted('valerie', 'stephanie'),
      );
      await expect(identityQuery(client, endpoint, 'valerie', osUsers.nobody)).resolves.toEqual(refused('valerie'));
    });

    it('MariaDB 10.11 ignores the AS string (why these cases are asserted against MySQL only)', async () => {
      const endpoint = { socketPath: mariadb.socketPath };
      await expect(identityQuery('mariadb CLI', endpoint, 'valerie', osUsers.stephanie)).resolves.toEqual(refused('valerie'));
      await expect(identityQuery('mariadb CLI', endpoint, 'valerie', osUsers.valerie)).resolves.toEqual(accepted('valerie', null));
    });
  });
});
