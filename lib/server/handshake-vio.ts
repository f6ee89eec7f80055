// MySQL's MPVIO for the server side (server_mpvio_read_packet / _write_packet in
// sql/auth/sql_authentication.cc): what the account's plugin reads and writes, and when the
// client must restart with another plugin (AuthSwitchRequest) or gets AuthMoreData.
import net from 'net';

import { codedError } from '../errors';
import { buildAuthMoreData, buildAuthSwitchRequest } from '../protocol/auth-exchange';
import { Capability } from '../protocol/constants';
import { HandshakeResponse41 } from '../protocol/handshake';
import { PacketChannel } from '../transport/packet-channel';
import { ServerAuthPlugin, ServerPluginVio } from './plugin';
import { mysqlNativePasswordPlugin } from './plugins/native-password';
import { refusal } from './refusal';

/** The greeting's scramble is made for the default plugin, as MySQL's is. */
export const GREETING_PLUGIN = mysqlNativePasswordPlugin;

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
 * restart() hands the connection to the next method of an OR chain, as MariaDB's MPVIO_EXT::RESTART
 * does: the client's first reply still serves it while no packet has been sent since, else its
 * first exchange is an AuthSwitchRequest again; a plugin taking any client reads an empty reply.
 * close() lets go of the connection, so a plugin that never returns holds nothing of it.
 */
export class HandshakeVio extends ServerPluginVio {
  private firstExchangeDone = false;
  private channel: PacketChannel | null;
  private cachedReply: Buffer | null;
  // The client's first reply until the server sends anything (MariaDB's cached_client_reply).
  private unanswered: Buffer | null;
  /** The plugin the client's reply was made by, as MySQL reads it. */
  private clientPlugin: string;
  private readonly clientCanSwitch: boolean;
  // The first failed read or write: it stands even if the plugin swallows it and returns CR_OK.
  #failure: unknown = undefined;

  constructor(
    socket: net.Socket,
    channel: PacketChannel,
    readonly scramble: Buffer,
    private plugin: ServerAuthPlugin,
    response: HandshakeResponse41,
  ) {
    super(socket);
    this.channel = channel;
    this.cachedReply = this.unanswered = response.authResponse;
    this.clientCanSwitch = (response.capabilities & Capability.PLUGIN_AUTH) !== 0;
    // A client without CLIENT_PLUGIN_AUTH, or with it but no plugin name at all, speaks
    // mysql_native_password (MySQL: "some clients lie"); one that names the empty plugin is asked
    // to switch.
    this.clientPlugin = this.clientCanSwitch ? (response.clientPluginName?.toLowerCase() ?? GREETING_PLUGIN.name) : GREETING_PLUGIN.name;
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
    if (this.plugin.clientPluginName !== null || !this.clientCanSwitch || this.clientPlugin === GREETING_PLUGIN.name || this.unanswered === null) return;
    const channel = this.open();
    await this.recordFailure(channel.write(buildAuthSwitchRequest({ pluginName: GREETING_PLUGIN.name, pluginData: this.greetingData() })));
    this.cachedReply = this.unanswered = await this.recordFailure(channel.read());
    this.clientPlugin = GREETING_PLUGIN.name;
  }

  /** The next method of an OR chain takes the connection over (MariaDB's MPVIO_EXT::RESTART). */
  restart(plugin: ServerAuthPlugin): void {
    this.plugin = plugin;
    this.firstExchangeDone = false;
    this.cachedReply = this.unanswered;
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
    // Only a restarted method finds neither a reply nor an exchange yet.
    if (cached !== null || !this.firstExchangeDone) {
      this.cachedReply = null;
      this.firstExchangeDone = true;
      const wanted = this.plugin.clientPluginName;
      if (wanted === null) return cached ?? Buffer.alloc(0);
      if (cached !== null && wanted.toLowerCase() === this.clientPlugin) return cached;
      await this.switchClient(this.isGreetingPlugin ? this.greetingData() : Buffer.alloc(0));
    }
    return channel.read();
  }

  private async write(data: Buffer): Promise<void> {
    const channel = this.open();
    if (!this.firstExchangeDone) {
      this.firstExchangeDone = true;
      // The account's plugin is the greeting's (MySQL decides by name): no restart, while the
      // client's reply to the greeting is still the last word.
      if (this.isGreetingPlugin && this.cachedReply !== null) return;
      this.cachedReply = null;
      return this.switchClient(data);
    }
    this.unanswered = null;
    return channel.write(buildAuthMoreData(data));
  }

  private async switchClient(pluginData: Buffer): Promise<void> {
    const pluginName = this.plugin.clientPluginName;
    if (pluginName === null || !this.clientCanSwitch) {
      throw refusal('client-cannot-switch-plugin');
    }
    this.unanswered = null;
    this.clientPlugin = pluginName.toLowerCase();
    return this.open().write(buildAuthSwitchRequest({ pluginName, pluginData }));
  }
}
