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
  lookup(kind: LookupKind, key: number | string): Promise<NativeUserRecord | NativeGroupRecord | null>;
  lookupSync(kind: LookupKind, key: number | string): NativeUserRecord | NativeGroupRecord | null;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load: (dir: string) => NativeBinding = require('node-gyp-build');

export const native: NativeBinding = load(path.join(__dirname, '..'));
