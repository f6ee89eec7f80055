// Accounts: MySQL's mysql.user rows (user, host, plugin, authentication_string, the global
// privileges this server knows, the user attributes; MariaDB's OR chain of further plugins, its
// global_priv auth_or) and the host matching MySQL does for the
// peers this server sees: 'localhost' for Unix-socket peers, the IP address for TCP peers (no name
// resolution, as with skip-name-resolve). The in-memory cache of sql/auth/sql_auth_cache.cc; datadir/ persists it.
import { codedError } from '../../errors';
import { cachingSha2PasswordHash } from '../../auth/caching-sha2';
import { nativePasswordHash } from '../../auth/native-password';
import { wildcardMatch } from '../wildcard';
import { Attributes, attributesProblem, frozenAttributes, MAX_ATTRIBUTES_BYTES, MAX_ATTRIBUTES_DEPTH } from './attributes';

/** The global privileges this server checks: ALL (everything), CREATE USER (account statements). */
export type Privilege = 'ALL' | 'CREATE USER';

/** One authentication method: a plugin and its string, or a password to hash for it. */
export interface AuthMethodSpec {
  plugin: string;
  authenticationString?: string;
  password?: string;
}

export interface AuthMethod {
  readonly plugin: string;
  readonly authenticationString: string;
}

/** Methods in one account's chain, its first included (MariaDB sets none; a longer one is no one's). */
export const MAX_AUTH_METHODS = 16;

export interface AccountSpec {
  user: string;
  /** 'localhost', an IP address, or a pattern with MySQL's % and _ wildcards ('%': any host). */
  host: string;
  /** Name of the server plugin (IDENTIFIED WITH plugin). */
  plugin: string;
  /** Stored as is (auth_socket: the AS '...' OS user name; mysql_native_password: '*HEX'). */
  authenticationString?: string;
  /** IDENTIFIED BY '...': hashed for the plugin (mysql_native_password '*HEX', caching_sha2_password '$A$005$'). */
  password?: string;
  /** Global privileges (GRANT ... ON *.*); none by default. */
  privileges?: readonly Privilege[];
  /** WITH GRANT OPTION. */
  grantOption?: boolean;
  /** ATTRIBUTE '{...}': a JSON object (copied); none by default. */
  attributes?: Attributes | null;
  /**
   * MariaDB's OR chain (IDENTIFIED VIA a OR b ...): the methods after `plugin`, tried in order
   * at login, each when the one before refused. None by default.
   */
  or?: readonly AuthMethodSpec[];
}

export interface Account {
  readonly user: string;
  readonly host: string;
  readonly plugin: string;
  readonly authenticationString: string;
  readonly privileges: readonly Privilege[];
  readonly grantOption: boolean;
  /**
   * The user attributes (ATTRIBUTE / COMMENT), frozen; null when the account has none.
   */
  readonly attributes: Attributes | null;
  /** The methods after `plugin` in its OR chain; empty for one method. */
  readonly or: readonly AuthMethod[];
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

// A plugin and its authentication string: the string as given, or the password hashed for the plugin.
function methodOf(spec: AuthMethodSpec): AuthMethod {
  const plugin = checkName(spec.plugin, 'plugin', 64, false);
  if (spec.password !== undefined && spec.authenticationString !== undefined) {
    throw codedError('ERR_INVALID_ARG_VALUE', 'give either password or authenticationString, not both', TypeError);
  }
  let authenticationString = '';
  const passwordHash = passwordHashOf(plugin);
  if (spec.password !== undefined) {
    if (passwordHash === undefined) {
      throw codedError('ERR_INVALID_ARG_VALUE', `${plugin} takes no password (IDENTIFIED BY); give its authentication string`, TypeError);
    }
    if (typeof spec.password !== 'string') throw codedError('ERR_INVALID_ARG_TYPE', 'password must be a string', TypeError);
    authenticationString = passwordHash.hash(spec.password);
  } else if (spec.authenticationString !== undefined) {
    authenticationString = checkName(spec.authenticationString, 'authenticationString', 65535, true);
    // A password plugin's string is its stored hash: anything else is an account nobody can log in to.
    if (passwordHash !== undefined && authenticationString !== '' && !passwordHash.stored.test(authenticationString)) {
      throw codedError('ERR_INVALID_ARG_VALUE', `a ${plugin} authentication string is ${passwordHash.form}; give the password instead (IDENTIFIED BY)`, TypeError);
    }
  }
  return Object.freeze({ plugin, authenticationString });
}

function chainOf(or: readonly AuthMethodSpec[] | undefined): readonly AuthMethod[] {
  if (or === undefined) return Object.freeze([]);
  if (!Array.isArray(or) || or.some((method) => typeof method !== 'object' || method === null)) {
    throw codedError('ERR_INVALID_ARG_TYPE', 'or must be an array of { plugin, authenticationString | password }', TypeError);
  }
  if (or.length + 1 > MAX_AUTH_METHODS) throw codedError('ERR_INVALID_ARG_VALUE', `an account has at most ${MAX_AUTH_METHODS} methods`, TypeError);
  return Object.freeze(or.map(methodOf));
}

function toAccount(spec: AccountSpec): Account {
  if (typeof spec !== 'object' || spec === null) throw codedError('ERR_INVALID_ARG_TYPE', 'account must be an object', TypeError);
  const user = checkName(spec.user, 'user', MAX_USER_LENGTH, false);
  const host = checkName(spec.host, 'host', MAX_HOST_LENGTH, false).toLowerCase();
  const { plugin, authenticationString } = methodOf(spec);
  const privileges = [...new Set(spec.privileges ?? [])];
  if (!privileges.every((privilege) => privilege === 'ALL' || privilege === 'CREATE USER')) {
    throw codedError('ERR_INVALID_ARG_VALUE', "privileges may be 'ALL' and 'CREATE USER'", TypeError);
  }
  return Object.freeze({
    user,
    host,
    plugin,
    authenticationString,
    privileges: Object.freeze(privileges),
    grantOption: spec.grantOption === true,
    attributes: checkAttributes(spec.attributes),
    or: chainOf(spec.or),
  });
}

/** Every method of an account's chain, its own plugin first. */
export const methodsOf = (account: Account): readonly AuthMethod[] => [{ plugin: account.plugin, authenticationString: account.authenticationString }, ...account.or];

const ATTRIBUTES_PROBLEMS = {
  'not-object': 'attributes must be a JSON object (or null)',
  'too-deep': `attributes must nest at most ${MAX_ATTRIBUTES_DEPTH} levels deep`,
  'too-large': `attributes must take at most ${MAX_ATTRIBUTES_BYTES} bytes as JSON`,
};

// The message never quotes the value: attributes may hold a secret.
function checkAttributes(value: Attributes | null | undefined): Attributes | null {
  if (value === undefined || value === null) return null;
  const problem = attributesProblem(value);
  if (problem !== null) throw codedError('ERR_INVALID_ARG_VALUE', ATTRIBUTES_PROBLEMS[problem], TypeError);
  return frozenAttributes(value);
}

// The plugins whose authentication string is a hash of a password: how to make it, and its form.
const PASSWORD_HASHES: Record<string, { hash(password: string): string; stored: RegExp; form: string }> = {
  mysql_native_password: { hash: nativePasswordHash, stored: /^\*[0-9A-F]{40}$/, form: "MySQL's '*' and 40 hex digits" },
  // $A$, 3 hex digits of iterations, $, 20 bytes of salt, 43 of SHA-256 crypt.
  caching_sha2_password: { hash: (password) => cachingSha2PasswordHash(password), stored: /^\$A\$[0-9A-F]{3}\$[\s\S]{63}$/, form: "MySQL's '$A$005$...' form" },
};

const passwordHashOf = (plugin: string) => (Object.hasOwn(PASSWORD_HASHES, plugin.toLowerCase()) ? PASSWORD_HASHES[plugin.toLowerCase()] : undefined);

/** Whether IDENTIFIED BY 'password' means something for `plugin` (its string is a password's hash). */
export const takesPassword = (plugin: string): boolean => passwordHashOf(plugin) !== undefined;

// MySQL's host patterns: % any run, _ one character, case-insensitive (no escapes in host names).
function hostMatches(pattern: string, host: string): boolean {
  return /[%_]/.test(pattern) ? wildcardMatch(host, pattern, false) : pattern === host;
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

  /** ALTER USER: replaces plugin and authentication string, and the attributes when given; privileges stay. */
  alter(spec: AccountSpec): Account {
    const current = this.byKey.get(Accounts.key(spec?.user, spec?.host ?? ''));
    const account = toAccount({ privileges: current?.privileges, grantOption: current?.grantOption, attributes: current?.attributes, ...spec });
    const key = Accounts.key(account.user, account.host);
    if (!this.byKey.has(key)) throw codedError('ERR_NO_SUCH_ACCOUNT', `no account '${account.user}'@'${account.host}'`);
    this.byKey.set(key, account);
    return account;
  }

  /** The account user@host exactly (no pattern matching), or null. */
  get(user: string, host: string): Account | null {
    return this.byKey.get(Accounts.key(user, host)) ?? null;
  }

  /** Every account, in the order they were created. */
  list(): Account[] {
    return [...this.byKey.values()];
  }

  /** Puts back the accounts list() returned (a change that could not be made durable is undone). */
  restore(accounts: readonly Account[]): void {
    this.byKey.clear();
    for (const account of accounts) this.byKey.set(Accounts.key(account.user, account.host), account);
  }

  /** GRANT / REVOKE: replaces an account's global privileges; ERR_NO_SUCH_ACCOUNT when it does not exist. */
  setPrivileges(user: string, host: string, privileges: readonly Privilege[], grantOption: boolean): Account {
    const current = this.get(user, host);
    if (current === null) throw codedError('ERR_NO_SUCH_ACCOUNT', `no account '${user}'@'${host}'`);
    const account = toAccount({ ...current, privileges, grantOption });
    this.byKey.set(Accounts.key(account.user, account.host), account);
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
