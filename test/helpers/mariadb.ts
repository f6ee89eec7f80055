// Typed face of mariadb-process.js, which the bench (plain JS) shares: one implementation.
// Start one instance per test file (beforeAll) and stop it in afterAll.

export interface MariadbOptions {
  /** Also listen on 127.0.0.1 on a free port; otherwise the instance runs with skip-networking. */
  tcp?: boolean;
  /** Plugins loaded with --plugin-load-add, by name without .so, e.g. ['auth_pam', 'auth_ed25519']. */
  plugins?: string[];
  /** More mariadbd arguments. */
  extraArgs?: string[];
}

export type Row = Record<string, unknown>;

export interface MariadbInstance {
  /** Unix socket, connectable by every OS user. */
  socketPath: string;
  /** TCP port on 127.0.0.1 when started with tcp: true. */
  port?: number;
  /** pid of the mariadbd we started. */
  pid: number;
  datadir: string;
  /** Runs one statement as the admin account (the OS user running the tests, via unix_socket); [] without rows. */
  query(sql: string): Promise<Row[]>;
  /** SIGTERM to our pid, wait for the exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const mariadbProcess = require('./mariadb-process.js') as {
  startMariadb(options?: MariadbOptions): Promise<MariadbInstance>;
};

export const startMariadb: (options?: MariadbOptions) => Promise<MariadbInstance> = mariadbProcess.startMariadb;

/**
 * Starts several instances at once; if any fails to start, stops the ones that did before
 * rethrowing, so a failed beforeAll leaves no mariadbd running.
 */
export async function startMariadbs(...optionsList: MariadbOptions[]): Promise<MariadbInstance[]> {
  const results = await Promise.allSettled(optionsList.map((options) => startMariadb(options)));
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed === undefined) return results.map((result) => (result as PromiseFulfilledResult<MariadbInstance>).value);
  await Promise.all(results.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)));
  throw failed.reason;
}
