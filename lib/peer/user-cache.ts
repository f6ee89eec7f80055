// A passwd-by-uid cache with a bound on staleness, as nscd's positive and negative TTLs are, but in
// seconds rather than nscd's ten minutes: auth_socket asks NSS once per login (MySQL's
// plugin/auth/auth_socket.cc calls getpwuid_r every time), which costs a thread-pool hop per
// connection. Answers are kept at most maxAgeMs (a user deleted or renamed in the passwd database
// stops matching within that time), at most maxEntries of them, and concurrent lookups of the same
// uid share one NSS call. A failed lookup is never kept.
import { lookupUser, UserRecord } from './users';
import { codedError } from '../errors';

export interface UserCacheOptions {
  /** How old an answer may be when it is used, in milliseconds (0: never cached, only shared). */
  maxAgeMs: number;
  /** How many uids are kept; the oldest answer goes first. Default 4096. */
  maxEntries?: number;
}

export type UserLookup = (uid: number) => Promise<UserRecord | null>;

interface Entry {
  record: UserRecord | null;
  /** When the lookup that gave it started: its staleness is counted from there. */
  asked: number;
}

/** A lookupUser() whose answers are at most options.maxAgeMs old. */
export function cachedUserLookup(options: UserCacheOptions): UserLookup {
  const { maxAgeMs } = options;
  const maxEntries = options.maxEntries ?? 4096;
  if (!Number.isSafeInteger(maxAgeMs) || maxAgeMs < 0) throw codedError('ERR_INVALID_ARG_VALUE', 'maxAgeMs must be an integer of 0 or more', TypeError);
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw codedError('ERR_INVALID_ARG_VALUE', 'maxEntries must be a positive integer', TypeError);
  const answers = new Map<number, Entry>();
  const pending = new Map<number, Promise<UserRecord | null>>();
  return (uid: number) => {
    const now = Date.now();
    const entry = answers.get(uid);
    if (entry !== undefined && now - entry.asked < maxAgeMs) return Promise.resolve(entry.record);
    const inFlight = pending.get(uid);
    if (inFlight !== undefined) return inFlight;
    const lookup = lookupUser(uid).then(
      (record) => {
        pending.delete(uid);
        answers.delete(uid);
        if (maxAgeMs > 0) {
          answers.set(uid, { record, asked: now });
          if (answers.size > maxEntries) answers.delete(answers.keys().next().value as number);
        }
        return record;
      },
      (error: unknown) => {
        pending.delete(uid);
        throw error;
      },
    );
    pending.set(uid, lookup);
    return lookup;
  };
}

/**
 * How old a passwd answer the server may use is (ours, not MySQL's: it asks NSS every time): a user
 * deleted or renamed stops matching within this.
 */
export const PASSWD_MAX_AGE_MS = 1000;

/** The server's one passwd cache: auth_socket's logins and the proxy's os_user share it. */
export const passwdLookup: UserLookup = cachedUserLookup({ maxAgeMs: PASSWD_MAX_AGE_MS });
