// connect(): the client side of MySQL's connection phase (sql-common/client.cc), run by client
// plugins: HandshakeV10 in, HandshakeResponse41 made by the plugin out, AuthSwitchRequest and
// AuthMoreData followed, OK or ERR at the end. The result is an authenticated socket, the
// upstream leg a proxy needs.
import net from 'net';

import { ClientAuthPlugin, ConnectionPluginOptions, isClientAuthResult, MysqlHandle, mysqlHandle } from './plugin';
import { ClientPluginPolicy, clientPluginPolicy, firstClientPlugin, resolveClientPlugin } from './policy';
import { codedError, CodedError, errorCode } from '../errors';
import { PacketChannel } from '../transport/packet-channel';
import { isAuthMoreData, isAuthSwitchRequest, parseAuthSwitchRequest } from '../protocol/auth-exchange';
import { Capability } from '../protocol/constants';
import { buildHandshakeResponse41, HandshakeV10, parseHandshakeV10 } from '../protocol/handshake';
import { isErrPacket, isOkPacket, OkPacket, parseErr, parseOk, serverErrorFrom } from '../protocol/responses';
import { CR_ERROR, CR_OK, CR_OK_HANDSHAKE_COMPLETE, CrCode, PluginVio } from '../auth/vio';
import { MYSQL_ERRORS } from '../protocol/mysql-errors';

/** MySQL's connect_timeout default, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT = 10_000;
/** Largest handshake packet taken from a server by default: greetings, RSA keys and PAM prompts are far smaller. */
export const DEFAULT_MAX_HANDSHAKE_PAYLOAD = 64 * 1024;
/** utf8mb4_general_ci: understood by MySQL 5.5.3+ and every MariaDB in use. */
const DEFAULT_CHARACTER_SET = 45;
const MAX_PACKET_SIZE = 16 * 1024 * 1024;

// What this client offers; the server's own flags cut it down (CONNECT_WITH_DB and
// CONNECT_ATTRS are added when used).
const CLIENT_CAPABILITIES =
  Capability.LONG_PASSWORD |
  Capability.LONG_FLAG |
  Capability.PROTOCOL_41 |
  Capability.TRANSACTIONS |
  Capability.SECURE_CONNECTION |
  Capability.MULTI_RESULTS |
  Capability.PLUGIN_AUTH |
  Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA;

export interface ConnectOptions {
  /** Unix socket path; or host/port for TCP. */
  socketPath?: string;
  host?: string;
  port?: number;
  user: string;
  password?: string;
  database?: string;
  /** Plugins for this connection only; they win over registered plugins of the same name. */
  plugins?: readonly ClientAuthPlugin[];
  /**
   * The plugin that makes the first response (MySQL's default_auth). Default: the plugin the
   * server advertised when we have it, else mysql_native_password.
   */
  defaultAuth?: string;
  connectAttributes?: Record<string, string>;
  /** Whole connection phase, in milliseconds (default 10 s). */
  timeout?: number;
  /**
   * Allows plugins that send the password in cleartext (mysql_clear_password, dialog,
   * auth_simple, any declared with sendsCleartextPassword); default from env
   * LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN.
   */
  enableCleartextPlugin?: boolean;
  /**
   * Only these plugins may run, whether advertised, chosen by defaultAuth or switched to: an
   * array of names or a comma-separated string (the mariadb connector's option). Default: any.
   */
  restrictedAuth?: string | readonly string[];
  /** Settings plugins read (serverPublicKey, getServerPublicKey, dialogAsk, ...). */
  pluginOptions?: ConnectionPluginOptions;
  /** Largest packet accepted from the server during the handshake (default 64 KiB). */
  maxPayloadSize?: number;
}

export interface ClientConnection {
  /** Authenticated, paused, with no listeners of ours left on it. */
  socket: net.Socket;
  greeting: HandshakeV10;
  /** The capability flags both sides have (what the client sent, a subset of the server's). */
  capabilities: number;
  /** The client plugin that finished the exchange. */
  plugin: string;
  ok: OkPacket;
  /** Bytes the server sent after its OK, byte-exact. */
  leftover: Buffer;
}

/** A connect() failure: `code` says what kind; server refusals carry errno, sqlState and message. */
export interface ConnectError extends CodedError {
  errno?: number;
  sqlState?: string | null;
}

// The client library's error numbers for failures that are not the server's.
const CR_UNKNOWN_ERROR = MYSQL_ERRORS.CR_UNKNOWN_ERROR.errno;
const CR_SERVER_LOST = MYSQL_ERRORS.CR_SERVER_LOST.errno;
const CR_MALFORMED_PACKET = MYSQL_ERRORS.CR_MALFORMED_PACKET.errno;

function clientError(code: string, errno: number, message: string): ConnectError {
  const error = codedError(code, message) as ConnectError;
  error.errno = errno;
  return error;
}

/**
 * The VIO a client plugin runs on (MySQL's MCPVIO_EXT): the first read returns the data the
 * server gave with its greeting or AuthSwitchRequest; the first write of the first plugin goes
 * out as the HandshakeResponse41; AuthMoreData loses its 0x01; an ERR or another
 * AuthSwitchRequest ends the plugin's reading (the connection handles them).
 */
class ClientPluginVio extends PluginVio {
  packetsRead = 0;
  packetsWritten = 0;
  /** The last packet read from the server, as it came: the result when the plugin read it. */
  lastPacket?: Buffer;
  serverError?: ConnectError;
  /** Set once the plugin returned: a straggling read or write of it must not touch the connection. */
  pluginReturned = false;

  constructor(
    socket: net.Socket,
    private readonly channel: PacketChannel,
    private cachedReply: Buffer | null,
    private readonly firstPacket: ((authResponse: Buffer) => Buffer) | null,
  ) {
    super(socket);
  }

  override async readPacket(): Promise<Buffer> {
    this.checkOpen();
    if (this.cachedReply !== null) {
      const reply = this.cachedReply;
      this.cachedReply = null;
      this.packetsRead++;
      return reply;
    }
    // Nothing from the server for this plugin yet: open the exchange with an empty response.
    if (this.packetsRead === 0 && this.packetsWritten === 0) await this.send(Buffer.alloc(0));
    const packet = await this.readRaw();
    if (isErrPacket(packet)) {
      this.serverError = serverErrorFrom(parseErr(packet));
      throw this.serverError;
    }
    if (isAuthSwitchRequest(packet)) throw clientError('ERR_AUTH_SWITCH', CR_UNKNOWN_ERROR, 'the server switched plugins');
    return isAuthMoreData(packet) ? packet.subarray(1) : packet;
  }

  async readRaw(): Promise<Buffer> {
    const packet = await this.channel.read();
    this.packetsRead++;
    this.lastPacket = packet;
    return packet;
  }

  override async writePacket(data: Buffer): Promise<void> {
    this.checkOpen();
    if (!Buffer.isBuffer(data)) throw codedError('ERR_INVALID_ARG_TYPE', 'writePacket takes a Buffer', TypeError);
    return this.send(data);
  }

  async send(data: Buffer): Promise<void> {
    const payload = this.packetsWritten === 0 && this.firstPacket !== null ? this.firstPacket(data) : data;
    this.packetsWritten++;
    await this.channel.write(payload);
  }

  private checkOpen(): void {
    if (this.pluginReturned) throw codedError('ERR_VIO_CLOSED', 'the plugin already returned; its VIO is closed');
  }
}

function handleFor(options: ConnectOptions, greeting: HandshakeV10, policy: ClientPluginPolicy): MysqlHandle & { error?: string } {
  return mysqlHandle({
    user: options.user,
    password: options.password ?? '',
    database: options.database,
    host: options.socketPath === undefined ? (options.host ?? 'localhost') : undefined,
    port: options.socketPath === undefined ? (options.port ?? 3306) : undefined,
    socketPath: options.socketPath,
    serverVersion: greeting.serverVersion,
    connectionId: greeting.connectionId,
    scramble: greeting.authPluginData,
    cleartextPluginEnabled: policy.cleartextEnabled,
    options: Object.freeze({ ...(options.pluginOptions ?? {}) }),
  });
}

/**
 * Runs one plugin and returns the packet that ends its part: the server's next packet after
 * CR_OK, or the last one the plugin read itself (CR_OK_HANDSHAKE_COMPLETE, or a failure after
 * which the server had already said OK or switched: MySQL tolerates that, the auth_socket case).
 */
async function runPlugin(plugin: ClientAuthPlugin, vio: ClientPluginVio, handle: MysqlHandle & { error?: string }): Promise<Buffer> {
  let result: CrCode = CR_ERROR;
  let thrown: unknown;
  try {
    const code = await plugin.authenticate(vio, handle);
    if (isClientAuthResult(code)) result = code;
    else handle.setError(`plugin returned ${String(code)}, not CR_OK, CR_OK_HANDSHAKE_COMPLETE or CR_ERROR`);
  } catch (error) {
    thrown = error;
  }
  vio.pluginReturned = true;
  if (result === CR_OK) {
    // A plugin that never wrote still owes the server its handshake response.
    if (vio.packetsWritten === 0) await vio.send(Buffer.alloc(0));
    return vio.readRaw();
  }
  const last = vio.lastPacket;
  if (result === CR_OK_HANDSHAKE_COMPLETE) {
    if (last !== undefined) return last;
    throw clientError('ERR_AUTH_PLUGIN_FAILED', CR_UNKNOWN_ERROR, `${plugin.name}: returned CR_OK_HANDSHAKE_COMPLETE without reading the server's reply`);
  }
  if (last !== undefined && (isOkPacket(last) || isAuthSwitchRequest(last))) return last;
  if (vio.serverError) throw vio.serverError;
  const why = handle.error ?? (thrown instanceof Error ? thrown.message : thrown !== undefined ? String(thrown) : 'the plugin failed');
  const error = clientError('ERR_AUTH_PLUGIN_FAILED', CR_UNKNOWN_ERROR, `${plugin.name}: ${why}`);
  if (thrown instanceof Error) error.cause = thrown;
  throw error;
}

function openSocket(options: ConnectOptions): net.Socket {
  if (options.socketPath !== undefined) return net.connect({ path: options.socketPath });
  return net.connect({ host: options.host ?? 'localhost', port: options.port ?? 3306 });
}

function checkOptions(options: ConnectOptions): ClientPluginPolicy {
  const invalid = (message: string, code = 'ERR_INVALID_ARG_VALUE') => codedError(code, message, TypeError);
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object', 'ERR_INVALID_ARG_TYPE');
  if (typeof options.user !== 'string') throw invalid('options.user must be a string', 'ERR_INVALID_ARG_TYPE');
  for (const key of ['password', 'database', 'socketPath', 'host', 'defaultAuth'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'string') throw invalid(`options.${key} must be a string`, 'ERR_INVALID_ARG_TYPE');
  }
  if (options.socketPath === undefined && options.host === undefined) throw invalid('give socketPath, or host (and port)');
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port > 0 && options.port < 65536)) {
    throw invalid('options.port must be an integer from 1 to 65535');
  }
  for (const key of ['timeout', 'maxPayloadSize'] as const) {
    const value = options[key];
    // setTimeout's and the packet decoder's own limits.
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0 && value <= 0x7fffffff)) {
      throw invalid(`options.${key} must be an integer from 1 to 2147483647`);
    }
  }
  const plugins: unknown = options.plugins;
  if (plugins !== undefined) {
    const isPlugin = (p: unknown) =>
      typeof p === 'object' && p !== null && typeof (p as ClientAuthPlugin).name === 'string' && typeof (p as ClientAuthPlugin).authenticate === 'function';
    if (!Array.isArray(plugins) || !plugins.every(isPlugin)) {
      throw invalid('options.plugins must be an array of plugins from declareClientPlugin()', 'ERR_INVALID_ARG_TYPE');
    }
  }
  const attributes: unknown = options.connectAttributes;
  if (attributes !== undefined) {
    const strings = typeof attributes === 'object' && attributes !== null && Object.values(attributes).every((v) => typeof v === 'string');
    if (!strings) throw invalid('options.connectAttributes must map names to strings', 'ERR_INVALID_ARG_TYPE');
  }
  const cleartext: unknown = options.enableCleartextPlugin;
  if (cleartext !== undefined && typeof cleartext !== 'boolean') throw invalid('options.enableCleartextPlugin must be a boolean', 'ERR_INVALID_ARG_TYPE');
  return clientPluginPolicy(options);
}

async function handshake(socket: net.Socket, channel: PacketChannel, options: ConnectOptions, policy: ClientPluginPolicy): Promise<ClientConnection> {
  const first = await channel.read();
  if (isErrPacket(first)) throw serverErrorFrom(parseErr(first)); // e.g. too many connections
  const greeting = parseHandshakeV10(first);
  if (!(greeting.capabilities & Capability.PROTOCOL_41) || !(greeting.capabilities & Capability.SECURE_CONNECTION)) {
    throw clientError('ERR_UNSUPPORTED_SERVER', CR_UNKNOWN_ERROR, `server ${greeting.serverVersion} does not speak protocol 4.1`);
  }
  const attributes = options.connectAttributes;
  let wanted = CLIENT_CAPABILITIES;
  if (options.database !== undefined) wanted |= Capability.CONNECT_WITH_DB;
  if (attributes !== undefined) wanted |= Capability.CONNECT_ATTRS;
  const capabilities = (wanted & greeting.capabilities) >>> 0;
  const connectionPlugins = options.plugins ?? [];
  const handle = handleFor(options, greeting, policy);

  // A server without plugin authentication knows only the native scramble.
  let plugin: ClientAuthPlugin =
    capabilities & Capability.PLUGIN_AUTH
      ? firstClientPlugin(greeting.authPluginName ?? undefined, options.defaultAuth, connectionPlugins, policy)
      : resolveClientPlugin('mysql_native_password', connectionPlugins, policy);
  const response = (authResponse: Buffer) =>
    buildHandshakeResponse41({
      capabilities,
      maxPacketSize: MAX_PACKET_SIZE,
      characterSet: DEFAULT_CHARACTER_SET,
      user: options.user,
      authResponse,
      database: options.database ?? null,
      clientPluginName: plugin.name,
      connectAttributes: attributes ?? null,
    });
  // The greeting's scramble was made for the advertised plugin: only that plugin gets it.
  const cached = plugin.name === greeting.authPluginName || !(capabilities & Capability.PLUGIN_AUTH) ? greeting.authPluginData : null;
  let result = await runPlugin(plugin, new ClientPluginVio(socket, channel, cached, response), handle);

  if (isAuthSwitchRequest(result)) {
    if (result.length === 1) {
      throw clientError('ERR_UNSUPPORTED_AUTH', CR_UNKNOWN_ERROR, 'the server asked for the pre-4.1 password scheme, which is refused');
    }
    const request = parseAuthSwitchRequest(result);
    plugin = resolveClientPlugin(request.pluginName, connectionPlugins, policy);
    result = await runPlugin(plugin, new ClientPluginVio(socket, channel, request.pluginData, null), handle);
    // One switch per connection, as MySQL: a second one is a protocol error, not a loop.
    if (isAuthSwitchRequest(result)) {
      throw clientError('ERR_MALFORMED_PACKET', CR_MALFORMED_PACKET, 'the server asked to switch plugins a second time');
    }
  }
  if (isErrPacket(result)) throw serverErrorFrom(parseErr(result));
  if (!isOkPacket(result)) {
    throw clientError('ERR_MALFORMED_PACKET', CR_MALFORMED_PACKET, `expected OK or ERR after authentication, got 0x${(result[0] ?? 0).toString(16)}`);
  }
  const ok = parseOk(result, capabilities);
  return { socket, greeting, capabilities, plugin: plugin.name, ok, leftover: channel.detach() };
}

/**
 * Connects and authenticates. Resolves with the authenticated socket, the greeting, the
 * negotiated capabilities and any bytes after the OK. Rejects with: the server's refusal
 * (code ERR_SERVER_ERROR, errno, sqlState, message), ERR_PLUGIN_UNKNOWN / ERR_PLUGIN_NOT_ENABLED
 * (errno 2059: a cleartext plugin without enableCleartextPlugin, or a plugin restrictedAuth
 * leaves out), ERR_AUTH_PLUGIN_FAILED, ERR_MALFORMED_PACKET, ERR_UNSUPPORTED_AUTH,
 * ERR_UNSUPPORTED_SERVER, ERR_PACKET_TOO_LARGE, ERR_PACKET_SEQUENCE, ERR_CONNECT_TIMEOUT,
 * ERR_SERVER_LOST, or the socket's own error (ECONNREFUSED, ENOENT, ...); bad options reject
 * with ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE before connecting. The socket is destroyed
 * on every failure.
 */
export function connect(options: ConnectOptions): Promise<ClientConnection> {
  let socket: net.Socket;
  let policy: ClientPluginPolicy;
  try {
    policy = checkOptions(options);
    socket = openSocket(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const timeout = options.timeout ?? DEFAULT_CONNECT_TIMEOUT;
  return new Promise<ClientConnection>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(clientError('ERR_CONNECT_TIMEOUT', CR_SERVER_LOST, `connection phase not finished within ${timeout} ms`)),
      timeout,
    );
    const lostError = () => clientError('ERR_SERVER_LOST', CR_SERVER_LOST, 'Lost connection to server during the connection phase');
    const lost = () => fail(lostError());
    socket.once('error', fail);
    socket.once('close', lost);
    socket.once('connect', () => {
      const channel = new PacketChannel(socket, { maxPayloadSize: options.maxPayloadSize ?? DEFAULT_MAX_HANDSHAKE_PAYLOAD });
      handshake(socket, channel, options, policy).then((connection) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.removeListener('error', fail);
        socket.removeListener('close', lost);
        socket.pause();
        resolve(connection);
      }, (error) => {
        // The channel's view of a vanished server, under the client library's name for it.
        if (errorCode(error) !== 'ERR_CONNECTION_CLOSED') return fail(error);
        const lostConnection = lostError();
        lostConnection.cause = error;
        fail(lostConnection);
      });
    });
  });
}
