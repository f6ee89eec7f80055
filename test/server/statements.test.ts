// The statements' privileges and grants, through a real connector: an account without
// privileges is refused with MySQL's 1227; GRANT, REVOKE and SHOW GRANTS move and show them.
import type { Connection } from 'mariadb';

import { me, startStatementServer, StatementServer } from '../helpers/statement-server';

let statements: StatementServer;
const as = <T>(user: string, work: (connection: Connection) => Promise<T>) => statements.as(user, work);

beforeAll(async () => {
  statements = await startStatementServer();
});
afterAll(() => statements.stop());

const denied = (privilege: string) => ({
  errno: 1227,
  sqlState: '42000',
  sqlMessage: `Access denied; you need (at least one of) the ${privilege} privilege(s) for this operation`,
});

it('refuses account, plugin and mysql.user statements to an account without privileges', async () => {
  await as('plain', async (c) => {
    await expect(c.query("CREATE USER 'x'@'localhost'")).rejects.toMatchObject(denied('CREATE USER'));
    await expect(c.query("DROP USER 'plain'@'localhost'")).rejects.toMatchObject(denied('CREATE USER'));
    await expect(c.query("INSTALL PLUGIN auth_simple SONAME 'auth_simple.so'")).rejects.toMatchObject(denied('SUPER'));
    await expect(c.query('SELECT user FROM mysql.user')).rejects.toMatchObject({ errno: 1227 });
    await expect(c.query("SHOW GRANTS FOR 'root'@'localhost'")).rejects.toMatchObject(denied('CREATE USER'));
    await expect(c.query('SHUTDOWN')).rejects.toMatchObject(denied('SHUTDOWN'));
    // Its own account it may always look at.
    expect(await c.query('SHOW GRANTS')).toEqual([{ 'Grants for plain@localhost': 'GRANT USAGE ON *.* TO `plain`@`localhost`' }]);
    expect(await c.query('SELECT PLUGIN_NAME FROM INFORMATION_SCHEMA.PLUGINS WHERE PLUGIN_NAME = \'auth_socket\'')).toEqual([{ PLUGIN_NAME: 'auth_socket' }]);
  });
});

// MySQL 8's SYSTEM_USER rule: CREATE USER alone must not be a way to become an administrator.
it('an account with only CREATE USER cannot alter, drop or read an account holding ALL', async () => {
  await as('plain', async (c) => {
    const [own] = await c.query('SHOW CREATE USER CURRENT_USER');
    expect(Object.values(own)[0]).toMatch(/IDENTIFIED WITH 'auth_socket' AS '<secret>' REQUIRE NONE/);
  });
  await as(me, (c) => c.query("GRANT CREATE USER ON *.* TO 'plain'@'localhost'"));
  try {
    await as('plain', async (c) => {
      await expect(c.query(`ALTER USER '${me}'@'localhost' IDENTIFIED WITH mysql_native_password BY 'pwned'`)).rejects.toMatchObject(denied('SYSTEM_USER'));
      await expect(c.query(`DROP USER '${me}'@'localhost'`)).rejects.toMatchObject(denied('SYSTEM_USER'));
      await expect(c.query(`SHOW CREATE USER '${me}'@'localhost'`)).rejects.toMatchObject(denied('SYSTEM_USER'));
    });
    await as(me, async (c) => expect((await c.query('SHOW GRANTS'))[0]).toEqual({ [`Grants for ${me}@localhost`]: `GRANT ALL PRIVILEGES ON *.* TO \`${me}\`@\`localhost\` WITH GRANT OPTION` }));
  } finally {
    await as(me, (c) => c.query("REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'plain'@'localhost'"));
  }
});

it('GRANT CREATE USER lets it manage accounts at once (no reconnect), REVOKE takes it back', async () => {
  await as(me, (c) => c.query("GRANT CREATE USER ON *.* TO 'plain'@'localhost'"));
  await as('plain', async (c) => {
    await c.query("CREATE USER 'made'@'localhost' IDENTIFIED WITH auth_socket");
    expect(await c.query('SHOW GRANTS')).toEqual([{ 'Grants for plain@localhost': 'GRANT CREATE USER ON *.* TO `plain`@`localhost`' }]);
    // Granting needs the grant option.
    await expect(c.query("GRANT CREATE USER ON *.* TO 'made'@'localhost'")).rejects.toMatchObject(denied('GRANT OPTION'));
    await as(me, (root) => root.query("REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'plain'@'localhost'"));
    await expect(c.query("DROP USER 'made'@'localhost'")).rejects.toMatchObject(denied('CREATE USER'));
  });
  await as(me, async (c) => {
    await c.query("DROP USER 'made'@'localhost'");
    await expect(c.query("GRANT ALL ON *.* TO 'ghost'@'localhost'")).rejects.toMatchObject({ errno: 1410 });
    await expect(c.query("REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'ghost'@'localhost'")).rejects.toMatchObject({ errno: 1141 });
  });
});

it('answers system variables, SET and the clients\' start-up queries; refuses an unknown variable with 1193', async () => {
  await as(me, async (c) => {
    const [row] = await c.query('SELECT @@max_connections AS m, @@version_comment AS v, @@external_user AS e, CURRENT_USER() AS cu');
    expect(row).toEqual({ m: 151n, v: 'auth-socket server', e: me, cu: `${me}@localhost` });
    await c.query('SET NAMES utf8mb4');
    await c.query('SET autocommit = 1, SESSION sql_mode = \'\'');
    await expect(c.query('SELECT @@no_such_variable')).rejects.toMatchObject({ errno: 1193 });
    await expect(c.query('SET no_such_variable = 1')).rejects.toMatchObject({ errno: 1193 });
    await expect(c.query('/* only a comment */')).rejects.toMatchObject({ errno: 1065 });
  });
});
