// peerCredentialGuard(): peer-credential admission control for any Unix-socket net.Server,
// http.Server or tls.Server, without changing the server's own code.
import { EventEmitter } from 'events';
import net from 'net';

import { codedError, errorCode } from '../errors';
import { getPeerCredentials, PeerCredentials } from './credentials';
import { lookupGroupByName, lookupUser, UserRecord } from './users';

export interface Peer extends PeerCredentials {
  /** The peer's passwd entry, looked up when the policy names users (null: no entry). */
  user?: UserRecord | null;
}

export interface GuardPolicy {
  /** OS user names allowed (byte-exact). */
  users?: string[];
  uids?: number[];
  /** Groups allowed, by name or gid; the peer's primary and supplementary groups count. */
  groups?: Array<string | number>;
  gids?: number[];
  /** Final say; may be async. Runs only when the lists above passed. */
  allow?: (peer: Peer, socket: net.Socket) => boolean | Promise<boolean>;
  /** Called with every refusal (the guard also emits 'refuse'). */
  onRefuse?: (refusal: Refusal) => void;
}

export type RefusalReason =
  | 'not-unix-socket'
  | 'no-peer-credentials'
  | 'user-not-allowed'
  | 'group-not-allowed'
  | 'predicate-refused'
  | 'lookup-failed';

export interface Refusal {
  reason: RefusalReason;
  socket: net.Socket;
  peer?: Peer;
  error?: Error;
}

const peers = new WeakMap<net.Socket, Peer>();

/** The credentials a guard admitted `socket` with (e.g. peerOf(req.socket)), or undefined. */
export function peerOf(socket: net.Socket): Peer | undefined {
  return peers.get(socket);
}

class Refused extends Error {
  constructor(
    readonly reason: RefusalReason,
    override readonly cause?: Error,
  ) {
    super(reason);
  }
}

function idList(list: unknown, what: string): Set<number> | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || !list.every((id) => Number.isInteger(id) && id >= 0 && id <= 0xffffffff)) {
    throw codedError('ERR_INVALID_ARG_VALUE', `policy.${what} must be an array of ids`, TypeError);
  }
  return new Set(list);
}

function nameList(list: unknown, what: string): Buffer[] | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || !list.every((n) => typeof n === 'string' && n.length > 0 && !n.includes('\0'))) {
    throw codedError('ERR_INVALID_ARG_VALUE', `policy.${what} must be an array of non-empty names`, TypeError);
  }
  return list.map((n: string) => Buffer.from(n, 'utf8'));
}

export class PeerCredentialGuard extends EventEmitter {
  private readonly users?: Buffer[];
  private readonly uids?: Set<number>;
  private readonly gids?: Set<number>;
  private readonly groupNames: string[];
  private readonly allow?: GuardPolicy['allow'];

  constructor(policy: GuardPolicy) {
    super();
    if (typeof policy !== 'object' || policy === null) {
      throw codedError('ERR_INVALID_ARG_TYPE', 'policy must be an object', TypeError);
    }
    this.users = nameList(policy.users, 'users');
    this.uids = idList(policy.uids, 'uids');
    const groups = policy.groups ?? [];
    this.groupNames = nameList(groups.filter((g) => typeof g === 'string'), 'groups')!.map(String);
    const groupIds = groups.filter((g) => typeof g !== 'string');
    this.gids = policy.groups !== undefined || policy.gids !== undefined
      ? idList([...groupIds, ...(policy.gids ?? [])], 'groups')
      : undefined;
    if (policy.allow !== undefined && typeof policy.allow !== 'function') {
      throw codedError('ERR_INVALID_ARG_TYPE', 'policy.allow must be a function', TypeError);
    }
    this.allow = policy.allow;
    // A policy that names nothing would admit everyone: refuse to build it.
    if (!this.users && !this.uids && !this.gids && !this.allow) {
      throw codedError('ERR_INVALID_ARG_VALUE', 'the policy names no users, uids, groups, gids or allow', TypeError);
    }
    if (policy.onRefuse) this.on('refuse', policy.onRefuse);
  }

  /**
   * Puts the guard in front of `server`: every connection is checked before the server's own
   * 'connection' listeners (http's parser included) see it; refused sockets are destroyed with
   * nothing written to them.
   */
  attach<S extends net.Server>(server: S): S {
    // Wrapping emit (rather than adding a listener) is what holds back the listeners the server
    // already has, such as http's parser, until the decision is made.
    const emit = server.emit as (this: S, event: string | symbol, ...args: unknown[]) => boolean;
    server.emit = function guardedEmit(this: S, event: string | symbol, ...args: unknown[]): boolean {
      if (event !== 'connection') return emit.call(this, event, ...args);
      const socket = args[0] as net.Socket;
      guard.admit(socket).then(
        (admitted) => {
          if (admitted && !socket.destroyed) emit.call(server, 'connection', socket);
        },
        (error) => guard.emit('error', error),
      );
      return true;
    } as S['emit'];
    const guard = this;
    return server;
  }

  /** Checks one socket; true when admitted (peerOf(socket) is then set), false when refused. */
  async admit(socket: net.Socket): Promise<boolean> {
    let peer: Peer | undefined;
    try {
      // Synchronously, in the connection's first tick: the fd is still this peer's.
      peer = getPeerCredentials(socket, { groups: this.gids !== undefined });
      await this.check(peer, socket);
      peers.set(socket, peer);
      return true;
    } catch (error) {
      const refusal: Refusal =
        error instanceof Refused
          ? { reason: error.reason, socket, peer, error: error.cause }
          : {
              reason: errorCode(error) === 'ERR_NOT_UNIX_SOCKET' ? 'not-unix-socket' : 'no-peer-credentials',
              socket,
              error: error as Error,
            };
      socket.destroy();
      this.emit('refuse', refusal);
      return false;
    }
  }

  private async check(peer: Peer, socket: net.Socket): Promise<void> {
    if (this.users || this.uids) {
      let byName = false;
      if (this.users) {
        peer.user = await lookupUser(peer.uid).catch((error) => {
          throw new Refused('lookup-failed', error);
        });
        const name = peer.user?.rawName;
        byName = name !== undefined && this.users.some((allowed) => allowed.equals(name));
      }
      if (!byName && !this.uids?.has(peer.uid)) throw new Refused('user-not-allowed');
    }
    if (this.gids) {
      const allowed = new Set(this.gids);
      for (const name of this.groupNames) {
        const group = await lookupGroupByName(name).catch((error) => {
          throw new Refused('lookup-failed', error);
        });
        if (group) allowed.add(group.gid);
      }
      const peerGids = [peer.gid, ...(peer.groups ?? [])];
      if (!peerGids.some((gid) => allowed.has(gid))) throw new Refused('group-not-allowed');
    }
    if (this.allow) {
      let verdict: boolean;
      try {
        verdict = await this.allow(peer, socket);
      } catch (error) {
        throw new Refused('predicate-refused', error as Error);
      }
      if (verdict !== true) throw new Refused('predicate-refused');
    }
  }
}

/** Builds a guard; call .attach(server) to put it in front of a server. */
export function peerCredentialGuard(policy: GuardPolicy): PeerCredentialGuard {
  return new PeerCredentialGuard(policy);
}
