// The catalog and its datadir: each change applied alone and made durable before it resolves,
// undone when it cannot be; the state read back at start, a corrupt one refused, one server per
// datadir, secrets readable by the server's user only.
import fs from 'fs';
import os from 'os';
import path from 'path';

import { Accounts } from '../../lib/server/catalog/accounts';
import { Catalog } from '../../lib/server/catalog/catalog';
import { ServerPlugins } from '../../lib/server/catalog/plugins';
import { Datadir } from '../../lib/server/datadir/datadir';
import { SqlError } from '../../lib/server/sql-error';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-socket-catalog-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const STATE = 'auth-socket-catalog.json';

async function opened(data: string) {
  const { datadir, state } = await Datadir.open(data);
  const catalog = new Catalog(new Accounts(), new ServerPlugins(null, []), datadir);
  return { datadir, state, catalog };
}

it('makes each change durable, and a later start reads it back', async () => {
  const data = path.join(dir, 'data');
  const first = await opened(data);
  expect(first.state).toBeNull();
  await first.catalog.change(() => first.catalog.accounts.create({ user: 'valerie', host: 'localhost', plugin: 'auth_socket', authenticationString: 'stephanie' }));
  await first.catalog.change(() => first.catalog.plugins.install('auth_socket', 'auth_socket.so'));
  first.datadir.close();
  const { datadir, state } = await Datadir.open(data);
  expect(state).toEqual({
    accounts: [{ user: 'valerie', host: 'localhost', plugin: 'auth_socket', authenticationString: 'stephanie', privileges: [], grantOption: false }],
    plugins: [{ name: 'auth_socket', library: 'auth_socket.so' }],
  });
  expect(fs.statSync(data).mode & 0o777).toBe(0o700);
  expect(fs.statSync(path.join(data, STATE)).mode & 0o777).toBe(0o600);
  datadir.close();
});

it('undoes a change it cannot make durable, and fails it with 1026', async () => {
  const { datadir, catalog } = await opened(path.join(dir, 'data'));
  // A directory where the state file goes: the rename over it fails (even for root).
  fs.mkdirSync(path.join(datadir.dir, STATE));
  fs.writeFileSync(path.join(datadir.dir, STATE, 'x'), '');
  const failed = catalog.change(() => catalog.accounts.create({ user: 'u', host: 'localhost', plugin: 'auth_socket' }));
  await expect(failed).rejects.toBeInstanceOf(SqlError);
  await expect(failed).rejects.toMatchObject({ err: { errno: 1026, sqlState: 'HY000' } });
  expect(catalog.accounts.list()).toEqual([]);
  datadir.close();
});

it('undoes a change whose statement failed half-way, and runs changes one at a time in order', async () => {
  const { datadir, catalog } = await opened(path.join(dir, 'data'));
  const half = catalog.change(() => {
    catalog.accounts.create({ user: 'a', host: 'localhost', plugin: 'auth_socket' });
    throw new Error('the second account failed');
  });
  const later = Array.from({ length: 20 }, (_, i) => catalog.change(() => catalog.accounts.create({ user: `u${i}`, host: 'localhost', plugin: 'auth_socket' })));
  await expect(half).rejects.toThrow('the second account failed');
  await Promise.all(later);
  expect(catalog.accounts.list().map((account) => account.user)).toEqual(Array.from({ length: 20 }, (_, i) => `u${i}`));
  const saved = JSON.parse(fs.readFileSync(path.join(datadir.dir, STATE), 'utf8'));
  expect(saved.accounts).toHaveLength(20);
  datadir.close();
});

it('refuses to start on a state that does not read back, leaving it untouched', async () => {
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  const deep = `{"format":1,"accounts":${'['.repeat(200_000)}${']'.repeat(200_000)},"plugins":[]}`;
  const extraField = '{"format":1,"accounts":[{"user":"a","host":"h","plugin":"p","authenticationString":"","privileges":[],"grantOption":false,"password":"x"}],"plugins":[]}';
  for (const text of ['{"format":1,"accounts":[', '{"format":2,"accounts":[],"plugins":[]}', '{"format":1,"accounts":[{"user":1}],"plugins":[]}', deep, extraField]) {
    fs.writeFileSync(path.join(data, STATE), text, { mode: 0o600 });
    await expect(Datadir.open(data)).rejects.toMatchObject({ code: 'ERR_DATADIR_CORRUPT', message: expect.stringMatching(/cannot be read back/) });
    expect(fs.readFileSync(path.join(data, STATE), 'utf8')).toBe(text);
  }
});

it('lets one server at a time hold a datadir, and frees it when that one closes', async () => {
  const data = path.join(dir, 'data');
  const first = await Datadir.open(data);
  await expect(Datadir.open(data)).rejects.toMatchObject({ code: 'ERR_DATADIR_IN_USE' });
  first.datadir.close();
  await new Promise((resolve) => setImmediate(resolve));
  const again = await Datadir.open(data);
  again.datadir.close();
});

it('ignores a temp file a crash left before its rename: the state before the change stands', async () => {
  const data = path.join(dir, 'data');
  const { datadir, catalog } = await opened(data);
  await catalog.change(() => catalog.accounts.create({ user: 'kept', host: 'localhost', plugin: 'auth_socket' }));
  datadir.close();
  fs.writeFileSync(path.join(data, `${STATE}.tmp`), '{"torn');
  const { datadir: reopened, state } = await Datadir.open(data);
  expect(state?.accounts.map((account) => account.user)).toEqual(['kept']);
  expect(fs.existsSync(path.join(data, `${STATE}.tmp`))).toBe(false);
  reopened.close();
});

// Another user could have made the datadir first (a shared directory) or written into it.
it('refuses a datadir or state file others may write, and never writes through a link left at its temp name', async () => {
  const open = path.join(dir, 'open');
  fs.mkdirSync(open, { mode: 0o777 });
  fs.chmodSync(open, 0o777);
  await expect(Datadir.open(open)).rejects.toMatchObject({ code: 'ERR_DATADIR_UNSAFE', message: expect.stringMatching(/mode 0777/) });

  const data = path.join(dir, 'data');
  const { datadir, catalog } = await opened(data);
  await catalog.change(() => catalog.accounts.create({ user: 'a', host: 'localhost', plugin: 'auth_socket' }));
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'keep me');
  fs.symlinkSync(victim, path.join(data, `${STATE}.tmp`));
  await catalog.change(() => catalog.accounts.create({ user: 'b', host: 'localhost', plugin: 'auth_socket' }));
  expect(fs.readFileSync(victim, 'utf8')).toBe('keep me');
  expect(fs.lstatSync(path.join(data, STATE)).isSymbolicLink()).toBe(false);
  datadir.close();

  fs.chmodSync(path.join(data, STATE), 0o644);
  await expect(Datadir.open(data)).rejects.toMatchObject({ code: 'ERR_DATADIR_UNSAFE' });
});

it('gives two long datadir paths with one prefix locks of their own', async () => {
  const long = path.join(dir, 'd'.repeat(120));
  const [one, two] = [path.join(long, 'one'), path.join(long, 'two')];
  const first = await Datadir.open(one);
  const second = await Datadir.open(two);
  first.datadir.close();
  second.datadir.close();
});
