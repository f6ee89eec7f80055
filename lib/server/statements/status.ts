// SHOW STATUS and FLUSH STATUS (sql/sql_show.cc: show_status_array over sql/mysqld.cc's
// status_vars[]; sql/sql_reload.cc: refresh_status). MySQL's names where MySQL has the counter,
// Auth_socket_* for what only a Node server has. Every value is the server's: this server keeps
// no per-session counters, so SESSION and GLOBAL show the same rows (for Uptime, Connections,
// Threads_connected and Aborted_connects MySQL's session value is the global one too).
import { Statement } from '../sql/statements';
import type { StatusValues } from '../status';
import { ok, Reply, requirePrivilege, resultSet, StatementContext } from './context';
import { like } from './values';

// In MySQL's order: by name, case-insensitively.
const VARIABLES: ReadonlyArray<readonly [string, (values: StatusValues) => number]> = [
  ['Aborted_connects', (v) => v.abortedConnects],
  // perf_hooks.monitorEventLoopDelay, sampled every 1 ms while the server listens: how late the
  // loop ran its timers, since the start or the last FLUSH STATUS. Every session waits on this
  // one loop, so it is the server's latency floor under load.
  ['Auth_socket_event_loop_delay_max_us', (v) => v.eventLoopDelayMaxUs],
  ['Auth_socket_event_loop_delay_p99_us', (v) => v.eventLoopDelayP99Us],
  ['Auth_socket_rss_bytes', (v) => v.rssBytes],
  ['Connections', (v) => v.connections],
  // MariaDB's name for the server's memory; here the process's resident set, as Auth_socket_rss_bytes.
  ['Memory_used', (v) => v.rssBytes],
  ['Questions', (v) => v.questions],
  ['Threads_connected', (v) => v.threadsConnected],
  ['Uptime', (v) => v.uptimeSeconds],
  ['Uptime_since_flush_status', (v) => v.sinceFlushSeconds],
];

/** SHOW [SESSION|GLOBAL] STATUS [LIKE 'pattern']: Variable_name, Value; no privilege needed, as in MySQL. */
export async function showStatus({ like: pattern }: Extract<Statement, { type: 'show-status' }>, ctx: StatementContext): Promise<Reply> {
  const values = await ctx.status();
  const rows = VARIABLES.filter(([name]) => pattern === null || like(name, pattern)).map(([name, read]) => [name, String(read(values))]);
  return resultSet(ctx, ['Variable_name', 'Value'], rows);
}

/** FLUSH STATUS: needs RELOAD in MySQL, which this server's privileges have only within ALL. */
export async function flushStatus(_statement: Extract<Statement, { type: 'flush-status' }>, ctx: StatementContext): Promise<Reply> {
  requirePrivilege(ctx, null, 'RELOAD');
  await ctx.flushStatus();
  return ok();
}
