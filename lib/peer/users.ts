// passwd and group records through NSS. The async forms run on libuv's thread pool, since NSS can
// block on the network (LDAP, sssd); the sync forms are for start-up code and tools.
import { codedError } from '../errors';
import { LookupKind, native, NativeGroupRecord, NativeUserRecord } from '../native';

/** A passwd entry; `rawName` holds the name's exact bytes, for byte-exact comparison. */
export type UserRecord = NativeUserRecord;
/** A group entry. */
export type GroupRecord = NativeGroupRecord;

function checkId(id: unknown, what: string): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffffffff) {
    throw codedError('ERR_INVALID_ARG_VALUE', `${what} must be an integer from 0 to 4294967295`, TypeError);
  }
  return id;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string') throw codedError('ERR_INVALID_ARG_TYPE', 'name must be a string', TypeError);
  // The C API stops at NUL, so "root\0x" would find root.
  if (name.includes('\0')) throw codedError('ERR_INVALID_ARG_VALUE', 'name must not contain a NUL byte', TypeError);
  return name;
}

export function lookupUser(uid: number): Promise<UserRecord | null> {
  return native.lookup(LookupKind.UserById, checkId(uid, 'uid')) as Promise<NativeUserRecord | null>;
}

export function lookupUserSync(uid: number): UserRecord | null {
  return native.lookupSync(LookupKind.UserById, checkId(uid, 'uid')) as NativeUserRecord | null;
}

export function lookupUserByName(name: string): Promise<UserRecord | null> {
  return native.lookup(LookupKind.UserByName, checkName(name)) as Promise<NativeUserRecord | null>;
}

export function lookupUserByNameSync(name: string): UserRecord | null {
  return native.lookupSync(LookupKind.UserByName, checkName(name)) as NativeUserRecord | null;
}

export function lookupGroup(gid: number): Promise<GroupRecord | null> {
  return native.lookup(LookupKind.GroupById, checkId(gid, 'gid')) as Promise<NativeGroupRecord | null>;
}

export function lookupGroupSync(gid: number): GroupRecord | null {
  return native.lookupSync(LookupKind.GroupById, checkId(gid, 'gid')) as NativeGroupRecord | null;
}

export function lookupGroupByName(name: string): Promise<GroupRecord | null> {
  return native.lookup(LookupKind.GroupByName, checkName(name)) as Promise<NativeGroupRecord | null>;
}

export function lookupGroupByNameSync(name: string): GroupRecord | null {
  return native.lookupSync(LookupKind.GroupByName, checkName(name)) as NativeGroupRecord | null;
}
