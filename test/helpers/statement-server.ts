// A server for statement tests, reached through the real mariadb connector: the OS user running
// the tests as an administrator (ALL, WITH GRANT OPTION), the same OS user as 'plain' without
// privileges (auth_socket's AS string), and any more accounts a suite needs.
import path from 'path';

import mariadb, { Connection } from 'mariadb';

import { lookupUserSync } from '../../lib/peer/users';
import { Accounts, AccountSpec } from '../../lib/server/catalog/accounts';
import { AuthServer, createServer } from '../../lib/server/listener';
import { close, listen, tempDir } from './sockets';

export const me = lookupUserSync(process.getuid!())!.name;

export interface StatementServer {
  server: AuthServer;
  socketPath: string;
  /** Runs `work` on a fresh connection as `user`, closed afterwards. */
  as<T>(user: string, work: (connection: Connection) => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

export async function startStatementServer(more: AccountSpec[] = []): Promise<StatementServer> {
  const dir = tempDir();
  const socketPath = path.join(dir.path, 'statements.sock');
  const accounts = new Accounts();
  accounts.create({ user: me, host: 'localhost', plugin: 'auth_socket', privileges: ['ALL'], grantOption: true });
  accounts.create({ user: 'plain', host: 'localhost', plugin: 'auth_socket', authenticationString: me });
  for (const spec of more) accounts.create(spec);
  const server = createServer({ accounts });
  await listen(server, socketPath);
  return {
    server,
    socketPath,
    async as(user, work) {
      const connection = await mariadb.createConnection({ socketPath, user });
      try {
        return await work(connection);
      } finally {
        await connection.end();
      }
    },
    async stop() {
      await close(server);
      dir.remove();
    },
  };
}
