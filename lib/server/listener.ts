// createServer(): a net.Server that runs the handshake on every connection, within MySQL's
// max_connections (the extra administrator slot included, sql/conn_handler/
// connection_handler_manager.cc), then the minimal session or the caller's 'session' listener.
import net from 'net';

import { AuthenticatedConnection } from './connection';
import { acceptWith, handOver } from './handshake';
import { ConnectionSlots, defaultBacklog } from './limits';
import { resolveOptions, ServerOptions } from './options';
import { HandshakeError, refusal, refuse } from './refusal';
import { serveSession, SessionEnvironment } from './session/session';
import { ServerStatus, StatusValues } from './status';
import { PacketChannel } from '../transport/packet-channel';

export interface AuthServer extends net.Server {
  on(event: 'session', listener: (socket: net.Socket, connection: AuthenticatedConnection) => void): this;
  on(event: 'refuse', listener: (error: HandshakeError, socket: net.Socket) => void): this;
  on(event: 'login', listener: (connection: AuthenticatedConnection) => void): this;
  on(event: 'shutdown', listener: (connection: AuthenticatedConnection) => void): this;
  on(event: string, listener: (...args: any[]) => void): this; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** This process's own counters, whatever options.status says (what a worker reports to the others). */
  statusValues(): StatusValues;
  /** FLUSH STATUS of this process's own counters. */
  flushStatus(): void;
}

/**
 * A net.Server that authenticates every connection and emits 'login' for each success and
 * 'refuse' for each refusal. After a login it serves the session (server/session: account and
 * plugin statements, SHOW, the clients' start-up SELECTs), unless a 'session' listener is
 * attached: then the listener gets the socket and the connection (with its `leftover`) and owns
 * both. A session that options.admit admitted goes to its Admission instead (a proxy's relay). A SHUTDOWN by an account holding ALL emits 'shutdown' (refused when nothing listens).
 * Connections past maxConnections + 1 get 1040 in place of the greeting, as MySQL's; listen()
 * without a backlog uses options.backlog.
 */
export function createServer(options: ServerOptions): AuthServer {
  const resolved = resolveOptions(options);
  const slots = new ConnectionSlots(resolved.maxConnections);
  // Counts by the server's own events; `status.watch(server, ...)` follows its creation below.
  const status = new ServerStatus();
  const environment = (connection: AuthenticatedConnection): SessionEnvironment => ({
    catalog: resolved.catalog,
    variables: { max_connections: resolved.maxConnections, connect_timeout: Math.ceil(resolved.connectTimeout / 1000), ...resolved.variables },
    requestShutdown: () => server.emit('shutdown', connection),
    question: () => status.question(),
    status: () => resolved.status?.values() ?? status.values(),
    flushStatus: () => resolved.status?.flush() ?? status.flush(),
  });
  const server = net.createServer((socket) => {
    const slot = slots.take(socket);
    const handshake =
      slot === 'full'
        ? refuse(socket, new PacketChannel(socket), refusal('too-many-connections')).then(
            (error) => Promise.reject(error),
          )
        : acceptWith(socket, resolved, slot);
    handshake.then(
      // The session goes on over the socket the handshake ended on: the TLS one when the client asked.
      ({ connection, channel, admission, socket: session }) => {
        const authenticated = handOver(session, connection, channel);
        server.emit('login', authenticated);
        if (admission !== null) return admission.serve(session, authenticated);
        if (server.listenerCount('session') > 0) return void server.emit('session', session, authenticated);
        serveSession(session, authenticated, resolved.serverVersion, environment(authenticated));
      },
      (error: HandshakeError) => server.emit('refuse', error, socket),
    );
  }) as AuthServer;
  status.watch(server, () => slots.open);
  server.statusValues = () => status.values();
  server.flushStatus = () => status.flush();
  defaultBacklog(server, resolved.backlog);
  return server;
}
