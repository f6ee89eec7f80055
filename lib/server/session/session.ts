// The command phase after a successful handshake (sql/sql_parse.cc: do_command / dispatch_command):
// one command at a time, in order. COM_QUERY runs the statements server/statements/ answers
// (account and plugin administration, SHOW, the SELECTs clients send at start and for `status`);
// COM_PING, COM_INIT_DB, COM_STATISTICS and COM_SHUTDOWN serve mysqladmin; COM_QUIT ends it.
// Every other command gets MySQL's ER_NOT_SUPPORTED_YET.
import net from 'net';
import os from 'os';

import { Command } from '../../protocol/constants';
import { notSupportedYet } from '../../protocol/mysql-errors';
import { buildErr, buildOk } from '../../protocol/responses';
import { PacketChannel } from '../../transport/packet-channel';
import { Accounts } from '../catalog/accounts';
import { Catalog } from '../catalog/catalog';
import { ServerPlugins } from '../catalog/plugins';
import type { AuthenticatedConnection } from '../connection';
import { builtinServerPlugins } from '../plugins/builtin';
import { StatementContext, Value } from '../statements/context';
import { execute } from '../statements/dispatch';
import { ServerStatus, StatusValues } from '../status';

const VERSION_COMMENT = 'auth-socket server';
// Read once, as mysqld reads glob_hostname at start: not a system call per session.
const HOSTNAME = os.hostname();

/** What a session shares with its server. */
export interface SessionEnvironment {
  catalog: Catalog;
  /** System variables beyond the session's own (@@socket, @@port, @@datadir, @@plugin_dir, @@max_connections...). */
  variables: Readonly<Record<string, Value>>;
  /** SHUTDOWN and COM_SHUTDOWN by a privileged account; false when the server cannot be shut down so. */
  requestShutdown(): boolean;
  /** Counts a statement, for status(). */
  question(): void;
  /** What SHOW STATUS and COM_STATISTICS (mysqladmin status) report. */
  status(): StatusValues | Promise<StatusValues>;
  /** FLUSH STATUS: starts the event-loop delay's distribution again. */
  flushStatus(): void | Promise<void>;
}

// The session variables clients ask for at start; the server's own come on top of them.
function systemVariables(connection: AuthenticatedConnection, serverVersion: string, server: Readonly<Record<string, Value>>): Record<string, Value> {
  const charset = 'utf8mb4';
  return {
    version: serverVersion,
    version_comment: VERSION_COMMENT,
    external_user: connection.externalUser,
    hostname: HOSTNAME,
    character_set_client: charset,
    character_set_connection: charset,
    character_set_results: charset,
    character_set_server: charset,
    character_set_database: charset,
    collation_connection: 'utf8mb4_general_ci',
    collation_server: 'utf8mb4_general_ci',
    collation_database: 'utf8mb4_general_ci',
    max_allowed_packet: 16 * 1024 * 1024,
    autocommit: 1,
    sql_mode: '',
    time_zone: 'SYSTEM',
    system_time_zone: 'UTC',
    lower_case_table_names: 0,
    transaction_isolation: 'REPEATABLE-READ',
    tx_isolation: 'REPEATABLE-READ',
    wait_timeout: 28800,
    interactive_timeout: 28800,
    net_write_timeout: 60,
    net_read_timeout: 30,
    license: 'MIT',
    default_authentication_plugin: 'caching_sha2_password',
    have_ssl: 'DISABLED',
    ...server,
  };
}

// A session of a server that was given no environment: an in-memory catalog over the accounts it
// logged in with, which nobody can shut down.
function standalone(connection: AuthenticatedConnection): SessionEnvironment {
  const accounts = new Accounts();
  accounts.create(connection.account);
  // Counts of this session alone: no server to watch, no event-loop sampling.
  const status = new ServerStatus();
  return {
    catalog: new Catalog(accounts, new ServerPlugins(null, builtinServerPlugins), null),
    variables: {},
    requestShutdown: () => false,
    question: () => status.question(),
    status: () => ({ ...status.values(), threadsConnected: 1, connections: 1 }),
    flushStatus: () => status.flush(),
  };
}

/**
 * Serves commands on a socket that acceptConnection() authenticated, starting with its leftover
 * bytes, until COM_QUIT, the client closing, or a packet error (which closes the connection).
 */
export async function serveSession(
  socket: net.Socket,
  connection: AuthenticatedConnection,
  serverVersion: string,
  environment: SessionEnvironment = standalone(connection),
): Promise<void> {
  const ctx: StatementContext = {
    connection,
    catalog: environment.catalog,
    variables: systemVariables(connection, serverVersion, environment.variables),
    database: connection.database,
    requestShutdown: environment.requestShutdown,
    status: environment.status,
    flushStatus: environment.flushStatus,
  };
  try {
    if (connection.leftover.length > 0) {
      // A client that already closed its side cannot be answered (our side was ended with it).
      if (socket.readableEnded) return void socket.destroy();
      // Back in front of the unread stream: the session reads the socket as if never touched.
      socket.unshift(connection.leftover);
    }
    const channel = new PacketChannel(socket);
    for (;;) {
      channel.resetSequence();
      const packet = await channel.read();
      const command = packet.length > 0 ? packet[0] : -1;
      const body = packet.subarray(1);
      if (command === Command.QUIT) break;
      let reply: Buffer[];
      if (command === Command.PING) {
        reply = [buildOk()];
      } else if (command === Command.INIT_DB) {
        ctx.database = body.toString('utf8');
        reply = [buildOk()];
      } else if (command === Command.QUERY) {
        environment.question();
        reply = await execute(body.toString('utf8'), ctx);
      } else if (command === Command.STATISTICS) {
        const { uptimeSeconds, threadsConnected: threads, questions } = await environment.status();
        const perSecond = (questions / Math.max(uptimeSeconds, 1)).toFixed(3);
        // A bare string, not an OK: what mysqladmin status prints.
        reply = [
          Buffer.from(`Uptime: ${uptimeSeconds}  Threads: ${threads}  Questions: ${questions}  Slow queries: 0  Opens: 0  Open tables: 0  Queries per second avg: ${perSecond}`),
        ];
      } else if (command === Command.SHUTDOWN) {
        reply = await execute('SHUTDOWN', ctx);
      } else {
        const what = command < 0 ? 'an empty command' : `command 0x${command.toString(16).padStart(2, '0')}`;
        reply = [buildErr(notSupportedYet(what))];
      }
      for (const payload of reply) await channel.write(payload);
    }
    // COM_QUIT: closed at once, as mysqld closes it. Every reply was written before the command
    // was read, and there is no half-close to wait through.
    socket.destroy();
  } catch {
    // A malformed, oversized or truncated packet, or a vanished client: nothing more to say.
    socket.destroy();
  }
}
