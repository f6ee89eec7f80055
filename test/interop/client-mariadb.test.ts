// connect() and the built-in client plugins against a real MariaDB 10.11 (private instances):
// unix_socket, mysql_native_password, ed25519, PAM through dialog and through
// mysql_clear_password, and an account whose client plugin we do not have (gssapi).
import { execFileSync } from 'child_process';
import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';

import mysql from 'mysql2/promise';

import { ClientConnection, connect, ConnectOptions } from '../../lib/client/connect';
import { dialog } from '../../lib/client/plugins/dialog';
import { clientEd25519, ed25519PasswordPublicKey } from '../../lib/client/plugins/ed25519';
import { toMysql2AuthPlugins } from '../../lib/client/mysql2-adapter';
import { queryRows } from '../helpers/client-session';
import { MariadbInstance, startMariadb, startMariadbs } from '../helpers/mariadb';
import { describeAsRoot, ensureOsUser } from '../helpers/root';

// Starting private servers on a busy 2-core machine can take longer than one test's bound.
const MARIADB_START_BOUND_MS = 120_000;

const open: ClientConnection[] = [];
async function connected(options: ConnectOptions): Promise<ClientConnection> {
  const connection = await connect(options);
  open.push(connection);
  return connection;
}
afterEach(() => {
  for (const connection of open.splice(0)) connection.socket.destroy();
});

// auth_gssapi only registers when it can acquire acceptor credentials: a keytab with a random key
// for its principal is enough (no KDC is ever contacted, since no client gets that far).
const GSSAPI_PRINCIPAL = ['AUTHSOCKET.TEST', 'mariadb', 'localhost'] as const;
function writeKeytab(file: string): void {
  const counted = (bytes: Buffer) => Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
  const u32 = (value: number) => Buffer.from([value >>> 24, (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff]);
  const [realm, ...components] = GSSAPI_PRINCIPAL.map((part) => Buffer.from(part));
  const entry = Buffer.concat([
    Buffer.from([0, components.length]),
    counted(realm),
    ...components.map(counted),
    u32(1), // KRB5_NT_PRINCIPAL
    u32(0), // timestamp
    Buffer.from([1]), // key version
    Buffer.from([0, 18]), // aes256-cts-hmac-sha1-96
    counted(crypto.randomBytes(32)),
  ]);
  fs.writeFileSync(file, Buffer.concat([Buffer.from([5, 2]), u32(entry.length), entry]), { mode: 0o600 });
}

describeAsRoot('connect() against MariaDB: socket, native and ed25519 accounts', () => {
  let db: MariadbInstance;
  const keytabDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-socket-keytab-'));
  beforeAll(async () => {
    const keytab = path.join(keytabDir, 'mariadb.keytab');
    writeKeytab(keytab);
    const [realm, ...components] = GSSAPI_PRINCIPAL;
    db = await startMariadb({
      plugins: ['auth_ed25519', 'auth_gssapi'],
      extraArgs: [`--gssapi-keytab-path=${keytab}`, `--gssapi-principal-name=${components.join('/')}@${realm}`],
    });
    // Only unix_socket, without install-db's "OR mysql_native_password": no switch can happen.
    await db.query("ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket");
    await db.query("CREATE USER 'nat'@'localhost' IDENTIFIED BY 'native-pass'");
    await db.query('CREATE DATABASE clientdb');
    await db.query("GRANT ALL ON clientdb.* TO 'nat'@'localhost'");
    await db.query("CREATE USER 'stranger'@'localhost' IDENTIFIED VIA unix_socket");
    await db.query("CREATE USER 'ed'@'localhost' IDENTIFIED VIA ed25519 USING PASSWORD('ed-pass')");
    await db.query("CREATE USER 'gss'@'localhost' IDENTIFIED VIA gssapi");
  }, MARIADB_START_BOUND_MS);
  afterAll(async () => {
    await db?.stop();
    fs.rmSync(keytabDir, { recursive: true, force: true });
  });

  it('logs in to a unix_socket account: the plugin reply is ignored and OK follows', async () => {
    const [{ plugin }] = await db.query("SELECT JSON_VALUE(priv, '$.plugin') AS plugin FROM mysql.global_priv WHERE user = 'root' AND host = 'localhost'");
    expect(plugin).toBe('unix_socket');
    const connection = await connected({ socketPath: db.socketPath, user: 'root', password: 'ignored' });
    expect(connection.plugin).toBe('mysql_native_password');
    expect(connection.greeting.serverVersion).toMatch(/10\.11\./);
    expect(await queryRows(connection, 'SELECT CURRENT_USER()')).toEqual([['root@localhost']]);
  });

  it("tolerates a plugin's CR_ERROR when the server's OK is what it read (auth_socket case)", async () => {
    // client_ed25519 opens with an empty response, reads for its nonce, gets the OK, fails.
    const connection = await connected({ socketPath: db.socketPath, user: 'root', defaultAuth: 'client_ed25519' });
    expect(connection.plugin).toBe('client_ed25519');
    expect(await queryRows(connection, 'SELECT CURRENT_USER()')).toEqual([['root@localhost']]);
  });

  it('is refused by a unix_socket account of another OS user with 1698', async () => {
    await expect(connect({ socketPath: db.socketPath, user: 'stranger' })).rejects.toMatchObject({
      code: 'ERR_SERVER_ERROR',
      errno: 1698,
      sqlState: '28000',
      message: "Access denied for user 'stranger'@'localhost'",
    });
  });

  it('logs in to a mysql_native_password account with the right password', async () => {
    const connection = await connected({ socketPath: db.socketPath, user: 'nat', password: 'native-pass', database: 'clientdb' });
    expect(await queryRows(connection, 'SELECT CURRENT_USER(), DATABASE()')).toEqual([['nat@localhost', 'clientdb']]);
  });

  it('is refused with a wrong native password: 1045 with the server message', async () => {
    await expect(connect({ socketPath: db.socketPath, user: 'nat', password: 'wrong' })).rejects.toMatchObject({
      code: 'ERR_SERVER_ERROR',
      errno: 1045,
      sqlState: '28000',
      message: "Access denied for user 'nat'@'localhost' (using password: YES)",
    });
  });

  it('derives the same ed25519 public key MariaDB stores for the password', async () => {
    const [{ stored }] = await db.query(
      "SELECT JSON_VALUE(priv, '$.authentication_string') AS stored FROM mysql.global_priv WHERE user = 'ed'",
    );
    expect(ed25519PasswordPublicKey('ed-pass').toString('base64').replace(/=+$/, '')).toBe(stored);
  });

  it('logs in to an ed25519 account through the AuthSwitchRequest with the right password', async () => {
    const connection = await connected({ socketPath: db.socketPath, user: 'ed', password: 'ed-pass' });
    expect(connection.plugin).toBe('client_ed25519');
    expect(await queryRows(connection, 'SELECT CURRENT_USER()')).toEqual([['ed@localhost']]);
  });

  it('is refused by the ed25519 account with a wrong password', async () => {
    await expect(connect({ socketPath: db.socketPath, user: 'ed', password: 'ed-pas' })).rejects.toMatchObject({
      code: 'ERR_SERVER_ERROR',
      errno: 1045,
      sqlState: '28000',
    });
  });

  it('lets mysql2 log in to the ed25519 account through the adapter, and refuses a wrong password', async () => {
    const options = { socketPath: db.socketPath, user: 'ed', authPlugins: toMysql2AuthPlugins(clientEd25519) as never };
    const connection = await mysql.createConnection({ ...options, password: 'ed-pass' });
    try {
      const [rows] = await connection.query('SELECT CURRENT_USER() AS who');
      expect(rows).toEqual([{ who: 'ed@localhost' }]);
    } finally {
      await connection.end();
    }
    await expect(mysql.createConnection({ ...options, password: 'ed-pas' })).rejects.toMatchObject({ errno: 1045 });
  });

  it('stops with a clear unknown-plugin error when the server switches to a plugin we lack (gssapi)', async () => {
    const refusal = connect({ socketPath: db.socketPath, user: 'gss', password: 'x' });
    await expect(refusal).rejects.toMatchObject({
      code: 'ERR_PLUGIN_UNKNOWN',
      errno: 2059,
      pluginName: 'auth_gssapi_client',
    });
    await expect(refusal).rejects.toThrow("Authentication plugin 'auth_gssapi_client' cannot be loaded: unknown plugin");
  });
});

// PAM: a service file of the test's own that checks a test OS user's password with pam_unix.
const PAM_SERVICE = `auth-socket-test-${process.pid}`;
const PAM_SERVICE_FILE = `/etc/pam.d/${PAM_SERVICE}`;
const PAM_USER = 'astpamuser';
const PAM_PASSWORD = 'Pam-Secret-42';

function setUpPam(): void {
  ensureOsUser(PAM_USER);
  execFileSync('chpasswd', { input: `${PAM_USER}:${PAM_PASSWORD}\n` });
  fs.writeFileSync(PAM_SERVICE_FILE, 'auth required pam_unix.so\naccount required pam_unix.so\n', { mode: 0o644 });
}

async function createPamAccount(db: MariadbInstance): Promise<void> {
  await db.query(`CREATE USER '${PAM_USER}'@'localhost' IDENTIFIED VIA pam USING '${PAM_SERVICE}'`);
}

describeAsRoot('connect() against MariaDB auth_pam', () => {
  let dialogDb: MariadbInstance;
  let cleartextDb: MariadbInstance;
  beforeAll(async () => {
    setUpPam();
    [dialogDb, cleartextDb] = await startMariadbs(
      { plugins: ['auth_pam'] },
      { plugins: ['auth_pam'], extraArgs: ['--pam-use-cleartext-plugin'] },
    );
    await Promise.all([createPamAccount(dialogDb), createPamAccount(cleartextDb)]);
  }, MARIADB_START_BOUND_MS);
  afterAll(async () => {
    await Promise.all([dialogDb?.stop(), cleartextDb?.stop()]);
    fs.rmSync(PAM_SERVICE_FILE, { force: true });
    // No OS account with a known password stays behind (the next run sets it again).
    execFileSync('usermod', ['--lock', PAM_USER]);
  });

  it('answers the PAM password question through dialog, once cleartext plugins are allowed', async () => {
    await expect(connect({ socketPath: dialogDb.socketPath, user: PAM_USER, password: PAM_PASSWORD })).rejects.toMatchObject({
      code: 'ERR_PLUGIN_NOT_ENABLED',
      errno: 2059,
      pluginName: 'dialog',
    });
    const connection = await connected({ socketPath: dialogDb.socketPath, user: PAM_USER, password: PAM_PASSWORD, enableCleartextPlugin: true });
    expect(connection.plugin).toBe('dialog');
    expect(await queryRows(connection, 'SELECT CURRENT_USER()')).toEqual([[`${PAM_USER}@localhost`]]);
  });

  it('is refused through dialog with a wrong password', async () => {
    await expect(connect({ socketPath: dialogDb.socketPath, user: PAM_USER, password: 'wrong', enableCleartextPlugin: true })).rejects.toMatchObject({
      code: 'ERR_SERVER_ERROR',
      errno: 1045,
      sqlState: '28000',
    });
  });

  it('asks dialogAsk for questions beyond the first password question', async () => {
    const prompts: string[] = [];
    const connection = await connected({
      socketPath: dialogDb.socketPath,
      user: PAM_USER,
      enableCleartextPlugin: true,
      // No password: the first question goes to the callback as well.
      pluginOptions: {
        dialogAsk: (prompt, echo) => {
          prompts.push(`${prompt}|${echo}`);
          return PAM_PASSWORD;
        },
      },
    });
    expect(connection.plugin).toBe('dialog');
    expect(prompts).toEqual(['Password: |false']);
  });

  it('lets mysql2 answer PAM through the dialog plugin with the adapter', async () => {
    const connection = await mysql.createConnection({
      socketPath: dialogDb.socketPath,
      user: PAM_USER,
      password: PAM_PASSWORD,
      authPlugins: toMysql2AuthPlugins(dialog) as never,
      enableCleartextPlugin: true,
    });
    try {
      const [rows] = await connection.query('SELECT CURRENT_USER() AS who');
      expect(rows).toEqual([{ who: `${PAM_USER}@localhost` }]);
    } finally {
      await connection.end();
    }
  });

  it('refuses mysql_clear_password unless it is enabled', async () => {
    await expect(connect({ socketPath: cleartextDb.socketPath, user: PAM_USER, password: PAM_PASSWORD })).rejects.toMatchObject({
      code: 'ERR_PLUGIN_NOT_ENABLED',
      errno: 2059,
      pluginName: 'mysql_clear_password',
    });
  });

  it('logs in through mysql_clear_password (pam_use_cleartext_plugin) when enabled', async () => {
    const connection = await connected({
      socketPath: cleartextDb.socketPath,
      user: PAM_USER,
      password: PAM_PASSWORD,
      enableCleartextPlugin: true,
    });
    expect(connection.plugin).toBe('mysql_clear_password');
    expect(await queryRows(connection, 'SELECT CURRENT_USER()')).toEqual([[`${PAM_USER}@localhost`]]);
  });

  it('is refused through mysql_clear_password with a wrong password', async () => {
    await expect(
      connect({ socketPath: cleartextDb.socketPath, user: PAM_USER, password: 'wrong', enableCleartextPlugin: true }),
    ).rejects.toMatchObject({ code: 'ERR_SERVER_ERROR', errno: 1045, sqlState: '28000' });
  });
});
