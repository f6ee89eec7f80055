// peerCredentialGuard(): peer-credential admission control for any Unix-socket net.Server,
// http.Server or tls.Server, without changing the server's own code. Its process rules (units,
// cgroups) are polkit's and dbus-broker's idea: decide by the systemd unit a peer runs in, read
// through a pidfd (process.ts) so that a reused pid cannot pass for the peer.
import { EventEmitter } from 'events';
import net from 'net';

import { codedError, errorCode } from '../errors';
import { getPeerCredentials, PeerCredentials } from './credentials';
import { IdentMap, IdentMapLine, mapAccounts } from './ident-map';
import { getPeerProcess, overflowGid, overflowUid } from './process';
import { lookupGroupByName, lookupUser, UserRecord } from './users';

export interface Peer extends PeerCredentials {
  /** The peer's passwd entry, looked up when the policy names users or a map (null: no entry). */
  user?: UserRecord | null;
  /** Its process as pinned by a pidfd, when the policy has process rules (units, cgroups). */
  process?: { pid: number; cgroup: string | null; unit: string | null };
  /** With a map: every account the map gives the peer, with the line that gives it. */
  mapped?: Array<{ account: string; line: IdentMapLine }>;
}

/** An exact value, or a RegExp that must match the whole value (it is anchored for you). */
export type Pattern = string | RegExp;

export interface GuardPolicy {
  /** OS user names allowed (byte-exact). */
  users?: string[];
  uids?: number[];
  /**
   * Groups allowed, by name or gid; the peer's primary and supplementary groups count, except the
   * overflow gid (nogroup: how any unmapped gid looks), which matches no group.
   */
  groups?: Array<string | number>;
  gids?: number[];
  /**
   * systemd units allowed (e.g. 'nginx.service', /app-.*\.scope/): the unit of the peer's cgroup
   * (unitOfCgroup). A process rule: a peer whose process cannot be pinned is refused.
   */
  units?: Pattern[];
  /** cgroup v2 paths allowed (e.g. /\/system\.slice\/.+/). A process rule, like units. */
  cgroups?: Pattern[];
  /** LSM labels allowed (SO_PEERSEC: SELinux context, AppArmor profile); no label never matches. */
  securityLabels?: Pattern[];
  /** An ident map (parseIdentMap, loadIdentMap) and the map in it that must give the peer an account. */
  map?: IdentMap;
  mapName?: string;
  /**
   * Refuse the kernel's overflow uid (65534: how an unmapped uid of another user namespace looks).
   * The overflow gid matches no group (above) but refuses nobody: it is Debian's nogroup, the
   * primary group of its system users.
   */
  refuseOverflowUid?: boolean;
  /** Final say; may be async. Runs only when the lists above passed. */
  allow?: (peer: Peer, socket: net.Socket) => boolean | Promise<boolean>;
  /** Called with every refusal (the guard also emits 'refuse'). */
  onRefuse?: (refusal: Refusal) => void;
}

export type RefusalReason =
  | 'not-unix-socket'
  | 'no-peer-credentials'
  /** refuseOverflowUid: the peer's uid is the overflow uid */
  | 'overflow-uid'
  /** a process rule is set and the peer's process could not be pinned (pid 0, exited, no pidfd) */
  | 'process-not-pinned'
  | 'unit-not-allowed'
  | 'cgroup-not-allowed'
  | 'security-label-not-allowed'
  | 'user-not-allowed'
  | 'group-not-allowed'
  /** no line of the map gives the peer an account */
  | 'map-no-match'
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

type Matcher = (value: string) => boolean;

// Strings compare exactly; a RegExp is recompiled anchored and without the flags that would make
// it stateful (g, y) or let ^ and $ stop at a newline (m), so /nginx/ cannot admit evil-nginx.
function patternList(list: unknown, what: string): Matcher | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || !list.every((p) => (typeof p === 'string' && p.length > 0) || p instanceof RegExp)) {
    throw codedError('ERR_INVALID_ARG_VALUE', `policy.${what} must be an array of non-empty strings or RegExps`, TypeError);
  }
  const exact = new Set(list.filter((p): p is string => typeof p === 'string'));
  const regexps = list.filter((p): p is RegExp => p instanceof RegExp).map((p) => new RegExp(`^(?:${p.source})$`, p.flags.replace(/[gym]/g, '')));
  return (value) => exact.has(value) || regexps.some((re) => re.test(value));
}

function checkMap(map: unknown, mapName: unknown): void {
  if (map === undefined && mapName === undefined) return;
  if (typeof map !== 'object' || map === null || typeof (map as IdentMap).has !== 'function' || typeof mapName !== 'string') {
    throw codedError('ERR_INVALID_ARG_VALUE', 'policy.map (an ident map) and policy.mapName go together', TypeError);
  }
  if (!(map as IdentMap).has(mapName)) throw codedError('ERR_INVALID_ARG_VALUE', `the ident map ${(map as IdentMap).file} has no map ${mapName}`, TypeError);
}

// The peer's name as a map compares it: null unless its passwd bytes are exactly the string's UTF-8.
function exactName(user: UserRecord | null): string | null {
  return user !== null && user.name.isWellFormed() && Buffer.from(user.name, 'utf8').equals(user.rawName) ? user.name : null;
}

export class PeerCredentialGuard extends EventEmitter {
  private readonly users?: Buffer[];
  private readonly uids?: Set<number>;
  private readonly gids?: Set<number>;
  private readonly groupNames: string[];
  private readonly allow?: GuardPolicy['allow'];
  private readonly units?: Matcher;
  private readonly cgroups?: Matcher;
  private readonly labels?: Matcher;
  private readonly map?: { map: IdentMap; name: string };
  private readonly refuseOverflowUid: boolean;

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
    this.units = patternList(policy.units, 'units');
    this.cgroups = patternList(policy.cgroups, 'cgroups');
    this.labels = patternList(policy.securityLabels, 'securityLabels');
    checkMap(policy.map, policy.mapName);
    if (policy.map !== undefined) this.map = { map: policy.map, name: policy.mapName! };
    if (policy.refuseOverflowUid !== undefined && typeof policy.refuseOverflowUid !== 'boolean') {
      throw codedError('ERR_INVALID_ARG_TYPE', 'policy.refuseOverflowUid must be a boolean', TypeError);
    }
    this.refuseOverflowUid = policy.refuseOverflowUid === true;
    // A policy that names nothing would admit everyone (refuseOverflowUid alone would admit every
    // other uid): refuse to build it.
    if (!this.users && !this.uids && !this.gids && !this.allow && !this.units && !this.cgroups && !this.labels && !this.map) {
      throw codedError('ERR_INVALID_ARG_VALUE', 'the policy names no users, uids, groups, gids, units, cgroups, securityLabels, map or allow', TypeError);
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
      peer = getPeerCredentials(socket, { groups: this.gids !== undefined || this.map !== undefined, securityLabel: this.labels !== undefined });
      if (this.refuseOverflowUid && peer.uid === overflowUid()) throw new Refused('overflow-uid');
      if (this.units || this.cgroups) peer.process = pinnedProcess(socket);
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
    if (this.labels && (peer.securityLabel === undefined || !this.labels(peer.securityLabel))) {
      throw new Refused('security-label-not-allowed');
    }
    const { unit = null, cgroup = null } = peer.process ?? {};
    if (this.units && (unit === null || !this.units(unit))) throw new Refused('unit-not-allowed');
    if (this.cgroups && (cgroup === null || !this.cgroups(cgroup))) throw new Refused('cgroup-not-allowed');
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
      // The overflow gid is every unmapped gid of another user namespace: no group of the peer's.
      const peerGids = [peer.gid, ...(peer.groups ?? [])].filter((gid) => gid !== overflowGid());
      if (!peerGids.some((gid) => allowed.has(gid))) throw new Refused('group-not-allowed');
    }
    if (this.map) {
      try {
        if (peer.user === undefined) peer.user = await lookupUser(peer.uid);
        const who = { uid: peer.uid, gid: peer.gid, groups: peer.groups ?? [], osUser: exactName(peer.user) };
        peer.mapped = await mapAccounts(this.map.map, this.map.name, who);
      } catch (error) {
        throw new Refused('lookup-failed', error as Error);
      }
      if (peer.mapped.length === 0) throw new Refused('map-no-match');
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

// The peer's process for the process rules, read through its pidfd and let go of at once: what
// the rules need is read and verified by then, and no fd is held per connection while the rest of
// the decision awaits.
function pinnedProcess(socket: net.Socket): Peer['process'] {
  let pinned;
  try {
    pinned = getPeerProcess(socket);
  } catch (error) {
    if (errorCode(error) === 'ERR_NOT_UNIX_SOCKET') throw error;
    throw new Refused('process-not-pinned', error as Error);
  }
  try {
    return { pid: pinned.pid, cgroup: pinned.cgroup, unit: pinned.unit };
  } finally {
    pinned.close();
  }
}

/** Builds a guard; call .attach(server) to put it in front of a server. */
export function peerCredentialGuard(policy: GuardPolicy): PeerCredentialGuard {
  return new PeerCredentialGuard(policy);
}
