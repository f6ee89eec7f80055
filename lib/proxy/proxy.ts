// createProxy(): the server of server/ with an admission hook that, for an account carrying
// upstream credentials (ATTRIBUTE '{"upstream_user": ..., "upstream_password": ...}'), opens the
// upstream session after the local login and before the OK, then relays the session to it. An
// account without them (root@localhost, the proxy's administrator) is served locally. MySQL has no
// such server; the nearest are MySQL Router and ProxySQL, neither of which knows the peer's uid.
import { tlsPlan } from '../client/tls';
import { codedError } from '../errors';
import type { Admission, AdmissionContext, AuthenticatedConnection } from '../server/connection';
import { AuthServer, createServer } from '../server/listener';
import { resolveOptions, ServerOptions } from '../server/options';
import type { HandshakeError } from '../server/refusal';
import { RelaySession } from './relay-session';
import { openUpstream, PROXY_EXTRA_CAPABILITIES, upstreamCredentials, UpstreamOptions } from './upstream';

// The dial ends this long before connect_timeout would, so that its 2003 reaches the client.
const DEADLINE_MARGIN_MS = 100;

export interface ProxyOptions extends ServerOptions {
  /** Where relayed accounts go, and how (TLS, timeout). */
  upstream: UpstreamOptions;
}

export interface ProxyServer extends AuthServer {
  /** A relayed session changed its account with COM_CHANGE_USER ('refuse' reports a refused change). */
  on(event: 'change-user', listener: (connection: AuthenticatedConnection) => void): this;
  on(event: string, listener: (...args: any[]) => void): this; // eslint-disable-line @typescript-eslint/no-explicit-any
}

// Checked when the proxy is made, not found wrong at every login.
function checkUpstream(upstream: unknown): UpstreamOptions {
  const options = upstream as UpstreamOptions;
  if (typeof options !== 'object' || options === null) throw codedError('ERR_INVALID_ARG_TYPE', 'options.upstream must be an object', TypeError);
  if (options.socketPath === undefined && options.host === undefined) {
    throw codedError('ERR_INVALID_ARG_VALUE', 'options.upstream needs socketPath, or host (and port)', TypeError);
  }
  const timeout = options.connectTimeout;
  if (timeout !== undefined && !(Number.isSafeInteger(timeout) && timeout > 0 && timeout <= 0x7fffffff)) {
    throw codedError('ERR_INVALID_ARG_VALUE', 'options.upstream.connectTimeout must be an integer from 1 to 2147483647', TypeError);
  }
  tlsPlan(options);
  return { ...options };
}

/**
 * A server whose accounts with upstream credentials are relayed to `options.upstream` once they
 * logged in locally; every other account is served as createServer() serves it. The upstream is
 * dialled only after the local login succeeded; its failure is the login's ERR.
 */
export function createProxy(options: ProxyOptions): ProxyServer {
  const upstream = checkUpstream(options?.upstream);
  const admit = async (connection: AuthenticatedConnection, { signal, deadline }: AdmissionContext): Promise<Admission | null> => {
    const credentials = upstreamCredentials(connection.account);
    if (credentials === null) return null;
    const session = await openUpstream(upstream, connection, credentials, signal, deadline - DEADLINE_MARGIN_MS);
    return {
      serve: (socket, authenticated) => {
        const context = {
          server,
          upstream,
          changedUser: (changed: AuthenticatedConnection) => proxy.emit('change-user', changed),
          refused: (error: HandshakeError) => proxy.emit('refuse', error, socket),
        };
        new RelaySession(socket, authenticated, session, context).start();
      },
      abandon: () => session.socket.destroy(),
    };
  };
  const serverOptions: ServerOptions = {
    ...options,
    extraCapabilities: (options.extraCapabilities ?? 0) | PROXY_EXTRA_CAPABILITIES,
    admit,
  };
  // The session's COM_CHANGE_USER verifies against the same catalog and plugins as the logins.
  const server = resolveOptions(serverOptions);
  const proxy = createServer({ ...serverOptions, catalog: server.catalog, accounts: server.accounts }) as ProxyServer;
  return proxy;
}
