// Loads the addon: the committed prebuild when it fits this machine, else a local build.
import path from 'path';

export interface NativeUserRecord {
  name: string;
  rawName: Buffer;
  uid: number;
  gid: number;
  gecos: string;
  dir: string;
  shell: string;
}

export interface NativeGroupRecord {
  name: string;
  rawName: Buffer;
  gid: number;
  members: string[];
}

export const enum LookupKind {
  UserById = 0,
  UserByName = 1,
  GroupById = 2,
  GroupByName = 3,
}

export interface MysqlPacket {
  /** Sequence id of the packet's first physical packet. */
  sequenceId: number;
  payload: Buffer;
}

export interface PacketDecoderOptions {
  /** Largest logical payload accepted, in bytes (default 16 MiB, at most 1 GiB). */
  maxPayloadSize?: number;
  /** Id the first packet must carry (default 0). */
  sequenceId?: number;
  /**
   * false: a logical packet may start with any id, reported in its sequenceId for the caller to
   * check when it uses the packet; continuation packets must still count up from it. Default true.
   */
  strictSequence?: boolean;
}

export interface NativePacketDecoder {
  push(chunk: Uint8Array): MysqlPacket[];
  /** A new command: the next packet must carry `id` (default 0). */
  resetSequence(id?: number): void;
  /** Removes and returns the bytes not returned as packets, exactly as received. */
  takeBuffered(): Buffer;
  /** The id the next logical packet must start with (with strictSequence false: would start with). */
  readonly nextSequenceId: number;
  readonly bufferedBytes: number;
}

/** PIDFD_GET_INFO's answer, in the reader's pid and user namespaces. */
export interface NativePidfdInfo {
  pid: number;
  ruid: number;
  rgid: number;
  euid: number;
  egid: number;
  /** Inode number of the process's cgroup v2 directory (absent without CONFIG_CGROUPS). */
  cgroupId?: bigint;
}

export interface NativeBinding {
  /** [pid, uid, gid] written by the last successful peerCredentials() call of this thread. */
  readonly credentials: Uint32Array;
  /** SHA-256 of native/ and binding.gyp that this binary was compiled from. */
  readonly sourceHash: string;
  peerCredentials(fd: number, verifyTransport: boolean): void;
  peerGroups(fd: number): number[] | undefined;
  peerSecurityLabel(fd: number): string | undefined;
  socketProtocol(fd: number): number;
  socketPair(): [number, number];
  /** SO_PEERPIDFD: a close-on-exec pidfd for the peer's process; throws the getsockopt errno. */
  peerPidfd(fd: number): number;
  /** PIDFD_GET_INFO, or undefined where the kernel lacks it; throws the ioctl errno (ESRCH). */
  pidfdInfo(pidfd: number): NativePidfdInfo | undefined;
  /** Whether the pidfd's process has exited (zombies included). */
  pidfdExited(pidfd: number): boolean;
  lookup(kind: LookupKind, key: number | string): Promise<NativeUserRecord | NativeGroupRecord | null>;
  lookupSync(kind: LookupKind, key: number | string): NativeUserRecord | NativeGroupRecord | null;
  PacketDecoder: new (options?: PacketDecoderOptions) => NativePacketDecoder;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load: (dir: string) => NativeBinding = require('node-gyp-build');

export const native: NativeBinding = load(path.join(__dirname, '..'));
