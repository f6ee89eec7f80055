// Accounts: MySQL's mysql.user rows (user, host, plugin, authentication_string) and the host
// matching MySQL does for the peers this server sees: 'localhost' for Unix-socket peers, the IP
// address for TCP peers (no name resolution, as with skip-name-resolve).
import { codedError } from '../../errors';
import { nativePasswordHash } from '../../auth/native-password';

export interface AccountSpec {
  user: string;
  /** 'localhost', an IP address, or a pattern with MySQL's % and _ wildcards ('%': any host). */
  host: string;
  /** Name of the server plugin (IDENTIFIED WITH plugin). */
  plugin: string;
  /** Stored as is (auth_socket: the AS '...' OS user name; mysql_native_password: '*HEX'). */
  authenticationString?: string;
  /** mysql_native_password only: stored as MySQL's '*HEX' hash (IDENTIFIED BY '...'). */
  password?: string;
}

export interface Account {
  readonly user: string;
  readonly host: string;
  readonly plugin: string;
  readonly authenticationString: string;
}

// MySQL's column limits: user 32 characters, host 255.
const MAX_USER_LENGTH = 32;
const MAX_HOST_LENGTH = 255;

function checkName(value: unknown, what: string, max: number, allowEmpty: boolean): string {
  if (typeof value !== 'string') throw codedError('ERR_INVALID_ARG_TYPE', `${what} must be a string`, TypeError);
  if ((!allowEmpty && value.length === 0) || [...value].length > max || value.includes('\0') || !value.isWellFormed()) {
    throw codedError('ERR_INVALID_ARG_VALUE', `${what} must be 1 to ${max} characters without NUL`, TypeError);
  }
  return value;
}

function toAccount(spec: AccountSpec): Account {
  if (typeof spec !== 'object' || spec === null) throw codedError('ERR_INVALID_ARG_TYPE', 'account must be an object', TypeError);
  const user = checkName(spec.user, 'user', MAX_USER_LENGTH, false);
  const host = checkName(spec.host, 'host', MAX_HOST_LENGTH, false).toLowerCase();
  const plugin = checkName(spec.plugin, 'plugin', 64, false);
  if (spec.password !== undefined && spec.authenticationString !== undefined) {
    throw codedError('ERR_INVALID_ARG_VALUE', 'give either password or authenticationString, not both', TypeError);
  }
  let authenticationString = '';
  if (spec.password !== undefined) {
    if (plugin !== 'mysql_native_password') {
      throw codedError('ERR_INVALID_ARG_VALUE', `password is for mysql_native_password accounts; ${plugin} takes authenticationString`, TypeError);
    }
    if (typeof spec.password !== 'string') throw codedError('ERR_INVALID_ARG_TYPE', 'password must be a string', TypeError);
    authenticationString = nativePasswordHash(spec.password);
  } else if (spec.authenticationString !== undefined) {
    authenticationString = checkName(spec.authenticationString, 'authenticationString', 65535, true);
  }
  return Object.freeze({ user, host, plugin, authenticationString });
}

// MySQL's host patterns: % any run, _ one character, case-insensitive.
function hostMatches(pattern: string, host: string): boolean {
  if (!/[%_]/.test(pattern)) return pattern === host;
  const regex = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${regex}$`, 's').test(host);
}

// MySQL tries the most specific host first: literal hosts, then patterns with a longer literal
// prefix before its first wildcard.
function specificity(host: string): number {
  const wildcard = host.search(/[%_]/);
  return wildcard < 0 ? Number.MAX_SAFE_INTEGER : wildcard;
}

export class Accounts {
  private readonly byKey = new Map<string, Account>();

  private static key(user: string, host: string): string {
    return JSON.stringify([user, host.toLowerCase()]);
  }

  /** CREATE USER: throws ERR_ACCOUNT_EXISTS when user@host is already there. */
  create(spec: AccountSpec): Account {
    const account = toAccount(spec);
    const key = Accounts.key(account.user, account.host);
    if (this.byKey.has(key)) {
      throw codedError('ERR_ACCOUNT_EXISTS', `account '${account.user}'@'${account.host}' already exists`);
    }
    this.byKey.set(key, account);
    return account;
  }

  /** ALTER USER ... IDENTIFIED WITH: replaces plugin and authentication string. */
  alter(spec: AccountSpec): Account {
    const account = toAccount(spec);
    const key = Accounts.key(account.user, account.host);
    if (!this.byKey.has(key)) throw codedError('ERR_NO_SUCH_ACCOUNT', `no account '${account.user}'@'${account.host}'`);
    this.byKey.set(key, account);
    return account;
  }

  /** DROP USER: throws ERR_NO_SUCH_ACCOUNT when it does not exist. */
  drop(user: string, host: string): void {
    if (!this.byKey.delete(Accounts.key(checkName(user, 'user', MAX_USER_LENGTH, false), checkName(host, 'host', MAX_HOST_LENGTH, false)))) {
      throw codedError('ERR_NO_SUCH_ACCOUNT', `no account '${user}'@'${host}'`);
    }
  }

  /**
   * The account a client gets: user name equal byte for byte, host matching the client's host
   * ('localhost' or its IP), most specific host first. Null when none matches.
   */
  find(user: string, clientHost: string): Account | null {
    const host = clientHost.toLowerCase();
    let best: Account | null = null;
    for (const account of this.byKey.values()) {
      if (account.user !== user || !hostMatches(account.host, host)) continue;
      if (best === null || specificity(account.host) > specificity(best.host)) best = account;
    }
    return best;
  }
}
