// The server side of MySQL's connection phase (sql/auth/sql_authentication.cc): greeting,
// handshake response, account lookup, the account's plugin with MySQL's restart semantics, and
// the final OK or ERR. createServer() adds a minimal session so real clients work end to end.
import crypto from 'crypto';
import net from 'net';

import { Account, Accounts } from './catalog/accounts';
import { cachingSha2PasswordPlugin } from './plugins/caching-sha2-password';
import { codedError, errorCode } from '../errors';
import { PacketChannel } from '../transport/packet-channel';
import {
  buildAuthMoreData,
  buildAuthSwitchRequest,
  buildErr,
  buildHandshakeV10,
  buildOk,
  Capability,
  ErrPacket,
  HandshakeResponse41,
  parseHandshakeResponse41,
  ServerStatus,
} from '../protocol/messages';
import {
  accessDenied,
  authModeNotSupported,
  badHandshake,
  outOfResources,
  PASSWORD_USED_NO,
  pluginNotLoaded,
  tooManyConnections,
} from '../protocol/mysql-errors';
import { ByteBudget, checkLimit, ConnectionSlots, DEFAULT_BACKLOG, defaultBacklog } from './limits';
import { builtinServerPlugins, mysqlNativePasswordPlugin, ServerAuthInfo, ServerAuthPlugin, ServerPluginVio } from './plugin';
import { serveSession } from './session/session';
import { CR_OK, CR_OK_HANDSHAKE_COMPLETE, CrCode, vioInfoOf, VioProtocol } from '../auth/vio';

export interface ServerOptions {
  accounts: Accounts;
  /** Extra server plugins beside the built-in ones (a plugin with a built-in's name replaces it). */
  plugins?: ServerAuthPlugin[];
  /** MySQL's connect_timeout, in ms: the whole handshake must finish within it. Default 10 s. */
  connectTimeout?: number;
  /** Server version in the greeting. */
  serverVersion?: string;
  /** Largest handshake packet accepted, in bytes (a larger one is a bad handshake). Default 64 KiB. */
  maxHandshakePacketSize?: number;
  /**
   * MySQL's max_connections (default 151): connections past it get 1040 Too many connections,
   * except one more, kept for an account named in `adminAccounts`.
   */
  maxConnections?: number;
  /** Accounts ('user@host', as CURRENT_USER() shows them) that may take the extra slot. Default root@localhost. */
  adminAccounts?: readonly string[];
  /**
   * Bytes that all connections still in their handshake may hold together (default 16 MiB); the
   * connection whose data would go past it is refused with 1041 (out of resources).
   */
  maxHandshakeMemory?: number;
  /** The listen queue used when listen() names none (MySQL's back_log). Default 4096. */
  backlog?: number;
}

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
  plugin: string;
  database: string | null;
  /** Capabilities in effect: the client's flags that this server also offered. */
  capabilities: number;
  characterSet: number;
  connectAttributes: Record<string, string> | null;
  connectionId: number;
  /** Bytes the client sent after its last authentication packet, byte-exact and not acted on. */
  leftover: Buffer;
}

export type HandshakeErrorCode =
  | 'ERR_ACCESS_DENIED'
  | 'ERR_BAD_HANDSHAKE'
  | 'ERR_AUTH_MODE_NOT_SUPPORTED'
  | 'ERR_PLUGIN_NOT_LOADED'
  | 'ERR_CONNECT_TIMEOUT'
  | 'ERR_CONNECTION_CLOSED'
  | 'ERR_TOO_MANY_CONNECTIONS'
  | 'ERR_OUT_OF_RESOURCES';

/** A refused handshake: the ERR packet (errno, sqlState) was written first; null when none was sent. */
export class HandshakeError extends Error {
  constructor(
    readonly code: HandshakeErrorCode,
    readonly errno: number | null,
    readonly sqlState: string | null,
    /** Why, in a word: e.g. 'user-mismatch', 'wrong-password', 'unknown-account', 'malformed-response'. */
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HandshakeError';
  }
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_HANDSHAKE_PACKET_SIZE = 64 * 1024;
const DEFAULT_MAX_CONNECTIONS = 151;
const DEFAULT_MAX_HANDSHAKE_MEMORY = 16 * 1024 * 1024;
// How long a refused client may keep its connection open after our ERR before we close it.
const REFUSAL_LINGER_MS = 1_000;
const DEFAULT_SERVER_VERSION = '8.0.36-auth-socket';
const UTF8MB4_GENERAL_CI = 45;
const SCRAMBLE_LENGTH = 20;
// The packet decoder's own ceiling (1 GiB, MySQL's max_allowed_packet limit).
const MAX_DECODER_PAYLOAD_SIZE = 1024 * 1024 * 1024;
// The greeting's scramble is made for the default plugin, as MySQL's is.
const GREETING_PLUGIN = mysqlNativePasswordPlugin;

/** What this server offers; the client's flags are intersected with these. */
export const SERVER_CAPABILITIES =
  (Capability.LONG_PASSWORD |
    Capability.FOUND_ROWS |
    Capability.LONG_FLAG |
    Capability.CONNECT_WITH_DB |
    Capability.NO_SCHEMA |
    Capability.ODBC |
    Capability.IGNORE_SPACE |
    Capability.PROTOCOL_41 |
    Capability.INTERACTIVE |
    Capability.IGNORE_SIGPIPE |
    Capability.TRANSACTIONS |
    Capability.SECURE_CONNECTION |
    Capability.MULTI_RESULTS |
    Capability.PLUGIN_AUTH |
    Capability.CONNECT_ATTRS |
    Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA |
    Capability.DEPRECATE_EOF) >>>
  0;

let lastConnectionId = 0;

/** MySQL's generate_user_salt(): 7-bit bytes without NUL or '$', so clients may read it as a C string. */
function newScramble(): Buffer {
  const scramble = crypto.randomBytes(SCRAMBLE_LENGTH);
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

function pluginTable(extra: ServerAuthPlugin[] | undefined): Map<string, ServerAuthPlugin> {
  const table = new Map<string, ServerAuthPlugin>();
  for (const plugin of [...builtinServerPlugins, cachingSha2PasswordPlugin, ...(extra ?? [])]) {
    if (typeof plugin?.name !== 'string' || typeof plugin.authenticate !== 'function') {
      throw codedError('ERR_INVALID_ARG_VALUE', 'a server plugin needs a name and an authenticate function', TypeError);
    }
    // Plugin names are case-insensitive in MySQL.
    table.set(plugin.name.toLowerCase(), plugin);
  }
  return table;
}

interface ResolvedOptions {
  accounts: Accounts;
  plugins: Map<string, ServerAuthPlugin>;
  connectTimeout: number;
  serverVersion: string;
  maxHandshakePacketSize: number;
  maxConnections: number;
  adminAccounts: ReadonlySet<string>;
  handshakeMemory: ByteBudget;
  backlog: number;
}

function accountNames(names: readonly string[] | undefined): ReadonlySet<string> {
  if (names === undefined) return new Set(['root@localhost']);
  if (!Array.isArray(names) || !names.every((name) => typeof name === 'string' && name.includes('@'))) {
    throw codedError('ERR_INVALID_ARG_TYPE', "adminAccounts must be an array of 'user@host' strings", TypeError);
  }
  return new Set(names);
}

function resolveOptions(options: ServerOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null || !(options.accounts instanceof Accounts)) {
    throw codedError('ERR_INVALID_ARG_TYPE', 'options.accounts must be an Accounts', TypeError);
  }
  const serverVersion = options.serverVersion ?? DEFAULT_SERVER_VERSION;
  if (typeof serverVersion !== 'string' || serverVersion.includes('\0')) {
    throw codedError('ERR_INVALID_ARG_VALUE', 'serverVersion must be a string without NUL', TypeError);
  }
  return {
    accounts: options.accounts,
    plugins: pluginTable(options.plugins),
    // setTimeout's own limit.
    connectTimeout: checkLimit(options.connectTimeout, DEFAULT_CONNECT_TIMEOUT_MS, 0x7fffffff, 'connectTimeout'),
    serverVersion,
    maxHandshakePacketSize: checkLimit(
      options.maxHandshakePacketSize,
      DEFAULT_MAX_HANDSHAKE_PACKET_SIZE,
      MAX_DECODER_PAYLOAD_SIZE,
      'maxHandshakePacketSize',
    ),
    // MySQL's own ceiling for max_connections.
    maxConnections: checkLimit(options.maxConnections, DEFAULT_MAX_CONNECTIONS, 100_000, 'maxConnections'),
    adminAccounts: accountNames(options.adminAccounts),
    handshakeMemory: new ByteBudget(
      checkLimit(options.maxHandshakeMemory, DEFAULT_MAX_HANDSHAKE_MEMORY, Number.MAX_SAFE_INTEGER, 'maxHandshakeMemory'),
    ),
    backlog: checkLimit(options.backlog, DEFAULT_BACKLOG, 0x7fffffff, 'backlog'),
  };
}

// A refusal decided inside the handshake, turned into ERR + HandshakeError at one place.
class Refusal {
  constructor(
    readonly code: HandshakeErrorCode,
    readonly err: ErrPacket,
    readonly reason: string,
    readonly cause?: unknown,
  ) {}
}

/**
 * MySQL's MPVIO for the account's plugin (server_mpvio_read_packet / _write_packet). The first
 * packet either side of the plugin exchanges decides whether the client must restart with another
 * plugin:
 * - a read returns the client's first reply when it was made for this plugin's client side (or
 *   the plugin takes any); otherwise the client gets an AuthSwitchRequest: with the greeting's
 *   scramble when the account uses the greeting's plugin, with no data for any other plugin;
 * - a write by the greeting's own plugin is the greeting itself and is not sent again; any other
 *   plugin's first write becomes the AuthSwitchRequest's data.
 * Every later write is wrapped as AuthMoreData. Plugin names compare case-insensitively.
 * close() lets go of the connection, so a plugin that never returns holds nothing of it.
 */
class HandshakeVio extends ServerPluginVio {
  private firstExchangeDone = false;
  private channel: PacketChannel | null;
  private cachedReply: Buffer | null;
  /** The plugin the client's reply was made by, as MySQL reads it. */
  private clientPlugin: string;
  private readonly clientCanSwitch: boolean;
  // The first failed read or write: it stands even if the plugin swallows it and returns CR_OK.
  #failure: unknown = undefined;

  constructor(
    socket: net.Socket,
    channel: PacketChannel,
    readonly scramble: Buffer,
    private readonly plugin: ServerAuthPlugin,
    response: HandshakeResponse41,
  ) {
    super(socket);
    this.channel = channel;
    this.cachedReply = response.authResponse;
    this.clientCanSwitch = (response.capabilities & Capability.PLUGIN_AUTH) !== 0;
    // A client without CLIENT_PLUGIN_AUTH speaks mysql_native_password; one that has it but
    // names no plugin named the empty one (so it is asked to switch).
    this.clientPlugin = this.clientCanSwitch ? (response.clientPluginName ?? '').toLowerCase() : GREETING_PLUGIN.name;
  }

  get failure(): unknown {
    return this.#failure;
  }

  private get isGreetingPlugin(): boolean {
    return this.plugin.name.toLowerCase() === GREETING_PLUGIN.name;
  }

  /**
   * A plugin that takes any client plugin (auth_socket) never asks for a restart, but a client
   * whose reply was made by a plugin other than the greeting's had no server data for it and still
   * waits for some: libmariadb's caching_sha2_password, client_ed25519 and sha256_password fail
   * with 2012 on an OK. Such a client restarts with the greeting's plugin and scramble, as MariaDB's
   * default `mysql_native_password ... OR unix_socket` account makes it; its answer is the reply
   * the plugin reads, if it reads.
   */
  async restartForeignClient(): Promise<void> {
    if (this.plugin.clientPluginName !== null || !this.clientCanSwitch || this.clientPlugin === GREETING_PLUGIN.name) return;
    const channel = this.open();
    await this.recordFailure(channel.write(buildAuthSwitchRequest({ pluginName: GREETING_PLUGIN.name, pluginData: this.greetingData() })));
    this.cachedReply = await this.recordFailure(channel.read());
    this.clientPlugin = GREETING_PLUGIN.name;
  }

  readPacket(): Promise<Buffer> {
    return this.recordFailure(this.read());
  }

  writePacket(data: Buffer): Promise<void> {
    return this.recordFailure(this.write(data));
  }

  close(): void {
    this.release();
    this.channel = null;
    this.cachedReply = null;
  }

  private open(): PacketChannel {
    if (this.channel === null) throw codedError('ERR_VIO_CLOSED', 'the handshake is over; its VIO is closed');
    return this.channel;
  }

  private greetingData(): Buffer {
    return Buffer.concat([this.scramble, Buffer.of(0)]);
  }

  private async recordFailure<T>(operation: Promise<T>): Promise<T> {
    try {
      return await operation;
    } catch (error) {
      this.#failure ??= error;
      throw error;
    }
  }

  private async read(): Promise<Buffer> {
    const channel = this.open();
    const cached = this.cachedReply;
    if (cached !== null) {
      this.cachedReply = null;
      this.firstExchangeDone = true;
      const wanted = this.plugin.clientPluginName;
      if (wanted === null || wanted.toLowerCase() === this.clientPlugin) return cached;
      await this.switchClient(this.isGreetingPlugin ? this.greetingData() : Buffer.alloc(0));
    }
    return channel.read();
  }

  private async write(data: Buffer): Promise<void> {
    const channel = this.open();
    if (!this.firstExchangeDone) {
      this.firstExchangeDone = true;
      // The account's plugin is the greeting's (MySQL decides by name): no restart.
      if (this.isGreetingPlugin) return;
      this.cachedReply = null;
      return this.switchClient(data);
    }
    return channel.write(buildAuthMoreData(data));
  }

  private async switchClient(pluginData: Buffer): Promise<void> {
    const pluginName = this.plugin.clientPluginName;
    if (pluginName === null || !this.clientCanSwitch) {
      throw new Refusal('ERR_AUTH_MODE_NOT_SUPPORTED', authModeNotSupported(), 'client-cannot-switch-plugin');
    }
    return this.open().write(buildAuthSwitchRequest({ pluginName, pluginData }));
  }
}

// Packet-layer errors during the handshake, each a bad handshake with its own reason.
const badHandshakeReasons: Record<string, string> = {
  ERR_MALFORMED_PACKET: 'malformed-response',
  ERR_PACKET_TOO_LARGE: 'oversized-packet',
  ERR_PACKET_ALLOCATION: 'oversized-packet',
  ERR_PACKET_SEQUENCE: 'bad-sequence',
};

function readFailure(error: unknown): unknown {
  const reason = badHandshakeReasons[errorCode(error) ?? ''];
  return reason === undefined ? error : new Refusal('ERR_BAD_HANDSHAKE', badHandshake(), reason, error);
}

async function greet(channel: PacketChannel, options: ResolvedOptions, connectionId: number, scramble: Buffer): Promise<HandshakeResponse41> {
  await channel.write(
    buildHandshakeV10({
      serverVersion: options.serverVersion,
      connectionId,
      authPluginData: scramble,
      capabilities: SERVER_CAPABILITIES,
      characterSet: UTF8MB4_GENERAL_CI,
      statusFlags: ServerStatus.AUTOCOMMIT,
      authPluginName: GREETING_PLUGIN.name,
    }),
  );
  let response: HandshakeResponse41;
  try {
    response = parseHandshakeResponse41(await channel.read());
  } catch (error) {
    throw readFailure(error);
  }
  // A client that believes it is on TLS, though TLS was never offered, must not go on in clear.
  if (response.capabilities & Capability.SSL) throw new Refusal('ERR_BAD_HANDSHAKE', badHandshake(), 'tls-not-offered');
  return response;
}

/**
 * The plugin's result, unless the handshake ends first (the signal): then the handshake goes on
 * without it, and a plugin that never settles keeps none of the handshake's state alive.
 */
function untilAborted<T>(run: () => T | Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let pending: { resolve(value: T): void; reject(error: unknown): void } | null = { resolve, reject };
    const onAbort = () => {
      pending?.reject(signal.reason);
      pending = null;
    };
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(run)
      .then(
        (value) => pending?.resolve(value),
        (error: unknown) => pending?.reject(error),
      )
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function authenticate(
  socket: net.Socket,
  channel: PacketChannel,
  options: ResolvedOptions,
  clientHost: string,
  connectionId: number,
  signal: AbortSignal,
): Promise<AuthenticatedConnection> {
  const scramble = newScramble();
  const response = await greet(channel, options, connectionId, scramble);

  // As MySQL: a user name that starts and ends with a single quote is taken without them.
  const quoted = response.user.length > 1 && response.user.startsWith("'") && response.user.endsWith("'");
  const user = quoted ? response.user.slice(1, -1) : response.user;

  // An unknown user gets a decoy account that no proof can pass, so the exchange looks the same
  // as for a wrong password (MySQL's decoy_user).
  const found = options.accounts.find(user, clientHost);
  const account: Account = found ?? {
    user,
    host: clientHost,
    plugin: GREETING_PLUGIN.name,
    authenticationString: '*' + crypto.randomBytes(20).toString('hex').toUpperCase(),
  };
  if (!(response.capabilities & Capability.PLUGIN_AUTH) && account.plugin.toLowerCase() !== GREETING_PLUGIN.name) {
    throw new Refusal('ERR_AUTH_MODE_NOT_SUPPORTED', authModeNotSupported(), 'client-lacks-plugin-auth');
  }
  const plugin = options.plugins.get(account.plugin.toLowerCase());
  if (plugin === undefined) throw new Refusal('ERR_PLUGIN_NOT_LOADED', pluginNotLoaded(account.plugin), 'plugin-not-loaded');

  const info: ServerAuthInfo = {
    userName: user,
    authString: account.authenticationString,
    authenticatedAs: user,
    externalUser: null,
    passwordUsed: PASSWORD_USED_NO,
    hostOrIp: clientHost,
    signal,
  };
  const vio = new HandshakeVio(socket, channel, scramble, plugin, response);
  let result: CrCode | undefined;
  let pluginError: unknown;
  try {
    try {
      await vio.restartForeignClient();
    } catch (error) {
      throw readFailure(error);
    }
    result = await untilAborted(() => plugin.authenticate(vio, info), signal);
  } catch (error) {
    if (error instanceof Refusal) throw error;
    pluginError = error;
  } finally {
    vio.close();
  }
  // A failed exchange decides, whatever the plugin made of it.
  pluginError = vio.failure ?? pluginError;
  if (pluginError instanceof Refusal || errorCode(pluginError) === 'ERR_CONNECTION_CLOSED') throw pluginError;
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
    throw new Refusal('ERR_ACCESS_DENIED', accessDenied(user, clientHost, info.passwordUsed), reason, pluginError);
  }
  return {
    user,
    host: clientHost,
    account,
    authenticatedAs: info.authenticatedAs,
    externalUser: info.externalUser,
    plugin: plugin.name,
    database: response.database,
    capabilities: (response.capabilities & SERVER_CAPABILITIES) >>> 0,
    characterSet: response.characterSet,
    connectAttributes: response.connectAttributes,
    connectionId,
    leftover: Buffer.alloc(0),
  };
}

/**
 * Writes the refusal's ERR packet (when the socket can still take it) and ends our side. Whatever
 * the client still sends is drained unread, so closing does not reset the connection under the
 * ERR; the socket is destroyed when the client closes, or after REFUSAL_LINGER_MS at the latest.
 */
function refuse(socket: net.Socket, channel: PacketChannel, refusal: Refusal): Promise<HandshakeError> {
  const error = new HandshakeError(refusal.code, refusal.err.errno, refusal.err.sqlState, refusal.reason, refusal.err.message, {
    cause: refusal.cause,
  });
  return new Promise((resolve) => {
    if (socket.destroyed || !socket.writable) {
      socket.destroy();
      return resolve(error);
    }
    channel.write(buildErr(refusal.err)).then(
      () => {
        channel.detach();
        socket.on('data', () => {});
        const linger = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
        socket.once('close', () => clearTimeout(linger));
        socket.end(() => resolve(error));
        socket.resume();
      },
      () => {
        socket.destroy();
        resolve(error);
      },
    );
  });
}

/**
 * Runs the server side of the connection phase on a connected socket. Resolves once the OK packet
 * is written; rejects with a HandshakeError once the ERR packet is written and the socket closed.
 * Nothing the client sends after its authentication packets is read: it comes back in `leftover`.
 */
export async function acceptConnection(socket: net.Socket, options: ServerOptions): Promise<AuthenticatedConnection> {
  const { connection, channel } = await acceptWith(socket, resolveOptions(options), 'open');
  return handOver(socket, connection, channel);
}

// The caller owns the socket from here: it gets every unread byte and attaches its own listeners.
function handOver(socket: net.Socket, connection: AuthenticatedConnection, channel: PacketChannel): AuthenticatedConnection {
  socket.off('error', ignoreError);
  return { ...connection, leftover: channel.detach() };
}

function ignoreError(): void {}

// Packet-layer failures of the handshake's reads that are the server's doing, not the client's.
const channelRefusals: Record<string, () => Refusal> = {
  ERR_MEMORY_BUDGET: () => new Refusal('ERR_OUT_OF_RESOURCES', outOfResources(), 'handshake-memory-budget'),
};

async function acceptWith(
  socket: net.Socket,
  options: ResolvedOptions,
  slot: 'open' | 'reserved',
): Promise<{ connection: AuthenticatedConnection; channel: PacketChannel }> {
  // Without a listener a reset by the peer would crash the process; the handshake sees the close.
  socket.on('error', ignoreError);
  const connectionId = (lastConnectionId = (lastConnectionId % 0xffffffff) + 1);
  const clientHost = clientHostOf(socket);
  if (clientHost === null) {
    socket.destroy();
    throw new HandshakeError('ERR_CONNECTION_CLOSED', null, null, 'no-transport', 'the socket is neither a connected Unix-domain nor TCP socket');
  }
  const channel = new PacketChannel(socket, { maxPayloadSize: options.maxHandshakePacketSize, budget: options.handshakeMemory });
  // Aborted when the handshake ends, however it ends: plugins see it as info.signal.
  const controller = new AbortController();
  const ended = new Promise<never>((_resolve, reject) =>
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }),
  );
  const onClose = () => abort(controller, codedError('ERR_CONNECTION_CLOSED', 'the client went away during the handshake'));
  socket.once('close', onClose);
  const timer = setTimeout(() => {
    abort(controller, new HandshakeError('ERR_CONNECT_TIMEOUT', null, null, 'connect-timeout', `no complete handshake within ${options.connectTimeout} ms`));
    socket.destroy();
  }, options.connectTimeout);
  try {
    const connection = await Promise.race([authenticate(socket, channel, options, clientHost, connectionId, controller.signal), ended]);
    // MySQL's extra connection is for administrators, decided once the account is known.
    if (slot === 'reserved' && !options.adminAccounts.has(`${connection.account.user}@${connection.account.host}`)) {
      throw new Refusal('ERR_TOO_MANY_CONNECTIONS', tooManyConnections(), 'too-many-connections');
    }
    await Promise.race([channel.write(buildOk({ statusFlags: ServerStatus.AUTOCOMMIT })), ended]);
    return { connection, channel };
  } catch (error) {
    if (error instanceof HandshakeError) throw error;
    const refusal = error instanceof Refusal ? error : channelRefusals[errorCode(error) ?? '']?.();
    if (refusal !== undefined) throw await refuse(socket, channel, refusal);
    socket.destroy();
    throw new HandshakeError('ERR_CONNECTION_CLOSED', null, null, 'connection-closed', 'the client went away during the handshake', { cause: error });
  } finally {
    clearTimeout(timer);
    socket.off('close', onClose);
    if (!controller.signal.aborted) abort(controller, codedError('ERR_HANDSHAKE_OVER', 'the handshake is over'));
  }
}

// The reason outlives the handshake in every plugin that keeps its signal. Its stack is formatted
// now: V8 keeps an unformatted stack's frames, and with them this connection's closures.
function abort(controller: AbortController, reason: Error): void {
  void reason.stack;
  controller.abort(reason);
}

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
        ? refuse(socket, new PacketChannel(socket), new Refusal('ERR_TOO_MANY_CONNECTIONS', tooManyConnections(), 'too-many-connections')).then(
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
