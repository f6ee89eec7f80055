// SHOW STATUS and FLUSH STATUS through a real connector: MySQL's names with the server's counts
// (a refused login is an aborted connect, every statement a question), the event loop's delay and
// the RSS; LIKE filters as in SHOW VARIABLES; FLUSH STATUS needs RELOAD (here: ALL).
import net from 'net';

import type { Connection } from 'mariadb';

import { me, startStatementServer, StatementServer } from '../helpers/statement-server';

let statements: StatementServer;
let socketPath: string;
const as = <T>(user: string, work: (connection: Connection) => Promise<T>) => statements.as(user, work);

beforeAll(async () => {
  statements = await startStatementServer([
    // An account whose OS user is nobody running the tests: its login is refused.
    { user: 'elsewhere', host: 'localhost', plugin: 'auth_socket', authenticationString: 'no-such-os-user-here' },
  ]);
  socketPath = statements.socketPath;
});
afterAll(() => statements.stop());

async function status(c: Connection, sql = 'SHOW GLOBAL STATUS'): Promise<Record<string, number>> {
  const rows: Array<{ Variable_name: string; Value: string }> = await c.query(sql);
  return Object.fromEntries(rows.map((row) => [row.Variable_name, Number(row.Value)]));
}

it('shows MySQL\'s counters and ours, by name, every value a number', async () => {
  await as(me, async (c) => {
    const rows: Array<{ Variable_name: string; Value: string }> = await c.query('SHOW STATUS');
    expect(rows.map((row) => row.Variable_name)).toEqual([
      'Aborted_connects',
      'Auth_socket_event_loop_delay_max_us',
      'Auth_socket_event_loop_delay_p99_us',
      'Auth_socket_rss_bytes',
      'Connections',
      'Memory_used',
      'Questions',
      'Threads_connected',
      'Uptime',
      'Uptime_since_flush_status',
    ]);
    for (const { Value } of rows) expect(Value).toMatch(/^\d+$/);
    const values = await status(c);
    expect(values.Threads_connected).toBeGreaterThanOrEqual(1);
    expect(values.Connections).toBeGreaterThanOrEqual(1);
    expect(values.Auth_socket_rss_bytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(values.Memory_used).toBeGreaterThan(10 * 1024 * 1024);
  });
});

it('counts connections, open ones, refused logins and statements', async () => {
  const before = await as(me, (c) => status(c));
  await expect(as('elsewhere', async () => undefined)).rejects.toMatchObject({ errno: 1698 });
  // A connection still in its handshake is open, and counted.
  const raw = net.connect(socketPath);
  await new Promise((resolve) => raw.once('data', resolve));
  const after = await as(me, async (c) => {
    await c.query('SELECT 1');
    return status(c);
  });
  raw.destroy();
  // The refused login, the raw connection and the second `as` (the first was counted in `before`).
  expect(after.Connections - before.Connections).toBe(3);
  expect(after.Aborted_connects - before.Aborted_connects).toBe(1);
  expect(after.Threads_connected).toBe(2);
  // SHOW STATUS, SELECT 1, SHOW STATUS (the connector sends nothing of its own on this server).
  expect(after.Questions - before.Questions).toBeGreaterThanOrEqual(2);
  expect(after.Uptime).toBeGreaterThanOrEqual(before.Uptime);
});

it('LIKE filters names case-insensitively, with MySQL\'s wildcards and escapes', async () => {
  await as('plain', async (c) => {
    expect(Object.keys(await status(c, "SHOW SESSION STATUS LIKE 'auth\\_socket\\_event%'"))).toEqual([
      'Auth_socket_event_loop_delay_max_us',
      'Auth_socket_event_loop_delay_p99_us',
    ]);
    expect(Object.keys(await status(c, "SHOW STATUS LIKE 'uptime'"))).toEqual(['Uptime']);
    expect(Object.keys(await status(c, "SHOW STATUS LIKE 'Threads_connecte_'"))).toEqual(['Threads_connected']);
    expect(await c.query("SHOW STATUS LIKE 'Innodb%'")).toEqual([]);
  });
});

it('samples the event loop while the server listens; FLUSH STATUS starts the distribution again', async () => {
  // A loop blocked for 300 ms, in the server's own process: a delay of about that much is seen.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const blockedUntil = Date.now() + 300;
  while (Date.now() < blockedUntil);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await as(me, async (c) => {
    const blocked = await status(c);
    expect(blocked.Auth_socket_event_loop_delay_max_us).toBeGreaterThanOrEqual(250_000);
    expect(blocked.Auth_socket_event_loop_delay_p99_us).toBeGreaterThan(0);
    expect(blocked.Auth_socket_event_loop_delay_p99_us).toBeLessThanOrEqual(blocked.Auth_socket_event_loop_delay_max_us);
    expect(await c.query('FLUSH STATUS')).toMatchObject({ affectedRows: 0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const flushed = await status(c);
    expect(flushed.Auth_socket_event_loop_delay_max_us).toBeLessThan(250_000);
    expect(flushed.Uptime_since_flush_status).toBeLessThanOrEqual(flushed.Uptime);
    // Counts since the start are not flushed.
    expect(flushed.Connections).toBeGreaterThanOrEqual(blocked.Connections);
  });
});

it('FLUSH STATUS needs RELOAD, which only ALL holds here; SHOW STATUS needs nothing', async () => {
  await as('plain', async (c) => {
    await expect(c.query('FLUSH STATUS')).rejects.toMatchObject({
      errno: 1227,
      sqlState: '42000',
      sqlMessage: 'Access denied; you need (at least one of) the RELOAD privilege(s) for this operation',
    });
    expect((await status(c)).Uptime).toBeGreaterThanOrEqual(0);
  });
});
