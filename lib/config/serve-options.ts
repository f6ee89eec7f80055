// The options of `auth-socket serve`, from --defaults-file and the command line, into typed
// ServeOptions. Mirrors how mysqld takes them: mysys/my_default.cc puts the file's [mysqld]
// options before argv, so the command line wins simply by coming later, and my_getopt.cc matches
// names with `-` and `_` alike and lets `loose-` excuse a name it does not know.
import os from 'os';
import path from 'path';

import { codedError } from '../errors';
import { entriesOf, readOptionFile } from './option-file';

export const DEFAULT_SERVE_SOCKET = path.join(os.tmpdir(), 'auth-socket-mysqld.sock');

export interface ServeOptions {
  socketPath: string;
  port: number | null;
  bindAddress: string;
  connectTimeoutSeconds: number | null;
  /** MySQL's max_connections, shared by the socket and the TCP listener. */
  maxConnections: number | null;
  serverVersion: string | null;
  pluginDir: string | null;
  pluginLoad: string[];
  /** user@host:plugin[:authentication_string] */
  accounts: string[];
  datadir: string | null;
  logError: string | null;
  /** The error log's form: MySQL's text lines, or JSON lines for log shippers (ours). */
  logFormat: 'text' | 'json';
  /** The socket file's mode (ours: mysqld has none); null keeps the default 0666. */
  socketMode: number | null;
  /** Proxy mode: where accounts with upstream credentials are relayed; null serves everything locally. */
  upstream: UpstreamAddress | null;
  /** MySQL's --ssl-mode for the upstream leg; null: PREFERRED. */
  upstreamSslMode: SslMode | null;
  /** PEM files for the upstream's TLS: CA, client certificate, client key. */
  upstreamSslCa: string | null;
  upstreamSslCert: string | null;
  upstreamSslKey: string | null;
  upstreamConnectTimeoutSeconds: number | null;
  /** The ident map's file (pg_ident.conf's form) for auth_socket_map (ours); null: none. */
  identFile: string | null;
  /** Server processes sharing the listening sockets (ours): 1 serves in this process. */
  workers: number;
}

export type UpstreamAddress = { socketPath: string } | { host: string; port: number };

export const SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export const SERVE_USAGE = `usage: auth-socket serve [--defaults-file=FILE] [--socket=PATH] [--socket-mode=OCTAL]
    [--port=N] [--bind-address=ADDR] [--connect-timeout=SECONDS] [--max-connections=N]
    [--server-version=STRING] [--plugin-dir=DIR] [--plugin-load=NAME[;NAME]...]
    [--plugin-load-add=NAME[.js|.so]]... [--datadir=DIR] [--log-error=FILE] [--log-format=text|json]
    [--account=USER@HOST:PLUGIN[:AUTHENTICATION_STRING]]...
    [--upstream=HOST[:PORT]|/PATH/TO/SOCKET] [--upstream-ssl-mode=MODE] [--upstream-ssl-ca=FILE]
    [--upstream-ssl-cert=FILE] [--upstream-ssl-key=FILE] [--upstream-connect-timeout=SECONDS]
    [--workers=N|auto] [--ident-file=FILE] [--help]
  --defaults-file reads the [mysqld] and [auth-socket] groups of a MySQL option file (options
  only we have, such as socket-mode, account and server-version, go in [auth-socket]); the
  command line wins over the file. Names take '-' or '_' alike; a 'loose-' prefix lets an
  unknown option pass.
  A first start on an empty datadir (default /var/lib/auth-socket for root) installs auth_socket
  and makes root@localhost, and the OS user running the server, administrators over it.
  With --upstream, an account created with ATTRIBUTE '{"upstream_user": "...", "upstream_password":
  "..."}' is relayed, once it logged in here, to that server as that account (upstream-ssl-mode:
  DISABLED, PREFERRED (the default), REQUIRED, VERIFY_CA or VERIFY_IDENTITY, as MySQL's --ssl-mode);
  every other account is served here.
  --ident-file names a map file in PostgreSQL's pg_ident.conf form (MAPNAME OS-NAME ACCOUNT; OS-NAME
  a name, /regex or @group) for accounts IDENTIFIED WITH auth_socket_map AS 'MAPNAME'; SIGHUP
  rereads it (a file that does not load leaves the map in force as it was).
  --workers=N (auto: one per CPU) runs N server processes that accept on the same sockets, each
  with its own event loop; the first process owns the datadir and every change goes through it.`;

/** The groups serve reads, as mysqld reads [mysqld]; ours holds what mysqld has no name for. */
const SERVE_GROUPS = ['mysqld', 'auth-socket'];

const COMMAND_LINE = 'command line';

interface Setting {
  /** As given, for messages. */
  name: string;
  value: string | null;
  /** `command line` or `file:line`. */
  source: string;
}

/** Setting an option checks its value and stores it; a thrown message is completed by the caller. */
type Apply = (options: ServeOptions, value: string) => void;

interface OptionSpec {
  apply: Apply;
  /** Not a mysqld option: only in [auth-socket] (so a real mysqld can share the file) or on the command line. */
  ours?: true;
}

// Far more processes than any machine has cores only costs memory and catalog round trips.
const MAX_WORKERS = 256;

const OPTIONS: Record<string, OptionSpec> = {
  socket: { apply: (o, v) => (o.socketPath = nonEmpty(v)) },
  'socket-mode': { ours: true, apply: (o, v) => (o.socketMode = octalMode(v)) },
  port: { apply: (o, v) => (o.port = wholeNumber(v, 65535)) },
  'bind-address': { apply: (o, v) => (o.bindAddress = nonEmpty(v)) },
  'connect-timeout': { apply: (o, v) => (o.connectTimeoutSeconds = wholeNumber(v, 31536000)) },
  'max-connections': { apply: (o, v) => (o.maxConnections = wholeNumber(v, 100000)) },
  'server-version': { ours: true, apply: (o, v) => (o.serverVersion = nonEmpty(v)) },
  'plugin-dir': { apply: (o, v) => (o.pluginDir = nonEmpty(v)) },
  // MySQL's lists are ';'-separated; plugin-load replaces the list so far, plugin-load-add extends it.
  'plugin-load': { apply: (o, v) => (o.pluginLoad = pluginList(v)) },
  'plugin-load-add': { apply: (o, v) => o.pluginLoad.push(...pluginList(v)) },
  datadir: { apply: (o, v) => (o.datadir = nonEmpty(v)) },
  'log-error': { apply: (o, v) => (o.logError = nonEmpty(v)) },
  'log-format': {
    ours: true,
    apply: (o, v) => {
      if (v !== 'text' && v !== 'json') throw new Error('must be text or json');
      o.logFormat = v;
    },
  },
  upstream: { ours: true, apply: (o, v) => (o.upstream = upstreamAddress(v)) },
  'upstream-ssl-mode': { ours: true, apply: (o, v) => (o.upstreamSslMode = sslMode(v)) },
  'upstream-ssl-ca': { ours: true, apply: (o, v) => (o.upstreamSslCa = nonEmpty(v)) },
  'upstream-ssl-cert': { ours: true, apply: (o, v) => (o.upstreamSslCert = nonEmpty(v)) },
  'upstream-ssl-key': { ours: true, apply: (o, v) => (o.upstreamSslKey = nonEmpty(v)) },
  // In seconds, up to what setTimeout takes in milliseconds.
  'upstream-connect-timeout': { ours: true, apply: (o, v) => (o.upstreamConnectTimeoutSeconds = wholeNumber(v, 2147483)) },
  'ident-file': { ours: true, apply: (o, v) => (o.identFile = nonEmpty(v)) },
  workers: { ours: true, apply: (o, v) => (o.workers = v === 'auto' ? Math.min(os.availableParallelism(), MAX_WORKERS) : wholeNumber(v, MAX_WORKERS)) },
  account: {
    ours: true,
    apply: (o, v) => {
      parseAccountSpec(v);
      o.accounts.push(v);
    },
  },
};

function defaults(): ServeOptions {
  return {
    socketPath: DEFAULT_SERVE_SOCKET,
    port: null,
    bindAddress: '127.0.0.1',
    connectTimeoutSeconds: null,
    maxConnections: null,
    serverVersion: null,
    pluginDir: null,
    pluginLoad: [],
    accounts: [],
    datadir: null,
    logError: null,
    logFormat: 'text',
    socketMode: null,
    upstream: null,
    upstreamSslMode: null,
    upstreamSslCa: null,
    upstreamSslCert: null,
    upstreamSslKey: null,
    upstreamConnectTimeoutSeconds: null,
    identFile: null,
    workers: 1,
  };
}

/** mysqld's --help and -?: anywhere on the line, it wins over everything else. */
export function isHelpRequest(args: string[]): boolean {
  return args.includes('--help') || args.includes('-?');
}

/**
 * The serve command's options: --defaults-file's [mysqld] and [auth-socket] groups first, then
 * the command line (`--name=value` or `--name value`), later settings overriding earlier ones and
 * list options accumulating. Every error names the option and where it was set.
 */
export function parseServeArgs(args: string[]): ServeOptions {
  const { defaultsFile, settings } = commandLine(args);
  const fromFile = defaultsFile === null ? [] : fileSettings(defaultsFile);
  const options = defaults();
  for (const setting of [...fromFile, ...settings]) apply(options, setting);
  return options;
}

function commandLine(args: string[]): { defaultsFile: string | null; settings: Setting[] } {
  let defaultsFile: string | null = null;
  const settings: Setting[] = [];
  for (let i = 0; i < args.length; i++) {
    const match = /^--([A-Za-z0-9_-]+)(?:=(.*))?$/s.exec(args[i]);
    if (!match) throw usageError(`unexpected argument: ${args[i]}`);
    const [, name, inline] = match;
    let value: string | null = inline ?? null;
    // Only a known option takes the next word as its value (all of ours need one); an unknown
    // loose- option takes nothing, as my_getopt skips it alone.
    if (value === null && (canonical(name) === 'defaults-file' || lookup(name).spec !== undefined) && i + 1 < args.length) {
      value = args[++i];
    }
    if (canonical(name) === 'defaults-file') {
      if (value === null) throw usageError('--defaults-file needs a value');
      defaultsFile = value;
    } else {
      settings.push({ name, value, source: COMMAND_LINE });
    }
  }
  return { defaultsFile, settings };
}

function fileSettings(file: string): Setting[] {
  return entriesOf(readOptionFile(file), SERVE_GROUPS).map((entry) => {
    const spec = lookup(entry.name).spec;
    if (spec?.ours && entry.group.toLowerCase() === 'mysqld') {
      throw codedError(
        'ERR_INVALID_ARG_VALUE',
        `${entry.name} is not a mysqld option: put it in [auth-socket] (${entry.file}:${entry.line})`,
      );
    }
    return { name: entry.name, value: entry.value, source: `${entry.file}:${entry.line}` };
  });
}

// my_getopt's getopt_compare_strings: '-' and '_' are the same character in an option name.
function canonical(name: string): string {
  return name.replace(/_/g, '-');
}

function lookup(name: string): { loose: boolean; spec: OptionSpec | undefined } {
  const key = canonical(name);
  const loose = key.startsWith('loose-');
  const bare = loose ? key.slice('loose-'.length) : key;
  return { loose, spec: Object.hasOwn(OPTIONS, bare) ? OPTIONS[bare] : undefined };
}

function apply(options: ServeOptions, setting: Setting): void {
  const { loose, spec } = lookup(setting.name);
  const where = setting.source === COMMAND_LINE ? `--${setting.name}` : setting.name;
  if (spec === undefined) {
    if (loose) return;
    throw settingError(setting, `unknown option ${where}`);
  }
  if (setting.value === null) throw settingError(setting, `${where} needs a value`);
  try {
    spec.apply(options, setting.value);
  } catch (error) {
    throw settingError(setting, `${where}: ${(error as Error).message}`);
  }
}

function settingError(setting: Setting, message: string): Error {
  return setting.source === COMMAND_LINE ? usageError(message) : codedError('ERR_INVALID_ARG_VALUE', `${message} (${setting.source})`);
}

function usageError(message: string): Error {
  return codedError('ERR_INVALID_ARG_VALUE', `${message}\n${SERVE_USAGE}`);
}

function nonEmpty(value: string): string {
  if (value === '') throw new Error('must not be empty');
  return value;
}

function wholeNumber(value: string, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) throw new Error(`must be a whole number from 1 to ${max}, not '${value}'`);
  return n;
}

/** `0777` or `777`, as chmod takes it; only permission bits, a socket has no use for the others. */
function octalMode(value: string): number {
  if (!/^0?[0-7]{3}$/.test(value)) throw new Error(`must be an octal mode such as 0660, not '${value}'`);
  return parseInt(value, 8);
}

/** An absolute path is a Unix socket; otherwise HOST[:PORT], an IPv6 address in brackets, port 3306 by default. */
function upstreamAddress(value: string): UpstreamAddress {
  if (value.startsWith('/')) return { socketPath: value };
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s\[\]]+))(?::(\d+))?$/.exec(value);
  if (!match) throw new Error(`must be HOST[:PORT] or an absolute socket path, not '${value}'`);
  return { host: match[1] ?? match[2], port: match[3] === undefined ? 3306 : wholeNumber(match[3], 65535) };
}

// MySQL takes the mode in any case.
function sslMode(value: string): SslMode {
  const mode = SSL_MODES.find((m) => m === value.toUpperCase());
  if (mode === undefined) throw new Error(`must be one of ${SSL_MODES.join(', ')}, not '${value}'`);
  return mode;
}

function pluginList(value: string): string[] {
  return value.split(';').filter((entry) => entry !== '');
}

/** `user@host:plugin[:authentication_string]`; the host defaults to localhost. */
export function parseAccountSpec(spec: string): { user: string; host: string; plugin: string; authenticationString?: string } {
  const [userHost, plugin, ...rest] = spec.split(':');
  if (!plugin) throw codedError('ERR_INVALID_ARG_VALUE', `an account is USER@HOST:PLUGIN[:AUTHENTICATION_STRING], not '${spec}'`);
  const at = userHost.lastIndexOf('@');
  const user = at < 0 ? userHost : userHost.slice(0, at);
  const host = at < 0 ? 'localhost' : userHost.slice(at + 1);
  return rest.length > 0 ? { user, host, plugin, authenticationString: rest.join(':') } : { user, host, plugin };
}
