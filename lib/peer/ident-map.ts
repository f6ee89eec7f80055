// Ident maps in PostgreSQL's pg_ident.conf form (src/backend/libpq/hba.c: next_token, load_ident,
// check_usermap): `MAPNAME OS-NAME ACCOUNT` lines, `#` comments, double-quoted tokens. OS-NAME is
// a name (byte-exact), a /regex (ident-regex.ts; \1 in ACCOUNT takes its first capture) or, ours,
// an @group: matched against the groups the kernel reports for the peer (its SO_PEERCRED gid and
// SO_PEERGROUPS), never against what NSS says a user name belongs to (MaxScale's group_map
// asks NSS about the claimed name). Only the group's name is resolved, through NSS off the event
// loop, once per map: loadIdentMap() resolves every @group before it returns, and a map made by
// parseIdentMap() resolves each on first use; a renamed group or a new gid needs a reload. The
// kernel's overflow gid is never a group here: it is how any unmapped gid of another user
// namespace looks, so a peer's overflow gid is ignored and an @group that resolves to it refused.
import { isUtf8 } from 'buffer';

import { codedError, CodedError } from '../errors';
import { MAX_IDENT_FILE_BYTES, readIdentFile } from './ident-file';
import { compileIdentRegex, IdentRegex, regexAccount } from './ident-regex';
import { overflowGid } from './process';
import { lookupGroupByName } from './users';

// Reading the file (and its safety checks) is ident-file.ts's; exported from here as before.
export { MAX_IDENT_FILE_BYTES, readIdentFile };

export interface IdentMapLine {
  /** MAPNAME */
  map: string;
  /** OS-NAME as written, quotes removed: a name, '/regex' or '@group'. */
  osName: string;
  /** ACCOUNT as written (with \1 on a regex line). */
  account: string;
  file: string;
  line: number;
}

export interface IdentMap {
  readonly file: string;
  readonly lines: readonly IdentMapLine[];
  /** Whether some line belongs to the map of that name (compared exactly). */
  has(mapName: string): boolean;
}

/** Who the peer is, as the kernel says: osUser is its passwd name, or null without one (or not UTF-8). */
export interface MapPeer {
  uid: number;
  gid: number;
  /** Supplementary groups (SO_PEERGROUPS). */
  groups?: readonly number[];
  osUser: string | null;
}

export interface IdentMapError extends CodedError {
  file: string;
  line: number;
}

export const MAX_IDENT_LINE_BYTES = 8192;

/** @group names with the gids they resolved to (null: no such group), as pairs. */
export type IdentMapGroups = ReadonlyArray<readonly [string, number | null]>;

type Matcher =
  | { kind: 'name'; name: string }
  | { kind: 'regex'; compiled: IdentRegex }
  | { kind: 'group'; group: string };

interface Entry {
  line: IdentMapLine;
  matcher: Matcher;
}

function syntaxError(file: string, line: number, why: string): IdentMapError {
  return Object.assign(codedError('ERR_IDENT_MAP_SYNTAX', `${file}:${line}: ${why}`), { file, line });
}

interface Token {
  text: string;
  quoted: boolean;
}

// next_token's rules, kept strict: whitespace separates tokens, '#' outside quotes ends the line,
// a token is either bare or wholly in double quotes ("" inside for a quote). A quote inside a bare
// token or a comma (a list, which pg_ident refuses too) is an error, never a guess.
function tokens(text: string): Token[] | string {
  const found: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#') {
      break;
    } else if (c === '"') {
      let value = '';
      for (i++; ; i++) {
        if (i >= text.length) return 'a quoted token is not closed';
        if (text[i] !== '"') value += text[i];
        else if (text[i + 1] === '"') value += text[i++];
        else break;
      }
      i++;
      if (i < text.length && !/[ \t\r#]/.test(text[i])) return 'a quoted token must end at a space';
      found.push({ text: value, quoted: true });
    } else {
      const end = text.slice(i).search(/[ \t\r#]/);
      const value = end < 0 ? text.slice(i) : text.slice(i, i + end);
      if (value.includes('"')) return `a quote inside the token ${value}`;
      if (value.includes(',')) return `a list (${value}) where one name belongs`;
      found.push({ text: value, quoted: false });
      i += value.length;
    }
  }
  return found;
}

// OS-NAME: quoted, always a name (as quoting takes the meaning away in pg_hba); bare, '/' starts
// a regex and '@' a group.
function matcherOf(token: Token): Matcher | string {
  if (token.quoted || !/^[/@]/.test(token.text)) return { kind: 'name', name: token.text };
  const rest = token.text.slice(1);
  if (token.text[0] === '@') return rest === '' ? 'an empty group name after @' : { kind: 'group', group: rest };
  try {
    return { kind: 'regex', compiled: compileIdentRegex(rest) };
  } catch (error) {
    return (error as Error).message;
  }
}

// ACCOUNT: a MySQL user name. PostgreSQL 16's bare keyword `all`, +role and /regex in this column
// have no meaning here: refused unless quoted, so a map written for PostgreSQL cannot mean more.
function checkAccount(token: Token, matcher: Matcher): string | null {
  if (!token.quoted && (token.text === 'all' || /^[+/]/.test(token.text))) {
    return `ACCOUNT ${token.text} is PostgreSQL's keyword or pattern, not a name: quote it to mean the name`;
  }
  if (token.text.includes('\\1')) {
    if (matcher.kind !== 'regex') return '\\1 in ACCOUNT needs a /regex OS-NAME';
    if (matcher.compiled.captures === 0) return '\\1 in ACCOUNT needs a capture group in the regular expression';
  }
  return null;
}

// One line's entry, null for a blank or comment line, or why it is not one.
function entryOf(text: string, file: string, line: number): Entry | null | string {
  // NUL and the other controls have no place in a name; tab and a CRLF's CR are whitespace.
  if (/[\x00-\x08\x0a-\x0c\x0e-\x1f\x7f]/.test(text)) return 'a control character';
  const found = tokens(text);
  if (typeof found === 'string') return found;
  if (found.length === 0) return null;
  if (found.length === 2 && !found[0].quoted && /^include(_if_exists|_dir)?$/.test(found[0].text)) {
    return `PostgreSQL's ${found[0].text} directive is not supported`;
  }
  if (found.length !== 3) return `expected MAPNAME OS-NAME ACCOUNT, found ${found.length} field${found.length === 1 ? '' : 's'}`;
  const [map, osName, account] = found;
  if (found.some((token) => token.text === '')) return 'an empty quoted token';
  const matcher = matcherOf(osName);
  if (typeof matcher === 'string') return matcher;
  const problem = checkAccount(account, matcher);
  if (problem !== null) return problem;
  return { line: Object.freeze({ map: map.text, osName: osName.text, account: account.text, file, line }), matcher };
}

class ParsedIdentMap implements IdentMap {
  readonly lines: readonly IdentMapLine[];
  private readonly names: ReadonlySet<string>;
  // @group name -> gid (null: no such group), each asked of NSS once; a failed lookup is not kept.
  private readonly gids = new Map<string, Promise<number | null>>();

  constructor(
    readonly file: string,
    readonly entries: readonly Entry[],
  ) {
    this.lines = Object.freeze(entries.map((entry) => entry.line));
    this.names = new Set(this.lines.map((line) => line.map));
  }

  has(mapName: string): boolean {
    return typeof mapName === 'string' && this.names.has(mapName);
  }

  gidOf(group: string): Promise<number | null> {
    let gid = this.gids.get(group);
    if (gid === undefined) {
      gid = lookupGroupByName(group).then((record) => record?.gid ?? null);
      this.gids.set(group, gid);
      gid.catch(() => this.gids.delete(group));
    }
    return gid;
  }

  /** The gid of an @group line; rejects for the overflow gid (a group of strangers), or when NSS fails. */
  async groupGid(group: string, line: IdentMapLine): Promise<number | null> {
    const gid = await this.gidOf(group);
    if (gid === overflowGid()) {
      const why = `${line.file}:${line.line}: the group ${group} is gid ${gid}, the kernel's overflow gid: any peer from another user namespace has it`;
      throw Object.assign(codedError('ERR_IDENT_MAP_OVERFLOW_GROUP', why), { file: line.file, line: line.line });
    }
    return gid;
  }

  /** Takes gids already resolved (by serve's primary, for its workers) instead of asking NSS again. */
  seedGroups(known: IdentMapGroups): void {
    for (const [group, gid] of known) this.gids.set(group, Promise.resolve(gid));
  }

  /** Resolves every @group now; rejects when NSS fails (ERR_IDENT_MAP_GROUPS) or a group is the overflow gid. */
  async resolveGroups(): Promise<void> {
    const groups = this.entries.flatMap(({ matcher, line }) => (matcher.kind === 'group' ? [{ group: matcher.group, line }] : []));
    try {
      await Promise.all(groups.map(({ group }) => this.gidOf(group)));
    } catch (error) {
      throw Object.assign(codedError('ERR_IDENT_MAP_GROUPS', `${this.file}: a group could not be looked up: ${(error as Error).message}`), { cause: error });
    }
    // In file order, so the first such line is the one named.
    for (const { group, line } of groups) await this.groupGid(group, line);
  }
}

/**
 * Parses an ident map from its text. `file` names it in errors and in each line (default
 * '<ident map>'). A syntax error throws ERR_IDENT_MAP_SYNTAX whose message starts `file:line: `
 * (and whose `file` and `line` say the same): never a map with a line left out. The last line
 * may lack its newline here (text a caller holds cannot be torn); a file's may not (identMapOf).
 */
export function parseIdentMap(text: string | Buffer, file = '<ident map>'): IdentMap {
  if (typeof file !== 'string') throw codedError('ERR_INVALID_ARG_TYPE', 'file must be a string', TypeError);
  let bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  if (!Buffer.isBuffer(bytes)) throw codedError('ERR_INVALID_ARG_TYPE', 'the map must be a string or a Buffer', TypeError);
  // A byte-order mark some editors write is no part of the first map's name.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  if (typeof text === 'string' && !text.isWellFormed()) {
    throw syntaxError(file, text.split('\n').findIndex((line) => !line.isWellFormed()) + 1, 'the line is not well-formed Unicode');
  }
  const entries: Entry[] = [];
  for (let line = 1, start = 0; start < bytes.length; line++) {
    const newline = bytes.indexOf(0x0a, start);
    const end = newline < 0 ? bytes.length : newline;
    if (end > MAX_IDENT_FILE_BYTES) throw syntaxError(file, line, `the map goes past ${MAX_IDENT_FILE_BYTES} bytes`);
    const raw = bytes.subarray(start, end);
    start = end + 1;
    if (raw.length > MAX_IDENT_LINE_BYTES) throw syntaxError(file, line, `the line is longer than ${MAX_IDENT_LINE_BYTES} bytes`);
    if (!isUtf8(raw)) throw syntaxError(file, line, 'the line is not UTF-8');
    const entry = entryOf(raw.toString('utf8'), file, line);
    if (typeof entry === 'string') throw syntaxError(file, line, entry);
    if (entry !== null) entries.push(entry);
  }
  return Object.freeze(new ParsedIdentMap(file, entries));
}

/**
 * The map in `bytes` (read from `file`), with its @group names resolved: those in `known`
 * (identMapGroups() of the same map elsewhere) as given, the rest through NSS. Rejects with
 * ERR_IDENT_MAP_SYNTAX (naming file:line; also a last line without its newline, unlike
 * parseIdentMap()), ERR_IDENT_MAP_GROUPS (NSS failed) or
 * ERR_IDENT_MAP_OVERFLOW_GROUP (an @group is the kernel's overflow gid; naming file:line).
 */
export async function identMapOf(bytes: Buffer, file: string, known: IdentMapGroups = []): Promise<IdentMap> {
  // A file's last line ends with '\n': without it, the read may have caught an editor rewriting
  // the file in place, and `ops valerie admin` be the start of `ops valerie admin_readonly`.
  // (Past the size limit, parseIdentMap() says so instead.)
  if (Buffer.isBuffer(bytes) && bytes.length > 0 && bytes.length <= MAX_IDENT_FILE_BYTES && bytes[bytes.length - 1] !== 0x0a) {
    const line = bytes.reduce((count, byte) => count + (byte === 0x0a ? 1 : 0), 1);
    throw syntaxError(file, line, 'the last line has no newline; the file may be being written');
  }
  const map = parseIdentMap(bytes, file) as ParsedIdentMap;
  map.seedGroups(known);
  await map.resolveGroups();
  return map;
}

/** Each @group name a map resolved and its gid (null: no such group), for identMapOf()'s `known`. */
export async function identMapGroups(map: IdentMap): Promise<IdentMapGroups> {
  const own = parsed(map);
  const groups = [...new Set(own.entries.flatMap(({ matcher }) => (matcher.kind === 'group' ? [matcher.group] : [])))];
  return Promise.all(groups.map(async (group) => [group, await own.gidOf(group)] as const));
}

/**
 * Reads, checks and parses the ident file at `file`, and resolves its @group names. Rejects as
 * readIdentFile() and identMapOf() do.
 */
export async function loadIdentMap(file: string): Promise<IdentMap> {
  return identMapOf(await readIdentFile(file), file);
}

function parsed(map: IdentMap): ParsedIdentMap {
  if (!(map instanceof ParsedIdentMap)) throw codedError('ERR_INVALID_ARG_TYPE', 'map must come from parseIdentMap() or loadIdentMap()', TypeError);
  return map;
}

function checkPeer(peer: MapPeer): void {
  const id = (value: unknown) => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0xffffffff;
  if (typeof peer !== 'object' || peer === null || !id(peer.uid) || !id(peer.gid) || (peer.groups !== undefined && !(Array.isArray(peer.groups) && peer.groups.every(id)))) {
    throw codedError('ERR_INVALID_ARG_TYPE', 'peer needs uid, gid (and groups) as ids', TypeError);
  }
  if (peer.osUser !== null && typeof peer.osUser !== 'string') throw codedError('ERR_INVALID_ARG_TYPE', 'peer.osUser must be a string or null', TypeError);
}

// The account one entry gives the peer, or null. Names are compared exactly (a well-formed string
// equals another exactly when their UTF-8 bytes do); a name that is not well-formed matches nothing.
async function accountFor(map: ParsedIdentMap, { matcher, line }: Entry, peer: MapPeer, gids: ReadonlySet<number>): Promise<string | null> {
  const name = peer.osUser !== null && peer.osUser !== '' && peer.osUser.isWellFormed() ? peer.osUser : null;
  switch (matcher.kind) {
    case 'name':
      return name !== null && name === matcher.name ? line.account : null;
    case 'regex':
      return name === null ? null : regexAccount(matcher.compiled, name, line.account);
    case 'group': {
      const gid = await map.groupGid(matcher.group, line);
      return gid !== null && gids.has(gid) ? line.account : null;
    }
  }
}

/**
 * Every account the map `mapName` gives `peer`, with the line that gives it, in file order.
 * Rejects when NSS fails to resolve a group the map names, or one resolves to the overflow gid
 * (ERR_IDENT_MAP_OVERFLOW_GROUP): fail closed, no partial answer.
 */
export async function mapAccounts(map: IdentMap, mapName: string, peer: MapPeer): Promise<Array<{ account: string; line: IdentMapLine }>> {
  const own = parsed(map);
  checkPeer(peer);
  const gids = new Set([peer.gid, ...(peer.groups ?? [])]);
  // Another user namespace's unmapped gids all look like this one: it says nothing of the peer.
  gids.delete(overflowGid());
  const found: Array<{ account: string; line: IdentMapLine }> = [];
  for (const entry of own.entries) {
    if (entry.line.map !== mapName) continue;
    const account = await accountFor(own, entry, peer, gids);
    if (account !== null && account !== '') found.push({ account, line: entry.line });
  }
  return found;
}

/** The first line of map `mapName` that gives `peer` exactly `account`, or null. */
export async function mapPermits(map: IdentMap, mapName: string, peer: MapPeer, account: string): Promise<IdentMapLine | null> {
  if (typeof account !== 'string' || account === '' || !account.isWellFormed()) {
    parsed(map);
    checkPeer(peer);
    return null;
  }
  const found = await mapAccounts(map, mapName, peer);
  return found.find((match) => match.account === account)?.line ?? null;
}
