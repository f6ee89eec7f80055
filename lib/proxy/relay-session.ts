// A proxied session: the client's bytes to the upstream and back, unchanged (pgbouncer's
// src/client.c and server.c: look at each packet's header, forward it). The proxy speaks itself
// only where it must, and only once the upstream has answered everything before (the response
// tracker): COM_CHANGE_USER re-runs the local login and maps the new account upstream; a command
// it will not relay (replication, COM_CHANGE_USER's kin) gets MySQL's ER_UNKNOWN_COM_ERROR.
import net from 'net';

import { ClientConnection } from '../client/connect';
import { codedError, errorCode } from '../errors';
import { encodePacket } from '../protocol/framing';
import { changeUserAsResponse, parseChangeUser } from '../protocol/change-user';
import { Command } from '../protocol/constants';
import { badHandshake, mysqlError } from '../protocol/mysql-errors';
import { buildErr, buildOk, ErrPacket } from '../protocol/responses';
import { PacketHead, PacketPump, Verdict } from '../transport/relay';
import { PacketChannel } from '../transport/packet-channel';
import type { AuthenticatedConnection } from '../server/connection';
import { reauthenticate } from '../server/handshake';
import { ResolvedOptions } from '../server/options';
import { HandshakeError, Refusal, refusal } from '../server/refusal';
import { ResponseTracker } from './response-tracker';
import { openUpstream, upstreamCredentials, UpstreamOptions } from './upstream';

/** What a session needs of its proxy. */
export interface RelayContext {
  server: ResolvedOptions;
  upstream: UpstreamOptions;
  /** A COM_CHANGE_USER succeeded: the session now belongs to `connection`. */
  changedUser(connection: AuthenticatedConnection): void;
  /** A COM_CHANGE_USER was refused (its ERR is sent; the session goes on unchanged). */
  refused(error: HandshakeError): void;
}

// The largest command the proxy reads itself (COM_CHANGE_USER, a refused command): a login's size.
const MAX_OWN_COMMAND = 64 * 1024;
// How long a client may keep its end open after the proxy ended the session (as a refused login's).
const LINGER_MS = 1_000;
// Why a session's lifetime ends: shared errors, not one (and its stack, ~14 µs) per session.
const UPSTREAM_ENDED = codedError('ERR_CONNECTION_CLOSED', 'the upstream session ended');
const SESSION_ENDED = codedError('ERR_CONNECTION_CLOSED', 'the proxied session ended');

function ignoreError(): void {}

export class RelaySession {
  private tracker: ResponseTracker;
  private upstreamPump: PacketPump;
  private clientPump: PacketPump;
  private waiting: (() => void) | null = null;
  private desynced = false;
  // Aborted when the session ends: an upstream being opened for COM_CHANGE_USER is dropped with it.
  private readonly lifetime = new AbortController();

  constructor(
    private readonly client: net.Socket,
    private connection: AuthenticatedConnection,
    private upstream: ClientConnection,
    private readonly context: RelayContext,
  ) {
    this.tracker = new ResponseTracker(connection.capabilities);
    this.upstreamPump = this.pumpFrom(upstream);
    this.clientPump = this.pumpTo(upstream);
  }

  start(): void {
    this.client.on('error', this.close);
    this.client.once('close', this.close);
    this.attach(this.upstream);
    void this.upstreamPump.run(this.upstream.leftover);
    void this.serveClient(this.connection.leftover);
  }

  private pumpFrom(upstream: ClientConnection): PacketPump {
    return new PacketPump(
      upstream.socket,
      this.client,
      (packet) => this.fromUpstream(packet),
      () => this.checkIdle(),
      this.close,
    );
  }

  private pumpTo(upstream: ClientConnection): PacketPump {
    return new PacketPump(this.client, upstream.socket, (packet) => this.fromClient(packet), undefined, this.close);
  }

  private attach(upstream: ClientConnection): void {
    upstream.socket.on('error', this.close);
    upstream.socket.on('end', this.upstreamEnded);
    upstream.socket.on('close', this.upstreamEnded);
  }

  private detach(upstream: ClientConnection): void {
    upstream.socket.off('error', this.close);
    upstream.socket.off('end', this.upstreamEnded);
    upstream.socket.off('close', this.upstreamEnded);
  }

  // The upstream went away (COM_QUIT, KILL, wait_timeout): so does the client, after what was sent.
  private readonly upstreamEnded = (): void => this.finish(UPSTREAM_ENDED);

  private readonly close = (): void => this.finish(SESSION_ENDED, null);

  /**
   * Ends the session once: both pumps stopped, the upstream closed, the client given `last` (a
   * final packet) and our end, then destroyed if it does not close within the linger (null: at once).
   */
  private finish(why: Error, last: Buffer | null | undefined = undefined): void {
    if (this.lifetime.signal.aborted) return;
    this.lifetime.abort(why);
    this.clientPump.stop();
    this.upstreamPump.stop();
    this.detach(this.upstream);
    this.upstream.socket.on('error', ignoreError).destroy();
    if (last === null) return void this.client.destroy();
    const linger = setTimeout(() => this.client.destroy(), LINGER_MS);
    this.client.once('close', () => clearTimeout(linger));
    if (last === undefined) this.client.end();
    else this.client.end(last);
  }

  // Ends the session with a last ERR to the client (sequence 1: the answer to its command).
  private endWith(err: ErrPacket): void {
    this.finish(SESSION_ENDED, encodePacket(buildErr(err), 1).frame);
  }

  private fromUpstream(packet: PacketHead): Verdict {
    if (packet.first && !this.desynced) {
      try {
        this.tracker.serverPacket(packet.head, packet.length);
      } catch (error) {
        // Bytes still go through; only the proxy's own answers, which need the boundaries, stop.
        if (errorCode(error) !== 'ERR_PROXY_DESYNC') throw error;
        this.desynced = true;
        this.checkIdle();
      }
    }
    return 'forward';
  }

  private fromClient(packet: PacketHead): Verdict {
    // LOCAL INFILE data and a long command's continuations are not commands, whatever their sequence.
    if (this.tracker.awaitingLocalInfile) {
      // An empty packet that continues one of 16 MiB - 1 bytes is not the file's end.
      if (packet.length === 0 && packet.first) this.tracker.localInfileSent();
      return 'forward';
    }
    if (!packet.first || packet.sequenceId !== 0) return 'forward';
    if (packet.head[0] === Command.CHANGE_USER) return 'hold';
    return this.tracker.command(packet.head, packet.length) ? 'forward' : 'hold';
  }

  private checkIdle(): void {
    // Out of step, idle never comes: the waiting command is let go, to end the session.
    if (this.waiting !== null && (this.tracker.idle || this.desynced) && this.upstreamPump.atBoundary) {
      const resume = this.waiting;
      this.waiting = null;
      resume();
    }
  }

  private untilIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.checkIdle();
    });
  }

  private async serveClient(initial: Buffer): Promise<void> {
    let bytes = initial;
    while (!this.lifetime.signal.aborted) {
      const held = await this.clientPump.run(bytes);
      await this.untilIdle();
      if (this.lifetime.signal.aborted) return;
      // Without the response boundaries the proxy cannot tell when its answer may go: it ends the session.
      if (this.desynced) return this.close();
      try {
        bytes = await this.answer(held);
      } catch {
        return this.close();
      }
    }
  }

  // Reads the held command on the client's socket and answers it; resolves with the bytes after it.
  private async answer(held: Buffer): Promise<Buffer> {
    // MySQL's answer to a packet over max_allowed_packet, after which it closes the connection.
    if (held.readUIntLE(0, 3) > MAX_OWN_COMMAND) {
      this.endWith(mysqlError('ER_NET_PACKET_TOO_LARGE'));
      return Buffer.alloc(0);
    }
    this.client.unshift(held);
    const channel = new PacketChannel(this.client, { maxPayloadSize: MAX_OWN_COMMAND });
    channel.resetSequence();
    const command = await channel.read();
    const reply = command[0] === Command.CHANGE_USER ? await this.changeUser(channel, command) : buildErr(mysqlError('ER_UNKNOWN_COM_ERROR'));
    await channel.write(reply);
    return channel.detach();
  }

  /**
   * COM_CHANGE_USER: the account's own plugin against the same peer, then the new account's
   * upstream; the old session is closed only once the new one is open. Any refusal leaves the
   * session as it was.
   */
  private async changeUser(channel: PacketChannel, packet: Buffer): Promise<Buffer> {
    let request;
    try {
      request = parseChangeUser(packet, this.connection.capabilities);
    } catch {
      return buildErr(badHandshake());
    }
    const response = changeUserAsResponse(request, this.connection.capabilities, this.connection.characterSet);
    let next: AuthenticatedConnection;
    try {
      next = await reauthenticate(this.client, channel, this.context.server, this.connection, response);
    } catch (error) {
      if (!(error instanceof HandshakeError)) throw error;
      return this.refused(error);
    }
    next = { ...next, connectAttributes: request.connectAttributes ?? this.connection.connectAttributes };
    const attempt = { user: next.user, host: next.host, plugin: next.plugin, osUser: next.externalUser, peer: next.peer };
    let credentials;
    try {
      credentials = upstreamCredentials(next.account);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      return this.refused(error.error(attempt));
    }
    if (credentials === null) {
      return this.refused(refusal('change-user-to-local-account', undefined, 'COM_CHANGE_USER to an account this proxy serves itself').error(attempt));
    }
    let upstream: ClientConnection;
    try {
      upstream = await openUpstream(this.context.upstream, next, credentials, this.lifetime.signal);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      return this.refused(error.error(attempt));
    }
    this.swap(upstream, next);
    return buildOk();
  }

  // A refused change: reported as a refused login is, answered with its ERR; nothing else changes.
  private refused(error: HandshakeError): Buffer {
    this.context.refused(error);
    // Every HandshakeError of a refusal carries the ERR it was made from.
    return buildErr({ errno: error.errno as number, sqlState: error.sqlState as string, message: error.message });
  }

  private swap(upstream: ClientConnection, connection: AuthenticatedConnection): void {
    const old = this.upstream;
    this.detach(old);
    this.upstreamPump.stop();
    // COM_QUIT, as a client leaving politely: the old session ends at once, not at wait_timeout.
    old.socket.on('error', ignoreError).end(encodePacket(Buffer.of(Command.QUIT), 0).frame);
    this.upstream = upstream;
    this.connection = connection;
    this.tracker = new ResponseTracker(connection.capabilities);
    this.upstreamPump = this.pumpFrom(upstream);
    this.clientPump = this.pumpTo(upstream);
    this.attach(upstream);
    void this.upstreamPump.run(upstream.leftover);
    this.context.changedUser(connection);
  }
}
