// What a login leaves behind: the authenticated connection a session (or a proxy's relay) is given,
// and the admission hook a proxy uses to open its upstream before the OK (MySQL has no such hook:
// its server is the end of the line).
import type net from 'net';

import type { IdentMapLine } from '../peer/ident-map';
import { Account } from './catalog/accounts';
import type { LoginAttempt } from './refusal';

export interface AuthenticatedConnection {
  /** The user name the client asked for (USER() shows user@host). */
  user: string;
  /** The client's host as MySQL sees it: 'localhost' for Unix-socket peers, the IP for TCP. */
  host: string;
  /** The account that matched (CURRENT_USER() shows its user@host). */
  account: Account;
  /** Whom the plugin authenticated the connection as (the account's user name: no proxy users). */
  authenticatedAs: string;
  /** The plugin's external identity (auth_socket: the OS user name), or null. */
  externalUser: string | null;
  /** The plugin that accepted (of an OR chain, the method that did). */
  plugin: string;
  /** The ident map line that admitted the peer (auth_socket_map), or null. */
  identMapLine: IdentMapLine | null;
  database: string | null;
  /** Capabilities in effect: the client's flags that this server also offered. */
  capabilities: number;
  characterSet: number;
  connectAttributes: Record<string, string> | null;
  connectionId: number;
  /** Bytes the client sent after its last authentication packet, byte-exact and not acted on. */
  leftover: Buffer;
  /** The peer's process as the kernel recorded it at connect() (Unix-socket peers only). */
  peer: LoginAttempt['peer'];
  /** Whether the connection runs inside TLS (the client sent an SSLRequest to a server with options.tls). */
  tls: boolean;
}

/** What an admission hook hands the session to: it owns the socket after the OK. */
export interface Admission {
  /** Called once the OK is written, with the socket and every byte the client sent after its login. */
  serve(socket: net.Socket, connection: AuthenticatedConnection): void;
  /** Called instead of serve() when the handshake fails after admission (the client went away, timeout). */
  abandon(): void;
}

/**
 * Runs after the account's plugin accepted, before the OK. Resolving with null serves the session
 * locally; with an Admission, hands it over. A rejection with a Refusal (see refusal.ts's
 * `refusal()` and `upstreamRefused()`) answers the login with that ERR; any other rejection with 1043.
 */
export type AdmitHook = (connection: AuthenticatedConnection, context: AdmissionContext) => Promise<Admission | null>;

export interface AdmissionContext {
  /** Aborted when the handshake ends, however it ends (the client left, connect_timeout). */
  signal: AbortSignal;
  /**
   * When connect_timeout ends the handshake (Date.now() time): a hook that answers before it gets
   * its ERR to the client; after it, the connection is closed without one.
   */
  deadline: number;
}
