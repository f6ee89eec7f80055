// createServer(): a net.Server that runs the handshake on every connection, within MySQL's
// max_connections (the extra administrator slot included, sql/conn_handler/
// connection_handler_manager.cc), then the minimal session or the caller's 'session' listener.
import net from 'net';

import { AuthenticatedConnection, acceptWith, handOver } from './handshake';
import { ConnectionSlots, defaultBacklog } from './limits';
import { resolveOptions, ServerOptions } from './options';
import { HandshakeError, refusal, refuse } from './refusal';
import { serveSession } from './session/session';
import { PacketChannel } from '../transport/packet-channel';

export interface AuthServer extends net.Server {
  on(event: 'session', listener: (socket: net.Socket, connection: AuthenticatedConnection) => void): this;
  on(event: 'refuse', listener: (error: HandshakeError, socket: net.Socket) => void): this;
  on(event: string, listener: (...args: any[]) => void): this; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * A net.Server that authenticates every connection. After success it serves a minimal session
 * (COM_QUIT, COM_PING, COM_INIT_DB, a few SELECTs), unless a 'session' listener is attached: then
 * the listener gets the socket and the connection (with its `leftover`) and owns both.
 * Every refusal is emitted as 'refuse'. Connections past maxConnections + 1 get 1040 in place of
 * the greeting, as MySQL's; listen() without a backlog uses options.backlog.
 */
export function createServer(options: ServerOptions): AuthServer {
  const resolved = resolveOptions(options);
  const slots = new ConnectionSlots(resolved.maxConnections);
  const server = net.createServer((socket) => {
    const slot = slots.take(socket);
    const handshake =
      slot === 'full'
        ? refuse(socket, new PacketChannel(socket), refusal('too-many-connections')).then(
            (error) => Promise.reject(error),
          )
        : acceptWith(socket, resolved, slot);
    handshake.then(
      ({ connection, channel }) => {
        const authenticated = handOver(socket, connection, channel);
        if (server.listenerCount('session') > 0) server.emit('session', socket, authenticated);
        else serveSession(socket, authenticated, resolved.serverVersion);
      },
      (error: HandshakeError) => server.emit('refuse', error, socket),
    );
  }) as AuthServer;
  defaultBacklog(server, resolved.backlog);
  return server;
}
