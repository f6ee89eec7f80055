// `auth-socket serve --upstream` as an operator runs it: a my.cnf with the [auth-socket] group, the
// manual's valerie/stephanie account created by SQL with its upstream ATTRIBUTE, and the real
// mariadb CLI run as those OS users, in front of a private MariaDB with TLS and
// require_secure_transport=ON. Needs root (other OS users); skips loudly without, fails under CI.
import fs from 'fs';
import os from 'os';
import path from 'path';

import { accessDenied1698, runMariadbCli } from '../helpers/clients';
import { MariadbInstance, startMariadb } from '../helpers/mariadb';
import { describeAsRoot, ensureOsUser, OsUser } from '../helpers/root';
import { killAllStarted, ServeProcess, startServe, writeMyCnf } from '../helpers/serve-process';
import { makeTestCertificates, TestCertificates } from '../helpers/tls-certs';

describeAsRoot('the proxy as OS users reach it', () => {
  let certs: TestCertificates;
  let db: MariadbInstance;
  let dir: string;
  let serve: ServeProcess;
  let socketPath: string;
  let valerie: OsUser;
  let stephanie: OsUser;
  let nobody: OsUser;
  const password = 'upstream-' + Math.random().toString(36).slice(2);

  beforeAll(async () => {
    valerie = ensureOsUser('valerie');
    stephanie = ensureOsUser('stephanie');
    nobody = ensureOsUser('nobody');
    certs = makeTestCertificates();
    db = await startMariadb({ tcp: true, extraArgs: [...certs.mariadbArgs, '--require-secure-transport=ON', '--performance-schema=ON'] });
    await db.query(`CREATE USER 'app'@'%' IDENTIFIED BY '${password}'`);
    await db.query(`GRANT SELECT ON performance_schema.* TO 'app'@'%'`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-os-'));
    fs.chmodSync(dir, 0o755);
    socketPath = path.join(dir, 'mysqld.sock');
    const cnf = writeMyCnf(path.join(dir, 'my.cnf'), [
      `socket=${socketPath}`,
      `datadir=${path.join(dir, 'data')}`,
      `log-error=${path.join(dir, 'error.log')}`,
      '[auth-socket]',
      `upstream=127.0.0.1:${db.port}`,
      'upstream-ssl-mode=VERIFY_IDENTITY',
      `upstream-ssl-ca=${certs.ca}`,
    ]);
    serve = await startServe([`--defaults-file=${cnf}`]);
    const create = await runMariadbCli({
      endpoint: { socketPath },
      user: 'root',
      sql: `CREATE USER 'valerie'@'localhost' IDENTIFIED WITH auth_socket AS 'stephanie' ATTRIBUTE '{"upstream_user": "app", "upstream_password": "${password}"}'`,
    });
    expect(create).toMatchObject({ code: 0, stderr: '' });
  }, 60_000);

  afterAll(async () => {
    await killAllStarted();
    await db?.stop();
    certs?.remove();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const sql = "SELECT CURRENT_USER(), (SELECT ATTR_VALUE FROM performance_schema.session_connect_attrs WHERE PROCESSLIST_ID = CONNECTION_ID() AND ATTR_NAME = 'os_user')";

  test.each(['valerie', 'stephanie'])('OS user %s logs in as valerie and works upstream as app, os_user recorded there', async (name) => {
    const as = name === 'valerie' ? valerie : stephanie;
    const run = await runMariadbCli({ endpoint: { socketPath }, user: 'valerie', sql, as: { uid: as.uid, gid: as.gid } });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(`app@%\t${name}`);
  });

  test('OS user nobody is refused locally with 1698', async () => {
    const run = await runMariadbCli({ endpoint: { socketPath }, user: 'valerie', sql: 'SELECT 1', as: { uid: nobody.uid, gid: nobody.gid } });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(accessDenied1698('valerie'));
  });

  test('the upstream password is never shown back nor logged', async () => {
    const shown = await runMariadbCli({
      endpoint: { socketPath },
      user: 'root',
      sql: "SHOW CREATE USER 'valerie'@'localhost'; SELECT ATTRIBUTE FROM INFORMATION_SCHEMA.USER_ATTRIBUTES",
    });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('upstream_user');
    expect(shown.stdout).not.toContain(password);
    expect(fs.readFileSync(path.join(dir, 'error.log'), 'utf8')).not.toContain(password);
    // Stored where only the server's user reads it.
    const state = fs.readdirSync(path.join(dir, 'data')).map((file) => fs.statSync(path.join(dir, 'data', file)));
    for (const stat of state) expect(stat.mode & 0o077).toBe(0);
    expect(serve.pid).toBeGreaterThan(0);
  });
});
