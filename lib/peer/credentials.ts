// getPeerCredentials(): who is on the other end of a Unix-domain socket, as the kernel recorded it
// at connect() time.
import net from 'net';

import { codedError } from '../errors';
import { native } from '../native';

export interface PeerCredentials {
  /** Process that called connect() (0 when it lives in another pid namespace). */
  pid: number;
  uid: number;
  gid: number;
  /** Supplementary groups (SO_PEERGROUPS), when asked for and the kernel has them. */
  groups?: number[];
  /** LSM label (SO_PEERSEC), when asked for and one is set. */
  securityLabel?: string;
}

export interface PeerCredentialsOptions {
  /** Also read the supplementary groups: one more syscall. */
  groups?: boolean;
  /** Also read the security label: one more syscall. */
  securityLabel?: boolean;
}

/** MySQL's enum_vio_protocol. */
export enum VioProtocol {
  INVALID = 0,
  TCP = 1,
  SOCKET = 2,
  PIPE = 3,
  MEMORY = 4,
}

// A libuv handle whose fd was checked to be AF_UNIX keeps that fd here. A handle owns one fd for
// its whole life and a socket's family never changes, so the check runs once per handle (by
// socketProtocol or getPeerCredentials, whichever comes first: both test the family the same way);
// caching the number also spares the native `fd` getter, leaving the hot path one getsockopt.
const kUnixFd = Symbol('auth-socket.unixFd');

interface SocketHandle {
  fd?: number;
  [kUnixFd]?: number;
}

function handleOf(socket: net.Socket): SocketHandle {
  const handle = (socket as unknown as { _handle?: SocketHandle | null })._handle;
  if (socket.destroyed || handle == null) throw destroyedError();
  return handle;
}

function destroyedError(): Error {
  return codedError('ERR_SOCKET_DESTROYED', 'the socket is destroyed or has no file descriptor');
}

/** The fd behind a net.Socket; throws ERR_SOCKET_DESTROYED once it is gone. */
export function socketFd(socket: net.Socket): number {
  const fd = handleOf(socket).fd;
  if (typeof fd !== 'number' || fd < 0) throw destroyedError();
  return fd;
}

function checkFd(fd: unknown): number {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw codedError('ERR_INVALID_ARG_TYPE', 'expected a net.Socket or a file descriptor', TypeError);
  }
  return fd;
}

/** Transport of a socket or fd, decided from its address family (AF_UNIX -> SOCKET). */
export function socketProtocol(socketOrFd: net.Socket | number): VioProtocol {
  if (!(socketOrFd instanceof net.Socket)) return native.socketProtocol(checkFd(socketOrFd)) as VioProtocol;
  const handle = handleOf(socketOrFd);
  if (handle[kUnixFd] !== undefined) return VioProtocol.SOCKET;
  const fd = socketFd(socketOrFd);
  const protocol = native.socketProtocol(fd) as VioProtocol;
  if (protocol === VioProtocol.SOCKET) handle[kUnixFd] = fd;
  return protocol;
}

/**
 * Credentials of the peer of a connected Unix-domain socket. Synchronous on purpose: read them
 * when the connection arrives, before the fd can be closed and its number reused.
 *
 * Throws (err.code): ERR_INVALID_ARG_TYPE, ERR_SOCKET_DESTROYED, EBADF, ENOTSOCK,
 * ERR_NOT_UNIX_SOCKET (TCP and every other family), ERR_NO_PEER_CREDENTIALS (not connected),
 * ERR_PEER_CREDENTIALS_UNSUPPORTED (no SO_PEERCRED on this platform).
 */
export function getPeerCredentials(
  socketOrFd: net.Socket | number,
  options?: PeerCredentialsOptions,
): PeerCredentials {
  let fd: number;
  if (socketOrFd instanceof net.Socket) {
    const handle = handleOf(socketOrFd);
    const verified = handle[kUnixFd];
    if (verified !== undefined) {
      fd = verified;
      native.peerCredentials(fd, false);
    } else {
      fd = socketFd(socketOrFd);
      native.peerCredentials(fd, true);
      handle[kUnixFd] = fd;
    }
  } else {
    fd = checkFd(socketOrFd);
    native.peerCredentials(fd, true);
  }
  const out = native.credentials;
  const credentials: PeerCredentials = { pid: out[0], uid: out[1], gid: out[2] };
  if (options?.groups) {
    const groups = native.peerGroups(fd);
    if (groups !== undefined) credentials.groups = groups;
  }
  if (options?.securityLabel) {
    const label = native.peerSecurityLabel(fd);
    if (label !== undefined) credentials.securityLabel = label;
  }
  return credentials;
}

/** A connected AF_UNIX stream pair [fd, fd] (close-on-exec); wrap with new net.Socket({ fd }). */
export function socketPair(): [number, number] {
  return native.socketPair();
}
