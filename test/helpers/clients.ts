// Real MySQL clients run as a chosen OS identity, so the server's SO_PEERCRED sees that uid.
// Spawning as another uid needs root: call these from describeAsRoot suites.
import { spawn } from 'child_process';

import { fixtureForOthers } from './for-others';

/** OS identity of the client process; the current process's when omitted. */
export interface OsIdentity {
  uid: number;
  gid: number;
  /** Supplementary groups the process gets (setpriv --groups); none when omitted. */
  groups?: number[];
}

/** Where the client connects: a Unix socket, or TCP on 127.0.0.1. */
export type Endpoint = { socketPath: string } | { port: number };

export interface ClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  endpoint: Endpoint;
  /** --user: always explicit, since a uid without passwd entry has no name to default to. */
  user: string;
  sql: string;
  as?: OsIdentity;
  /** More CLI arguments, e.g. ['--password=secret']. */
  extraArgs?: string[];
}

export interface NodeClientOptions {
  driver: 'mysql2' | 'mariadb';
  endpoint: Endpoint;
  user: string;
  password?: string;
  sql: string;
  as?: OsIdentity;
}

/** Outcome of test/fixtures/sql-client.js: rows as arrays, or the server's error. */
export type NodeClientResult =
  | { rows: unknown[][] }
  | { error: { errno: number; sqlState: string; message: string } };

const MARIADB_CLI = '/usr/bin/mariadb';
// A hung client must not hang the suite; this bounds the run, it asserts nothing about speed.
const CLIENT_TIMEOUT_MS = 20_000;

function run(command: string, args: string[], as: OsIdentity | undefined): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    // cwd '/' and a bare environment: nothing of ours (HOME, MYSQL_* variables) leaks into the client.
    // spawn's uid/gid drop every supplementary group (libuv calls setgroups(0)): setpriv sets them.
    const child =
      as?.groups === undefined
        ? spawn(command, args, { cwd: '/', env: { PATH: '/usr/bin:/bin', LANG: 'C' }, ...as })
        : spawn('setpriv', [`--reuid=${as.uid}`, `--regid=${as.gid}`, as.groups.length === 0 ? '--clear-groups' : `--groups=${as.groups.join(',')}`, '--', command, ...args], {
            cwd: '/',
            env: { PATH: '/usr/bin:/bin', LANG: 'C' },
          });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLIENT_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The Debian `mariadb` CLI in batch mode (-N -B -e), no option files. */
export function runMariadbCli({ endpoint, user, sql, as, extraArgs = [] }: CliOptions): Promise<ClientRun> {
  const connection =
    'socketPath' in endpoint
      ? ['--protocol=socket', `--socket=${endpoint.socketPath}`]
      : ['--protocol=tcp', '--host=127.0.0.1', `--port=${endpoint.port}`];
  return run(MARIADB_CLI, ['--no-defaults', ...connection, `--user=${user}`, ...extraArgs, '-N', '-B', '-e', sql], as);
}

/** mysql2 or the mariadb npm connector, in a child process running as `as` (from the copy others can read). */
export async function runNodeClient({ driver, endpoint, user, password, sql, as }: NodeClientOptions): Promise<NodeClientResult> {
  const where = 'socketPath' in endpoint ? endpoint : { host: '127.0.0.1', port: endpoint.port };
  const request = JSON.stringify({ driver, ...where, user, password, sql });
  const result = await run(process.execPath, [fixtureForOthers('sql-client.js'), request], as);
  const line = result.stdout.trim();
  if (line === '') throw new Error(`sql-client.js printed nothing (exit ${result.code}): ${result.stderr}`);
  return JSON.parse(line) as NodeClientResult;
}

/** The refusal line the mariadb CLI prints for an auth_socket / unix_socket refusal. */
export function accessDenied1698(user: string, host = 'localhost'): string {
  return `ERROR 1698 (28000): Access denied for user '${user}'@'${host}'`;
}
