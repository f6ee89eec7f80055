// toMysql2AuthPlugins(): runs plugins declared with declareClientPlugin() inside mysql2, through its
// `authPlugins` option. mysql2 calls a plugin's handler once per server packet of the exchange
// (the AuthSwitchRequest data, then each AuthMoreData) and sends what the handler returns; our
// plugins are coroutines over a VIO instead. The bridge below turns one into the other: each
// mysql2 call feeds one packet to the plugin's readPacket() and resolves with the plugin's next
// writePacket(), or with null when the plugin goes back to reading without writing.
import net from 'net';

import { ClientAuthPlugin, isClientAuthResult, MysqlHandle, mysqlHandle } from './plugin';
import { assertPluginAllowed, ClientPluginPolicy, clientPluginPolicy } from './policy';
import { codedError } from '../errors';
import { CR_OK, CR_OK_HANDSHAKE_COMPLETE, PluginVio } from '../auth/vio';

/** The parts of a mysql2 Connection the bridge reads. */
export interface Mysql2ConnectionLike {
  config: {
    user?: string;
    password?: string;
    database?: string;
    host?: string;
    port?: number;
    socketPath?: string;
    enableCleartextPlugin?: boolean;
  };
  stream?: net.Socket;
  serverVersion?: string;
  connectionId?: number;
}

/** mysql2's AuthPlugin: a factory per authentication, returning the per-packet handler. */
export type Mysql2AuthPlugin = (metadata: { connection: Mysql2ConnectionLike; command?: unknown }) => (
  pluginData: Buffer,
) => Promise<Buffer | null>;

interface Turn {
  resolve(reply: Buffer | null): void;
  reject(error: Error): void;
}

/** One plugin run: the VIO the plugin talks to, fed and drained by mysql2's handler calls. */
class Mysql2BridgeVio extends PluginVio {
  private readonly inbox: Buffer[] = [];
  private waitingReader?: (packet: Buffer) => void;
  private turn?: Turn;

  /** mysql2 handed over one server packet: give it to the plugin, await the plugin's reply. */
  exchange(packet: Buffer): Promise<Buffer | null> {
    return new Promise((resolve, reject) => {
      this.turn = { resolve, reject };
      if (this.waitingReader) {
        const deliver = this.waitingReader;
        this.waitingReader = undefined;
        deliver(packet);
      } else {
        this.inbox.push(packet);
      }
    });
  }

  override readPacket(): Promise<Buffer> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    // The plugin wants the next server packet and has nothing (more) to say for this one.
    this.settle(null);
    return new Promise((resolve) => (this.waitingReader = resolve));
  }

  override async writePacket(data: Buffer): Promise<void> {
    if (this.turn === undefined) {
      throw codedError(
        'ERR_MYSQL2_ADAPTER',
        'the plugin wrote two packets without reading in between; mysql2 sends one reply per server packet',
      );
    }
    this.settle(Buffer.from(data));
  }

  /** The plugin returned: nothing more to send; a failure fails mysql2's pending call. */
  finish(error?: Error): void {
    if (error && this.turn) this.turn.reject(error);
    else this.settle(null);
  }

  private settle(reply: Buffer | null): void {
    const turn = this.turn;
    this.turn = undefined;
    turn?.resolve(reply);
  }
}

function handleFor(connection: Mysql2ConnectionLike, firstPacket: Buffer, policy: ClientPluginPolicy): MysqlHandle & { error?: string } {
  const config = connection.config ?? {};
  return mysqlHandle({
    user: config.user ?? '',
    password: config.password ?? '',
    database: config.database,
    host: config.socketPath ? undefined : config.host,
    port: config.socketPath ? undefined : config.port,
    socketPath: config.socketPath,
    serverVersion: connection.serverVersion ?? '',
    connectionId: connection.connectionId ?? 0,
    // mysql2 does not expose the greeting: the plugin's own first packet is the scramble it gets.
    scramble: firstPacket,
    cleartextPluginEnabled: policy.cleartextEnabled,
    options: {},
  });
}

function adapt(plugin: ClientAuthPlugin): Mysql2AuthPlugin {
  return ({ connection }) => {
    let vio: Mysql2BridgeVio | undefined;
    return (pluginData: Buffer) => {
      if (vio !== undefined) return vio.exchange(pluginData);
      let handle: ReturnType<typeof handleFor>;
      try {
        // The policy connect() applies, from mysql2's own option, before the plugin sees anything.
        const policy = clientPluginPolicy({ enableCleartextPlugin: connection.config?.enableCleartextPlugin });
        assertPluginAllowed(plugin, policy);
        handle = handleFor(connection, pluginData, policy);
      } catch (error) {
        return Promise.reject(error);
      }
      const bridge = new Mysql2BridgeVio(connection.stream ?? new net.Socket());
      vio = bridge;
      const reply = bridge.exchange(pluginData);
      Promise.resolve()
        .then(() => plugin.authenticate(bridge, handle))
        .then(
          (code) => {
            if (code === CR_OK || code === CR_OK_HANDSHAKE_COMPLETE) return bridge.finish();
            const why = handle.error ?? (isClientAuthResult(code) ? 'the plugin refused' : `the plugin returned ${String(code)}`);
            bridge.finish(codedError('ERR_AUTH_PLUGIN_FAILED', `${plugin.name}: ${why}`));
          },
          (error: Error) => bridge.finish(codedError('ERR_AUTH_PLUGIN_FAILED', `${plugin.name}: ${error?.message ?? error}`)),
        );
      return reply;
    };
  };
}

/**
 * A map for mysql2's `authPlugins` option, so mysql2 runs these plugins when a server switches to
 * them: `mysql.createConnection({ ..., authPlugins: toMysql2AuthPlugins(authSimple) })`.
 * Plugins that send the password in cleartext (mysql_clear_password, dialog, auth_simple, any
 * declared with sendsCleartextPassword) run only with `enableCleartextPlugin: true` in mysql2's
 * options; otherwise mysql2 fails with our ERR_PLUGIN_NOT_ENABLED message and nothing is sent.
 */
export function toMysql2AuthPlugins(...plugins: ClientAuthPlugin[]): Record<string, Mysql2AuthPlugin> {
  const map: Record<string, Mysql2AuthPlugin> = Object.create(null);
  for (const plugin of plugins) {
    if (typeof plugin !== 'object' || plugin === null || typeof plugin.authenticate !== 'function') {
      throw codedError('ERR_INVALID_ARG_TYPE', 'toMysql2AuthPlugins takes plugins from declareClientPlugin()', TypeError);
    }
    map[plugin.name] = adapt(plugin);
  }
  return map;
}
