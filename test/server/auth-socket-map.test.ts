// auth_socket_map in a server of one's own (createServer): the ident map handed over as an option
// or as a function asked at each login's start, the map a login began with kept whatever is put
// in its place meanwhile, and its refusals with their reasons.
import path from 'path';

import mariadb from 'mariadb';

import { CR_OK, CrCode } from '../../lib/auth/vio';
import { parseIdentMap, IdentMap } from '../../lib/peer/ident-map';
import { lookupUserSync } from '../../lib/peer/users';
import { Accounts } from '../../lib/server/catalog/accounts';
import { AuthenticatedConnection } from '../../lib/server/connection';
import { AuthServer, createServer } from '../../lib/server/listener';
import { ServerAuthPlugin } from '../../lib/server/plugin';
import { HandshakeError } from '../../lib/server/refusal';
import { close, listen, tempDir } from '../helpers/sockets';

const me = lookupUserSync(process.getuid!())!.name;

describe('auth_socket_map with createServer({ identMap })', () => {
  const dir = tempDir();
  const socketPath = path.join(dir.path, 'map.sock');
  let current: IdentMap | null = parseIdentMap(`admins ${me} dba\n`, 'first.conf');
  let server: AuthServer;
  const refusals: HandshakeError[] = [];
  const logins: AuthenticatedConnection[] = [];
  // A plugin that looks at the map it was handed, waits, and looks again.
  let release: () => void = () => undefined;
  const seen: Array<IdentMap | null> = [];
  const probe: ServerAuthPlugin = {
    name: 'map_probe',
    clientPluginName: null,
    async authenticate(_vio, info): Promise<CrCode> {
      seen.push(info.identMap);
      await new Promise<void>((resolve) => (release = resolve));
      seen.push(info.identMap);
      return CR_OK;
    },
  };

  beforeAll(async () => {
    const accounts = new Accounts();
    accounts.create({ user: 'dba', host: 'localhost', plugin: 'auth_socket_map', authenticationString: 'admins' });
    accounts.create({ user: 'ghost', host: 'localhost', plugin: 'auth_socket_map', authenticationString: 'nope' });
    accounts.create({ user: 'probe', host: 'localhost', plugin: 'map_probe' });
    server = createServer({ accounts, plugins: [probe], identMap: () => current });
    server.on('refuse', (error) => refusals.push(error));
    server.on('login', (connection) => logins.push(connection));
    await listen(server, socketPath);
  });
  afterAll(async () => {
    await close(server);
    dir.remove();
  });

  const login = async (user: string) => {
    const connection = await mariadb.createConnection({ socketPath, user });
    try {
      return await connection.query('SELECT CURRENT_USER() AS who, @@external_user AS os');
    } finally {
      await connection.end();
    }
  };

  it('admits the OS user a line of the named map gives the account, and says which line', async () => {
    expect(await login('dba')).toEqual([{ who: 'dba@localhost', os: me }]);
    expect(logins[logins.length - 1]).toMatchObject({ plugin: 'auth_socket_map', identMapLine: { map: 'admins', file: 'first.conf', line: 1 } });
  });

  it('a map put in place applies from the next login; no map at all, or no map of that name, refuses with its reason', async () => {
    current = parseIdentMap('admins somebody-else dba\n', 'second.conf');
    await expect(login('dba')).rejects.toMatchObject({ errno: 1698 });
    expect(refusals[refusals.length - 1]).toMatchObject({ reason: 'map-no-match', attempt: { plugin: 'auth_socket_map', osUser: me } });
    await expect(login('ghost')).rejects.toMatchObject({ errno: 1698 });
    expect(refusals[refusals.length - 1]).toMatchObject({ reason: 'unknown-map' });
    current = null;
    await expect(login('dba')).rejects.toMatchObject({ errno: 1698 });
    expect(refusals[refusals.length - 1]).toMatchObject({ reason: 'no-ident-map' });
  });

  it('a login keeps the map it began with while another is put in place', async () => {
    const first = parseIdentMap('a b c\n');
    current = first;
    seen.length = 0;
    const pending = login('probe');
    while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    current = parseIdentMap('x y z\n');
    release();
    await pending;
    expect(seen).toEqual([first, first]);
  });

  it('refuses an identMap option that is not a map', () => {
    expect(() => createServer({ accounts: new Accounts(), identMap: { lines: [] } as never })).toThrow(TypeError);
  });
});
