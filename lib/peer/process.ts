// The process behind a Unix-socket peer, pinned by a pidfd (SO_PEERPIDFD, Linux >= 6.5), its
// cgroup v2 path and systemd unit, and the kernel's overflow uid and gid. Mirrors what systemd
// (src/basic/pidref.c; cg_path_get_unit in src/basic/cgroup-util.c) and dbus-broker do with a
// peer's pidfd: read /proc, then check the pidfd still names that pid, so that a pid reused in
// between is refused rather than believed.
import { isUtf8 } from 'buffer';
import fs from 'fs';
import net from 'net';

import { codedError, errorCode } from '../errors';
import { native } from '../native';
import { getPeerCredentials, socketFd } from './credentials';

/** A peer's process, pinned by a pidfd. Close it (or `using` it) when done. */
export interface PeerProcess {
  /** The process that connected, in our pid namespace (never 0: that is an error). */
  readonly pid: number;
  /** SO_PEERCRED's uid and gid: the identity it connected with. */
  readonly uid: number;
  readonly gid: number;
  /** The pidfd (close-on-exec) while open, -1 once closed. */
  readonly pidfd: number;
  /** Its cgroup v2 path (/proc/PID/cgroup's 0:: line), null on a system without cgroup v2. */
  readonly cgroup: string | null;
  /** The cgroup's id (the inode number of its directory) when the kernel gave it (Linux >= 6.13). */
  readonly cgroupId: bigint | null;
  /** The systemd unit (service, scope, ...) its cgroup belongs to, or null (see unitOfCgroup). */
  readonly unit: string | null;
  /** Whether the process is still running (false once it exited, zombies included). */
  alive(): boolean;
  /** Closes the pidfd; idempotent. */
  close(): void;
  [Symbol.dispose](): void;
}

// The kernel's overflow uid and gid (/proc/sys/kernel/overflow{uid,gid}, 65534 unless changed),
// each read once: they only change by sysctl, and a value read at start-up is what every check
// should compare with.
const overflow: { uid?: number; gid?: number } = {};

function readOverflow(which: 'uid' | 'gid'): number {
  let text = '';
  try {
    text = fs.readFileSync(`/proc/sys/kernel/overflow${which}`, 'ascii').trim();
  } catch {
    // No procfs (or no such sysctl): the kernel's default.
  }
  return /^\d{1,10}$/.test(text) && Number(text) <= 0xffffffff ? Number(text) : 65534;
}

/**
 * The uid an unmapped uid of another user namespace shows as (kernel.overflowuid, normally 65534):
 * a peer with this uid may be anyone. Read once and cached; 65534 when the sysctl is unreadable.
 */
export function overflowUid(): number {
  return (overflow.uid ??= readOverflow('uid'));
}

/**
 * The gid an unmapped gid of another user namespace shows as (kernel.overflowgid, normally 65534,
 * `nogroup`): a peer with this gid, primary or supplementary, may be in any group. Read once and
 * cached; 65534 when the sysctl is unreadable.
 */
export function overflowGid(): number {
  return (overflow.gid ??= readOverflow('gid'));
}

// systemd's unit_name_is_valid(UNIT_NAME_PLAIN | UNIT_NAME_INSTANCE), for the unit types that
// can have a cgroup of their own; a template (foo@.service) never runs anything.
const UNIT = /^[A-Za-z0-9:_.\\-]+(?:@[A-Za-z0-9:_.\\@-]+)?\.(?:service|scope|socket|mount|swap|automount|device|path|target|timer)$/;
const SLICE = /^[A-Za-z0-9:_.\\-]+\.slice$/;

// systemd's cg_unescape: a cgroup name that could clash with a kernel file got a leading '_'.
const unescape = (name: string): string => (name.startsWith('_') ? name.slice(1) : name);

/**
 * The systemd unit a cgroup v2 path belongs to: the first element after the leading slices, as
 * systemd's cg_path_get_unit decides it (/system.slice/nginx.service -> nginx.service,
 * /user.slice/user-1000.slice/session-3.scope -> session-3.scope), or null. Never a deeper
 * element: below a unit with delegation (user@1000.service, a container runtime) the delegate
 * names the cgroups, and could call one sshd.service.
 */
export function unitOfCgroup(cgroup: string | null): string | null {
  if (cgroup === null) return null;
  for (const element of cgroup.split('/')) {
    if (element === '') continue;
    const name = unescape(element);
    if (name.length > 255) return null;
    if (SLICE.test(name)) continue;
    return UNIT.test(name) ? name : null;
  }
  return null;
}

// One pinned peer: the pidfd and SO_PEERCRED's answer, before /proc is read.
interface Pinned {
  pid: number;
  uid: number;
  gid: number;
  pidfd: number;
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Already closed: nothing of ours to release.
  }
}

// Whatever goes wrong once the pidfd is open closes it: no path leaves it behind.
function guarded<T>(pidfd: number, body: () => T): T {
  try {
    return body();
  } catch (error) {
    closeQuietly(pidfd);
    throw error;
  }
}

const exitedError = (pid: number) => codedError('ERR_PEER_EXITED', `the peer process ${pid} has already exited`);

/**
 * @internal Step one of getPeerProcess: SO_PEERCRED, then a pidfd for the same struct pid. The
 * caller owns the pidfd. Exported for the tests that reuse a pid between the two steps.
 */
export function pinPeerProcess(socketOrFd: net.Socket | number): Pinned {
  const { pid, uid, gid } = getPeerCredentials(socketOrFd);
  if (pid === 0) {
    throw codedError('ERR_PEER_PID_UNAVAILABLE', 'the peer lives in a pid namespace we cannot see into: its pid is 0 here');
  }
  const fd = typeof socketOrFd === 'number' ? socketOrFd : socketFd(socketOrFd);
  let pidfd: number;
  try {
    pidfd = native.peerPidfd(fd);
  } catch (error) {
    const code = errorCode(error);
    // ENOPROTOOPT: the option is unknown (Linux < 6.5). EINVAL: pidfd_prepare() refused a peer
    // already reaped (6.5 to 6.15; later kernels give a pidfd that polls as exited).
    if (code === 'ENOPROTOOPT') throw Object.assign(codedError('ERR_PIDFD_UNSUPPORTED', 'this kernel has no SO_PEERPIDFD (Linux >= 6.5)'), { cause: error });
    if (code === 'EINVAL' || code === 'ESRCH') throw Object.assign(exitedError(pid), { cause: error });
    throw error;
  }
  return guarded(pidfd, () => {
    if (native.pidfdExited(pidfd)) throw exitedError(pid);
    return { pid, uid, gid, pidfd };
  });
}

// /proc/PID names the process of that pid in the pid namespace procfs was mounted for. When that
// is not ours (unshare --pid without a new /proc), /proc/PID is someone else: checked once.
let procIsOurs: boolean | undefined;
function checkProcfs(): void {
  if (procIsOurs === undefined) {
    try {
      procIsOurs = fs.readlinkSync('/proc/self') === String(process.pid);
    } catch {
      procIsOurs = false;
    }
  }
  if (!procIsOurs) throw codedError('ERR_PROCFS_FOREIGN', '/proc is not mounted for our pid namespace: its /proc/PID entries name other processes');
}

// Where cgroup v2 is mounted and which cgroup path its root is (/proc/self/mountinfo), or null.
let cgroupMount: { root: string; dir: string } | null | undefined;
const unoctal = (field: string) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
function cgroup2Mount(): { root: string; dir: string } | null {
  if (cgroupMount === undefined) {
    cgroupMount = null;
    for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const fields = line.split(' ');
      const dash = fields.indexOf('-');
      if (dash > 0 && fields[dash + 1] === 'cgroup2') {
        cgroupMount = { root: unoctal(fields[3]), dir: unoctal(fields[4]) };
        break;
      }
    }
  }
  return cgroupMount;
}

// The 0:: line of /proc/PID/cgroup. Read synchronously: procfs builds it from kernel memory (no
// disk, network or NSS) and it is at most a few KiB; going through the thread pool would only
// widen the window in which the peer can exit and every such exit becomes a refusal.
function readCgroup(pid: number): string | null {
  const bytes = fs.readFileSync(`/proc/${pid}/cgroup`);
  const lines = bytes.toString('utf8').split('\n').filter((line) => line.startsWith('0::'));
  // The kernel refuses '\n' in cgroup names, so two 0:: lines, or bytes that are not UTF-8 (they
  // would decode to U+FFFD and could equal another path), mean it cannot be read safely.
  const invalid = () => codedError('ERR_PEER_CGROUP_INVALID', `/proc/${pid}/cgroup is not one UTF-8 cgroup v2 path`);
  if (lines.length > 1 || !isUtf8(bytes)) throw invalid();
  if (lines.length === 0) return null;
  const cgroup = lines[0].slice(3);
  if (!cgroup.startsWith('/')) throw invalid();
  // cgroup v2 marks a removed cgroup, which only exiting processes can still be in.
  if (cgroup.endsWith(' (deleted)')) throw exitedError(pid);
  return cgroup;
}

// The pidfd's pid from /proc/self/fdinfo: the same procfs the reads went through; -1 once reaped.
function fdinfoPid(pidfd: number): number {
  const match = /^Pid:\s*(-?\d+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${pidfd}`, 'latin1'));
  if (match === null) throw codedError('ERR_PIDFD_UNSUPPORTED', 'the kernel shows no Pid: line for a pidfd');
  return Number(match[1]);
}

// Whether the kernel has PIDFD_GET_INFO (Linux >= 6.13); undefined until asked of our own process.
// The binding answers undefined only for ENOTTY and EINVAL (other errors throw), but such an
// answer about one peer's pidfd might be about that pidfd: turning the ioctl off for good on it
// would drop the cgroup id check for every later peer. So only our own pidfd's answer decides.
let hasPidfdInfo: boolean | undefined;
function pidfdInfoSupported(): boolean {
  if (hasPidfdInfo === undefined) {
    const [a, b] = native.socketPair();
    try {
      const own = native.peerPidfd(a);
      try {
        hasPidfdInfo = native.pidfdInfo(own) !== undefined;
      } finally {
        closeQuietly(own);
      }
    } finally {
      closeQuietly(a);
      closeQuietly(b);
    }
  }
  return hasPidfdInfo;
}

// After the reads: is the pidfd's process still the holder of `pid`? If it is, nothing can have
// taken the pid in between (a pid is only reused once its holder is reaped, and a reaped
// process's pidfd never gets a task back), so what /proc said was about the peer. Returns the
// cgroup id where PIDFD_GET_INFO gives one, to check the cgroup path against.
function verify(pin: Pinned, readOk: boolean): bigint | null {
  if (hasPidfdInfo !== false) {
    let info;
    try {
      info = native.pidfdInfo(pin.pidfd);
      // No answer for this pidfd: fdinfo checks it; whether later ones ask at all is the kernel's to say.
      if (info === undefined) pidfdInfoSupported();
    } catch (error) {
      // ESRCH: reaped, or (before 6.16) its pid or parent pid is not visible here: ask fdinfo.
      if (errorCode(error) !== 'ESRCH') throw error;
    }
    if (info !== undefined) {
      if (info.pid !== pin.pid) throw reusedError(pin.pid, `the pidfd names pid ${info.pid}`);
      return info.cgroupId ?? null;
    }
  }
  const now = fdinfoPid(pin.pidfd);
  if (now === pin.pid) return null;
  if (now === 0) throw codedError('ERR_PEER_PID_UNAVAILABLE', 'the peer is not visible in the pid namespace of /proc');
  if (now === -1 && !readOk) throw exitedError(pin.pid);
  throw reusedError(pin.pid, now === -1 ? 'it was reaped while /proc was read' : `the pidfd names pid ${now}`);
}

function reusedError(pid: number, why: string): Error {
  return codedError('ERR_PEER_PID_REUSED', `refused: what /proc/${pid} said may be another process's (${why})`);
}

// Whether the cgroup path read names the directory of cgroup `id`: a process moved between the
// read and the check fails it. Without the id or a visible cgroup2 mount there is nothing to check.
function sameCgroup(cgroup: string | null, id: bigint | null): boolean {
  const mount = cgroup2Mount();
  if (cgroup === null || id === null || mount === null) return true;
  const root = mount.root === '/' ? '' : mount.root;
  // Outside the mount (or above our cgroup namespace's root, shown as /..): no directory to stat.
  if (cgroup.split('/').includes('..') || (root !== '' && cgroup !== root && !cgroup.startsWith(`${root}/`))) return true;
  try {
    return fs.statSync(mount.dir + cgroup.slice(root.length), { bigint: true }).ino === id;
  } catch {
    cgroupMount = undefined; // moved, or the mount changed: look again next time
    return false;
  }
}

const open = new FinalizationRegistry<number>(closeQuietly);

class PinnedProcess implements PeerProcess {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
  readonly unit: string | null;
  #pidfd: number;

  constructor(
    pin: Pinned,
    readonly cgroup: string | null,
    readonly cgroupId: bigint | null,
  ) {
    this.pid = pin.pid;
    this.uid = pin.uid;
    this.gid = pin.gid;
    this.unit = unitOfCgroup(cgroup);
    this.#pidfd = pin.pidfd;
    // A forgotten object still gives its fd back, when the collector gets to it.
    open.register(this, pin.pidfd, this);
  }

  get pidfd(): number {
    return this.#pidfd;
  }

  alive(): boolean {
    if (this.#pidfd < 0) throw codedError('ERR_PIDFD_CLOSED', 'the pidfd is closed');
    return !native.pidfdExited(this.#pidfd);
  }

  close(): void {
    const fd = this.#pidfd;
    if (fd < 0) return;
    // Marked closed first: the number may belong to another file the moment it is closed.
    this.#pidfd = -1;
    open.unregister(this);
    fs.closeSync(fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * @internal Step two of getPeerProcess: reads /proc for a pinned peer and verifies the reads
 * against its pidfd. Takes ownership of the pidfd (closed on any error).
 */
export function readPinnedProcess(pin: Pinned): PeerProcess {
  return guarded(pin.pidfd, () => {
    checkProcfs();
    for (let attempt = 0; attempt < 3; attempt++) {
      let cgroup: string | null = null;
      let failed: unknown;
      try {
        cgroup = readCgroup(pin.pid);
      } catch (error) {
        if (!['ENOENT', 'ESRCH'].includes(errorCode(error) ?? '')) throw error;
        failed = error; // gone, most likely: verify() tells exited from anything stranger
      }
      const id = verify(pin, failed === undefined);
      if (failed !== undefined) throw failed;
      if (sameCgroup(cgroup, id)) return new PinnedProcess(pin, cgroup, id);
    }
    throw codedError('ERR_PEER_CGROUP_CHANGED', `the peer process ${pin.pid} kept moving between cgroups while it was read`);
  });
}

/**
 * The process at the other end of a connected Unix-domain socket, pinned by a pidfd: its pid,
 * SO_PEERCRED uid and gid, cgroup v2 path and systemd unit. Everything read from /proc is
 * checked against the pidfd afterwards (PIDFD_GET_INFO where the kernel has it, with the cgroup
 * id checked against the path; else /proc/self/fdinfo), so a pid reused meanwhile is refused,
 * never attributed to the peer. Synchronous, like getPeerCredentials: call it in the connection's
 * first tick. Close the result when done (or `using`); a forgotten one is closed when collected.
 *
 * Throws (err.code), besides getPeerCredentials' errors:
 * - ERR_PEER_PID_UNAVAILABLE: the peer's pid is 0 here (it lives in a pid namespace we cannot see)
 * - ERR_PIDFD_UNSUPPORTED: the kernel has no SO_PEERPIDFD (Linux < 6.5)
 * - ERR_PEER_EXITED: the peer exited (zombies included) before it could be read
 * - ERR_PEER_PID_REUSED: the peer was reaped while /proc was read: what was read may be another
 *   process's, the one that took its pid
 * - ERR_PEER_CGROUP_CHANGED: it kept moving between cgroups while it was read
 * - ERR_PEER_CGROUP_INVALID: /proc/PID/cgroup is not one UTF-8 cgroup v2 path
 * - ERR_PROCFS_FOREIGN: /proc is not mounted for our pid namespace
 */
export function getPeerProcess(socketOrFd: net.Socket | number): PeerProcess {
  return readPinnedProcess(pinPeerProcess(socketOrFd));
}
