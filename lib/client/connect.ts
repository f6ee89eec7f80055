// connect(): the client side of MySQL's connection phase (sql-common/client.cc), run by client
// plugins: HandshakeV10 in, TLS when --ssl-mode says so (tls.ts, cli_establish_ssl),
// HandshakeResponse41 made by the plugin out, AuthSwitchRequest and AuthMoreData followed, OK or
// ERR at the end. The result is an authenticated socket, the upstream leg a proxy needs.
import net from 'net';
import tls from 'tls';

import { ClientAuthPlugin, isClientAuthResult, MysqlHandle, mysqlHandle } from './plugin';
import { ClientPluginPolicy, firstClientPlugin, resolveClientPlugin } from './policy';
import { codedError, CodedError, errorCode } from '../errors';
import { PacketChannel } from '../transport/packet-channel';
import { isAuthMoreData, isAuthSwitchRequest, parseAuthSwitchRequest } from '../protocol/auth-exchange';
import { Capability } from '../protocol/constants';
import { buildHandshakeResponse41, buildSslRequest, HandshakeV10, parseHandshakeV10 } from '../protocol/handshake';
import { isErrPacket, isOkPacket, OkPacket, parseErr, parseOk, serverErrorFrom } from '../protocol/responses';
import { CR_ERROR, CR_OK, CR_OK_HANDSHAKE_COMPLETE, CrCode, PluginVio } from '../auth/vio';
import { MYSQL_ERRORS } from '../protocol/mysql-errors';
import { CheckedOptions, checkOptions, ConnectOptions, DEFAULT_CHARACTER_SET, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_HANDSHAKE_PAYLOAD, MAX_PACKET_SIZE, wantedCapabilities } from './connect-options';
import { startTls, useTls } from './tls';

export { DEFAULT_CONNECT_TIMEOUT };
export type { ConnectOptions };
export type { SslMode, SslOptions } from './tls';

export interface ClientConnection {
  /** Authenticated, paused, with no listeners of ours left on it; a tls.TLSSocket when `tls`. */
  socket: net.Socket;
  /** Whether the session runs inside TLS. */
  tls: boolean;
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


/** The connection's socket, and what connect() must know when TLS replaces it. */
interface Link {
  readonly socket: net.Socket;
  /** TLS starts on the socket: from now on failures destroy `secure` too. */
  upgrading(secure: tls.TLSSocket): void;
  /** The TLS handshake is over: connect()'s listeners move to `secure`. */
  secured(secure: tls.TLSSocket): void;
}

async function handshake(link: Link, options: ConnectOptions, { policy, tls: plan }: CheckedOptions): Promise<ClientConnection> {
  const maxPayloadSize = options.maxPayloadSize ?? DEFAULT_MAX_HANDSHAKE_PAYLOAD;
  let socket = link.socket;
  let channel = new PacketChannel(socket, { maxPayloadSize });
  const first = await channel.read();
  if (isErrPacket(first)) throw serverErrorFrom(parseErr(first)); // e.g. too many connections
  const greeting = parseHandshakeV10(first);
  if (!(greeting.capabilities & Capability.PROTOCOL_41) || !(greeting.capabilities & Capability.SECURE_CONNECTION)) {
    throw clientError('ERR_UNSUPPORTED_SERVER', CR_UNKNOWN_ERROR, `server ${greeting.serverVersion} does not speak protocol 4.1`);
  }
  const attributes = options.connectAttributes;
  const characterSet = options.characterSet ?? DEFAULT_CHARACTER_SET;
  let capabilities = (wantedCapabilities(options) & greeting.capabilities) >>> 0;
  const encrypted = useTls(plan, greeting.capabilities);
  if (encrypted) {
    capabilities = (capabilities | Capability.SSL) >>> 0;
    await channel.write(buildSslRequest(capabilities, MAX_PACKET_SIZE, characterSet));
    const sequenceId = channel.sequenceId;
    // The server's next bytes are TLS: anything already here came from someone else.
    if (channel.detach().length > 0) {
      throw clientError('ERR_MALFORMED_PACKET', CR_MALFORMED_PACKET, 'the server sent data before the TLS handshake');
    }
    const secure = startTls(socket, plan);
    link.upgrading(secure.socket);
    await secure.secured;
    link.secured(secure.socket);
    socket = secure.socket;
    channel = new PacketChannel(socket, { maxPayloadSize, sequenceId });
  }
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
      characterSet,
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
  return { socket, tls: encrypted, greeting, capabilities, plugin: plugin.name, ok, leftover: channel.detach() };
}

function ignoreError(): void {}

/**
 * Connects and authenticates. Resolves with the authenticated socket (a tls.TLSSocket when the
 * session runs inside TLS), the greeting, the negotiated capabilities and any bytes after the OK.
 * Rejects with: the server's refusal (code ERR_SERVER_ERROR, errno, sqlState, message),
 * ERR_SSL_CONNECTION (errno 2026: TLS required but not offered, a certificate that fails
 * VERIFY_CA / VERIFY_IDENTITY, a failed TLS handshake, VERIFY_* without ssl.ca),
 * ERR_PLUGIN_UNKNOWN / ERR_PLUGIN_NOT_ENABLED (errno 2059: a cleartext plugin without
 * enableCleartextPlugin, or a plugin restrictedAuth leaves out), ERR_AUTH_PLUGIN_FAILED,
 * ERR_MALFORMED_PACKET, ERR_UNSUPPORTED_AUTH, ERR_UNSUPPORTED_SERVER, ERR_PACKET_TOO_LARGE,
 * ERR_PACKET_SEQUENCE, ERR_CONNECT_TIMEOUT, ERR_SERVER_LOST, or the socket's own error
 * (ECONNREFUSED, ENOENT, ...); bad options reject with ERR_INVALID_ARG_TYPE /
 * ERR_INVALID_ARG_VALUE before connecting. The socket is destroyed on every failure.
 */
export function connect(options: ConnectOptions): Promise<ClientConnection> {
  let socket: net.Socket;
  let checked: CheckedOptions;
  try {
    checked = checkOptions(options);
    socket = openSocket(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const timeout = options.timeout ?? DEFAULT_CONNECT_TIMEOUT;
  const signal = options.signal;
  let abandon = () => {};
  return new Promise<ClientConnection>((resolve, reject) => {
    let settled = false;
    let secure: tls.TLSSocket | null = null;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      secure?.destroy();
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(clientError('ERR_CONNECT_TIMEOUT', CR_SERVER_LOST, `connection phase not finished within ${timeout} ms`)),
      timeout,
    );
    // The caller gave up (a proxy's client left): the connection is dropped at once.
    abandon = () => fail(signal?.reason ?? codedError('ERR_ABORTED', 'the connection was abandoned'));
    if (signal?.aborted) abandon();
    signal?.addEventListener('abort', abandon, { once: true });
    const lostError = () => clientError('ERR_SERVER_LOST', CR_SERVER_LOST, 'Lost connection to server during the connection phase');
    const lost = () => fail(lostError());
    const watch = (target: net.Socket) => target.once('error', fail).once('close', lost);
    const unwatch = (target: net.Socket) => target.off('error', fail).off('close', lost);
    const link: Link = {
      socket,
      upgrading(tlsSocket) {
        // The TLS socket reports the connection's errors now; the raw one keeps a listener so that
        // none can crash the process. startTls() listens until the handshake is over.
        unwatch(socket).on('error', ignoreError);
        secure = tlsSocket;
        if (settled) tlsSocket.destroy();
      },
      secured: watch,
    };
    watch(socket);
    socket.once('connect', () => {
      handshake(link, options, checked).then((connection) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        unwatch(connection.socket).pause();
        resolve(connection);
      }, (error) => {
        // The channel's view of a vanished server, under the client library's name for it.
        if (errorCode(error) !== 'ERR_CONNECTION_CLOSED') return fail(error);
        const lostConnection = lostError();
        lostConnection.cause = error;
        fail(lostConnection);
      });
    });
  }).finally(() => signal?.removeEventListener('abort', abandon));
}
