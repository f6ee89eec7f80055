// The server side of MySQL's connection phase (sql/auth/sql_authentication.cc): greeting, TLS
// when the client asks for it (tls.ts), handshake response, account lookup, the account's plugin
// with MySQL's restart semantics, and the final OK or ERR, all within connect_timeout.
// listener.ts runs it on every connection.
import crypto from 'crypto';
import net from 'net';
import tls from 'tls';

import { codedError } from '../errors';
import { CR_OK, CR_OK_HANDSHAKE_COMPLETE, vioInfoOf, VioProtocol } from '../auth/vio';
import { Capability, ServerStatus } from '../protocol/constants';
import { buildHandshakeV10, HandshakeResponse41, isSslRequest, parseHandshakeResponse41 } from '../protocol/handshake';
import { PASSWORD_USED_NO, PasswordUsed } from '../protocol/mysql-errors';
import type { IdentMap, IdentMapLine } from '../peer/ident-map';
import { buildOk } from '../protocol/responses';
import { PacketChannel } from '../transport/packet-channel';
import { Account } from './catalog/accounts';
import { Admission, AdmissionContext, AuthenticatedConnection } from './connection';
import { nextConnectionId } from './connection-ids';
import { GREETING_PLUGIN, HandshakeVio } from './handshake-vio';
import { resolveOptions, ResolvedOptions, ServerOptions } from './options';
import { ServerAuthInfo } from './plugin';
import { runMethods } from './auth-methods';
import { HandshakeEnd } from './handshake-end';
import { getPeerCredentials } from '../peer/credentials';
import { HandshakeError, LoginAttempt, loginFailed, readFailure, Refusal, refusal, refuse } from './refusal';
import { acceptTls, releaseTls } from './tls';


const UTF8MB4_GENERAL_CI = 45;
const SCRAMBLE_LENGTH = 20;

// The greeting's scramble of each connection: COM_CHANGE_USER's proofs are made with it.
const scrambles = new WeakMap<net.Socket, Buffer>();

/** MySQL's generate_user_salt(): 7-bit bytes without NUL or '$', so clients may read it as a C string. */
// Scrambles are cut from a pool the CSPRNG refills, one call per 204 logins rather than one each.
const scramblePool = Buffer.alloc(SCRAMBLE_LENGTH * 204);
let scramblePoolUsed = scramblePool.length;

function newScramble(): Buffer {
  if (scramblePoolUsed === scramblePool.length) {
    crypto.randomFillSync(scramblePool);
    scramblePoolUsed = 0;
  }
  // A copy: each scramble is its own, and no byte of the pool is handed out twice.
  const scramble = Buffer.from(scramblePool.subarray(scramblePoolUsed, (scramblePoolUsed += SCRAMBLE_LENGTH)));
  for (let i = 0; i < scramble.length; i++) {
    scramble[i] &= 0x7f;
    if (scramble[i] === 0 || scramble[i] === 0x24) scramble[i]++;
  }
  return scramble;
}

/** MySQL's host_or_ip: 'localhost' for Unix-socket peers, the IP (IPv4-mapped shown as IPv4) for TCP. */
function clientHostOf(socket: net.Socket): string | null {
  const protocol = vioInfoOf(socket).protocol;
  if (protocol === VioProtocol.SOCKET) return 'localhost';
  if (protocol === VioProtocol.TCP && socket.remoteAddress) return socket.remoteAddress.replace(/^::ffff:(?=\d+\.)/i, '');
  return null;
}

/**
 * The connection as the handshake runs on it: the accepted socket and its channel, then the TLS
 * socket and the channel inside it once the client asked for TLS.
 */
interface Link {
  socket: net.Socket;
  channel: PacketChannel;
  /** The accepted socket: destroyed with the TLS one, which reads through it. */
  readonly transport: net.Socket;
  /** Why TLS failed, once it did: the accepted socket's close then reports this. */
  tlsFailure: HandshakeError | null;
}

async function greet(link: Link, options: ResolvedOptions, connectionId: number, scramble: Buffer): Promise<HandshakeResponse41> {
  await link.channel.write(
    buildHandshakeV10({
      serverVersion: options.serverVersion,
      connectionId,
      authPluginData: scramble,
      capabilities: options.capabilities,
      characterSet: UTF8MB4_GENERAL_CI,
      statusFlags: ServerStatus.AUTOCOMMIT,
      authPluginName: GREETING_PLUGIN.name,
    }),
  );
  let response: HandshakeResponse41;
  try {
    let packet = await link.channel.read();
    if (isSslRequest(packet)) {
      // A client that asks for TLS where none was offered must not go on in clear.
      if (options.secureContext === null) throw refusal('tls-not-offered');
      const channelOptions = { maxPayloadSize: options.maxHandshakePacketSize, budget: options.handshakeMemory };
      const secure = acceptTls(link.socket, link.channel, options.secureContext, channelOptions, (error) => (link.tlsFailure = error));
      link.socket = secure.socket;
      ({ channel: link.channel } = await secure.secured);
      packet = await link.channel.read();
    }
    response = parseHandshakeResponse41(packet);
  } catch (error) {
    throw error instanceof Refusal || error instanceof HandshakeError ? error : readFailure(error);
  }
  // Nor may a client that believes it is on TLS without an SSLRequest.
  if (response.capabilities & Capability.SSL && link.socket === link.transport) throw refusal('tls-not-offered');
  return response;
}

async function authenticate(
  link: Link,
  options: ResolvedOptions,
  clientHost: string,
  connectionId: number,
  end: HandshakeEnd,
  attempt: LoginAttempt,
): Promise<AuthenticatedConnection> {
  const scramble = newScramble();
  const response = await greet(link, options, connectionId, scramble);
  // COM_CHANGE_USER finds it by the socket the session runs on.
  scrambles.set(link.socket, scramble);
  const { socket, channel } = link;
  return verify({ socket, channel, options, clientHost, connectionId, end, attempt, scramble }, response);
}

interface Exchange {
  socket: net.Socket;
  channel: PacketChannel;
  options: ResolvedOptions;
  clientHost: string;
  connectionId: number;
  end: HandshakeEnd;
  attempt: LoginAttempt;
  scramble: Buffer;
}

// The client's response against the account it names: the account's plugins decide (MySQL's
// acl_authenticate, shared by the connection phase and COM_CHANGE_USER).
async function verify(exchange: Exchange, response: HandshakeResponse41): Promise<AuthenticatedConnection> {
  const { socket, channel, options, clientHost, connectionId, end, attempt, scramble } = exchange;
  // As MySQL: a user name that starts and ends with a single quote is taken without them.
  const quoted = response.user.length > 1 && response.user.startsWith("'") && response.user.endsWith("'");
  const user = quoted ? response.user.slice(1, -1) : response.user;
  attempt.user = user;

  // An unknown user gets a decoy account that no proof can pass, so the exchange looks the same
  // as for a wrong password (MySQL's decoy_user).
  const found = options.accounts.find(user, clientHost);
  const account: Account = found ?? {
    user,
    host: clientHost,
    plugin: GREETING_PLUGIN.name,
    authenticationString: '*' + crypto.randomBytes(20).toString('hex').toUpperCase(),
    privileges: [],
    grantOption: false,
    attributes: null,
    or: [],
  };
  if (!(response.capabilities & Capability.PLUGIN_AUTH) && account.plugin.toLowerCase() !== GREETING_PLUGIN.name) {
    throw refusal('client-lacks-plugin-auth');
  }
  const info = new AuthInfo(user, account.authenticationString, clientHost, end, options.catalog.identMap);
  // The account's plugin, or each method of its OR chain in turn (auth-methods.ts).
  const { plugin, result, pluginError } = await runMethods(account, info, options.plugins, attempt, end, (first) => new HandshakeVio(socket, channel, scramble, first, response));
  const accepted = (result === CR_OK || result === CR_OK_HANDSHAKE_COMPLETE) && found !== null && pluginError === undefined;
  // No proxy users here: a plugin that maps to another account is refused, not obeyed.
  if (!accepted || info.authenticatedAs !== user) {
    const reason =
      found === null
        ? 'unknown-account'
        : pluginError !== undefined
          ? 'plugin-error'
          : accepted
            ? 'proxy-user-not-supported'
            : (info.refusalReason ?? 'plugin-refused');
    throw loginFailed(reason, user, clientHost, info.passwordUsed, pluginError);
  }
  return {
    user,
    host: clientHost,
    account,
    authenticatedAs: info.authenticatedAs,
    externalUser: info.externalUser,
    plugin: plugin.name,
    identMapLine: info.identMapLine ?? null,
    database: response.database,
    capabilities: (response.capabilities & options.capabilities) >>> 0,
    characterSet: response.characterSet,
    connectAttributes: response.connectAttributes,
    connectionId,
    leftover: Buffer.alloc(0),
    peer: attempt.peer,
    tls: socket instanceof tls.TLSSocket && socket.encrypted === true,
  };
}

// What the account's plugin is told. A class of its own, so that a plugin that keeps `info` keeps
// nothing else of the handshake; the signal is made when a plugin looks (handshake-end.ts).
class AuthInfo implements ServerAuthInfo {
  authenticatedAs: string;
  externalUser: string | null = null;
  passwordUsed: PasswordUsed = PASSWORD_USED_NO;
  refusalReason?: string;
  identMapLine?: IdentMapLine;
  readonly #end: HandshakeEnd;

  constructor(
    readonly userName: string,
    public authString: string,
    readonly hostOrIp: string,
    end: HandshakeEnd,
    readonly identMap: IdentMap | null,
  ) {
    this.authenticatedAs = userName;
    this.#end = end;
  }

  get signal(): AbortSignal {
    return this.#end.signal;
  }
}

/**
 * Runs the server side of the connection phase on a connected socket. Resolves once the OK packet
 * is written, with the socket the session goes on with: the tls.TLSSocket over `socket` when the
 * client asked for TLS (options.tls), else `socket` itself. Rejects with a HandshakeError once the
 * ERR packet is written and the socket closed. Nothing the client sends after its authentication
 * packets is read: it comes back in `leftover`.
 */
export async function acceptConnection(socket: net.Socket, options: ServerOptions): Promise<AuthenticatedConnection & { socket: net.Socket }> {
  // An admission hands the session to its own owner, which only createServer() calls.
  if (options?.admit !== undefined) throw codedError('ERR_INVALID_ARG_VALUE', 'options.admit is for createServer(), which serves what it admits', TypeError);
  const accepted = await acceptWith(socket, resolveOptions(options), 'open');
  return { ...handOver(accepted.socket, accepted.connection, accepted.channel), socket: accepted.socket };
}

// The caller owns the socket from here: it gets every unread byte and attaches its own listeners.
export function handOver(socket: net.Socket, connection: AuthenticatedConnection, channel: PacketChannel): AuthenticatedConnection {
  socket.off('error', ignoreError);
  releaseTls(socket);
  return { ...connection, leftover: channel.detach() };
}

function ignoreError(): void {}

export async function acceptWith(
  socket: net.Socket,
  options: ResolvedOptions,
  slot: 'open' | 'reserved',
): Promise<{ connection: AuthenticatedConnection; channel: PacketChannel; admission: Admission | null; socket: net.Socket }> {
  // Without a listener a reset by the peer would crash the process; the handshake sees the close.
  socket.on('error', ignoreError);
  const connectionId = nextConnectionId();
  const clientHost = clientHostOf(socket);
  if (clientHost === null) {
    socket.destroy();
    throw new HandshakeError('ERR_CONNECTION_CLOSED', null, null, 'no-transport', 'the socket is neither a connected Unix-domain nor TCP socket');
  }
  const channel = new PacketChannel(socket, { maxPayloadSize: options.maxHandshakePacketSize, budget: options.handshakeMemory });
  // The TLS socket and its channel replace these when the client asks for TLS.
  const link: Link = { socket, channel, transport: socket, tlsFailure: null };
  const attempt: LoginAttempt = { user: null, host: clientHost, plugin: null, osUser: null, peer: peerOf(socket) };
  // However the handshake ends: plugins see it as info.signal.
  const end = new HandshakeEnd();
  const onClose = () => end.end(link.tlsFailure ?? codedError('ERR_CONNECTION_CLOSED', 'the client went away during the handshake'));
  socket.once('close', onClose);
  const deadline = Date.now() + options.connectTimeout;
  const timer = setTimeout(() => {
    end.end(new HandshakeError('ERR_CONNECT_TIMEOUT', null, null, 'connect-timeout', `no complete handshake within ${options.connectTimeout} ms`));
    link.socket.destroy();
    socket.destroy();
  }, options.connectTimeout);
  let admission: Admission | null = null;
  try {
    const connection = await end.race(() => authenticate(link, options, clientHost, connectionId, end, attempt));
    // MySQL's extra connection is for administrators, decided once the account is known.
    if (slot === 'reserved' && !options.adminAccounts.has(`${connection.account.user}@${connection.account.host}`)) {
      throw refusal('too-many-connections');
    }
    admission = options.admit === null ? null : await end.race(() => admit(options, connection, { signal: end.signal, deadline }));
    await end.race(() => link.channel.write(buildOk({ statusFlags: ServerStatus.AUTOCOMMIT })));
    return { connection, channel: link.channel, admission, socket: link.socket };
  } catch (error) {
    admission?.abandon();
    // A refusal inside TLS ends the TLS socket, and with it the accepted one under it.
    throw Object.assign(await handshakeError(link.socket, link.channel, error), { attempt });
  } finally {
    clearTimeout(timer);
    socket.off('close', onClose);
    end.end();
  }
}

// The admission hook's answer; a failure that is not a Refusal is the hook's bug, answered as a bad handshake.
async function admit(options: ResolvedOptions, connection: AuthenticatedConnection, context: AdmissionContext): Promise<Admission | null> {
  try {
    return (await options.admit?.(connection, context)) ?? null;
  } catch (error) {
    throw error instanceof Refusal ? error : refusal('admission-failed', error);
  }
}

/**
 * COM_CHANGE_USER inside a session (MySQL's acl_authenticate with COM_CHANGE_USER): the request,
 * read from `channel` as a command (sequence 0), is verified against the account it names with the
 * connection's greeting scramble, on the same socket, within connect_timeout. Resolves with the new
 * connection (nothing written: the caller sends the OK); rejects with the HandshakeError (attempt
 * set) whose ERR the caller sends, or the connection's own failure. Unix-socket peers keep the
 * credentials the kernel recorded at connect().
 */
export async function reauthenticate(
  socket: net.Socket,
  channel: PacketChannel,
  options: ResolvedOptions,
  current: AuthenticatedConnection,
  response: HandshakeResponse41,
): Promise<AuthenticatedConnection> {
  const scramble = scrambles.get(socket);
  if (scramble === undefined) throw codedError('ERR_INVALID_ARG_VALUE', 'the socket was not authenticated by this server');
  const attempt: LoginAttempt = { user: null, host: current.host, plugin: null, osUser: null, peer: current.peer };
  const end = new HandshakeEnd();
  const timer = setTimeout(() => end.end(codedError('ERR_CONNECT_TIMEOUT', `no complete COM_CHANGE_USER within ${options.connectTimeout} ms`)), options.connectTimeout);
  try {
    const exchange = { socket, channel, options, clientHost: current.host, connectionId: current.connectionId, end, attempt, scramble };
    return await end.race(() => verify(exchange, response));
  } catch (error) {
    const refused = error instanceof Refusal ? error : readFailure(error);
    throw refused instanceof Refusal ? refused.error(attempt) : refused;
  } finally {
    clearTimeout(timer);
    end.end();
  }
}

// The error a failed handshake ends with, its ERR written first when it is a refusal.
async function handshakeError(socket: net.Socket, channel: PacketChannel, error: unknown): Promise<HandshakeError> {
  if (error instanceof HandshakeError) return error;
  const refused = error instanceof Refusal ? error : readFailure(error);
  if (refused instanceof Refusal) return refuse(socket, channel, refused);
  socket.destroy();
  return new HandshakeError('ERR_CONNECTION_CLOSED', null, null, 'connection-closed', 'the client went away during the handshake', { cause: error });
}

/** The kernel's record of a Unix-socket peer; null for TCP or when the kernel has none. */
function peerOf(socket: net.Socket): LoginAttempt['peer'] {
  if (vioInfoOf(socket).protocol !== VioProtocol.SOCKET) return null;
  try {
    const { pid, uid, gid } = getPeerCredentials(socket);
    return { pid, uid, gid };
  } catch {
    return null;
  }
}

