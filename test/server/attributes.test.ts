// Account attributes (MySQL 8.0.21's ATTRIBUTE and COMMENT) through a real connector: CREATE USER
// stores the object, ALTER USER merges as JSON_MERGE_PATCH, MySQL's errors for what is not a JSON
// object (or too deep, or too large), upstream_password never shown (SHOW CREATE USER,
// INFORMATION_SCHEMA.USER_ATTRIBUTES), who sees which rows, and the datadir keeping it all.
import fs from 'fs';
import path from 'path';

import mariadb, { Connection } from 'mariadb';

import { Accounts } from '../../lib/server/catalog/accounts';
import { attributesProblem, mergePatch, MAX_ATTRIBUTES_BYTES } from '../../lib/server/catalog/attributes';
import { Catalog } from '../../lib/server/catalog/catalog';
import { ServerPlugins } from '../../lib/server/catalog/plugins';
import { Datadir } from '../../lib/server/datadir/datadir';
import { createServer, AuthServer } from '../../lib/server/listener';
import { builtinServerPlugins } from '../../lib/server/plugins/builtin';
import { cachingSha2PasswordPlugin } from '../../lib/server/plugins/caching-sha2-password';
import { shownAttributes } from '../../lib/server/statements/attributes';
import { lookupUserSync } from '../../lib/peer/users';
import { close, listen, tempDir, TempDir } from '../helpers/sockets';

const me = lookupUserSync(process.getuid!())!.name;
const STATE = 'auth-socket-catalog.json';
const SECRET = 's3cret-upstream';

const plugins = () => new ServerPlugins(null, [...builtinServerPlugins, cachingSha2PasswordPlugin]);

let dir: TempDir;
let datadir: Datadir;
let catalog: Catalog;
let server: AuthServer;
let socketPath: string;

async function serveOn(accounts: Accounts): Promise<void> {
  ({ datadir } = await Datadir.open(path.join(dir.path, 'data')));
  catalog = new Catalog(accounts, plugins(), datadir);
  server = createServer({ catalog, accounts });
  await listen(server, socketPath);
}

async function stop(): Promise<void> {
  await close(server);
  await catalog.idle();
  datadir.close();
}

beforeAll(async () => {
  dir = tempDir('auth-socket-attributes-');
  socketPath = path.join(dir.path, 'attributes.sock');
  const accounts = new Accounts();
  accounts.create({ user: me, host: 'localhost', plugin: 'auth_socket', privileges: ['ALL'], grantOption: true });
  // The same OS user as two more accounts (auth_socket's AS string): one without privileges, one managing accounts.
  accounts.create({ user: 'plain', host: 'localhost', plugin: 'auth_socket', authenticationString: me });
  accounts.create({ user: 'manager', host: 'localhost', plugin: 'auth_socket', authenticationString: me, privileges: ['CREATE USER'] });
  await serveOn(accounts);
});
afterAll(async () => {
  await stop();
  dir.remove();
});

async function as<T>(user: string, work: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await mariadb.createConnection({ socketPath, user });
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

const admin = (sql: string) => as(me, (c) => c.query(sql));
const attributesOf = (user: string, host = '%') => catalog.accounts.get(user, host)?.attributes;
const showCreate = async (account: string) => Object.values((await admin(`SHOW CREATE USER ${account}`))[0])[0] as string;
const refused = (errno: number, sqlState: string, sqlMessage: string) => ({ errno, sqlState, sqlMessage });

describe('CREATE USER and ALTER USER', () => {
  it('CREATE USER ... ATTRIBUTE stores the object, frozen, as the proxy reads it; COMMENT stores {"comment": text}', async () => {
    await admin(`CREATE USER 'app'@'localhost' IDENTIFIED WITH auth_socket AS 'svc' ATTRIBUTE '{"upstream_user": "u1", "upstream_password": "${SECRET}", "tags": {"a": 1}}'`);
    const app = catalog.accounts.get('app', 'localhost')!;
    expect(app).toMatchObject({ plugin: 'auth_socket', authenticationString: 'svc' });
    expect(app.attributes).toEqual({ upstream_user: 'u1', upstream_password: SECRET, tags: { a: 1 } });
    expect(app.attributes?.upstream_user).toBe('u1');
    expect(Object.isFrozen(app.attributes) && Object.isFrozen(app.attributes!.tags)).toBe(true);

    await admin("CREATE USER c1, c2 COMMENT 'Mary''s account'");
    expect([attributesOf('c1'), attributesOf('c2')]).toEqual([{ comment: "Mary's account" }, { comment: "Mary's account" }]);
    // Merged into nothing: a member set to null is not stored. No clause: no attributes.
    await admin(`CREATE USER c3 ATTRIBUTE '{"gone": null, "kept": [1, null]}'`);
    await admin('CREATE USER c4');
    expect([attributesOf('c3'), attributesOf('c4')]).toEqual([{ kept: [1, null] }, null]);
  });

  it('ALTER USER merges as JSON_MERGE_PATCH: null removes a member, objects merge, anything else replaces', async () => {
    await admin(`CREATE USER m ATTRIBUTE '{"a": 1, "nested": {"x": 1, "y": {"z": 1}}, "list": [1, 2], "s": "t"}'`);
    await admin(`ALTER USER m ATTRIBUTE '{"a": null, "nested": {"x": null, "y": {"w": 2}, "new": true}, "list": [3], "s": {"now": "object"}, "b": 2}'`);
    expect(attributesOf('m')).toEqual({ nested: { y: { z: 1, w: 2 }, new: true }, list: [3], s: { now: 'object' }, b: 2 });
    // COMMENT sets the comment member and keeps the others; a later ATTRIBUTE keeps the comment.
    await admin("ALTER USER m COMMENT 'first'");
    await admin("ALTER USER m COMMENT 'second'");
    await admin(`ALTER USER m ATTRIBUTE '{"nested": null, "list": null, "s": null}'`);
    expect(attributesOf('m')).toEqual({ b: 2, comment: 'second' });
    // Every member removed leaves an empty object, as MySQL's merge does.
    await admin(`ALTER USER m ATTRIBUTE '{"b": null, "comment": null}'`);
    expect(attributesOf('m')).toEqual({});
  });

  it('each account merges into its own; IDENTIFIED alone keeps the attributes, ATTRIBUTE alone keeps the plugin and its string', async () => {
    await admin(`CREATE USER e1 ATTRIBUTE '{"who": "e1"}'`);
    await admin('CREATE USER e2');
    await admin(`ALTER USER e1, e2 ATTRIBUTE '{"team": "x"}'`);
    expect([attributesOf('e1'), attributesOf('e2')]).toEqual([{ who: 'e1', team: 'x' }, { team: 'x' }]);
    await admin("ALTER USER e1 IDENTIFIED WITH auth_socket AS 'someone'");
    expect(catalog.accounts.get('e1', '%')).toMatchObject({ plugin: 'auth_socket', authenticationString: 'someone', attributes: { who: 'e1', team: 'x' } });
    const hash = catalog.accounts.get('e2', '%')!.authenticationString;
    await admin(`ALTER USER e2 ATTRIBUTE '{"team": "y"}'`);
    expect(catalog.accounts.get('e2', '%')).toMatchObject({ plugin: 'caching_sha2_password', authenticationString: hash, attributes: { team: 'y' } });
    // IF EXISTS: a missing account is skipped, the others still change.
    await admin(`ALTER USER IF EXISTS nobody, e2 ATTRIBUTE '{"team": "z"}'`);
    expect(attributesOf('e2')).toEqual({ team: 'z' });
  });

  it('refuses what is not a JSON object (3982), nests over 100 deep (3157) or takes over 64 KiB (1235), changing nothing', async () => {
    const notObject = refused(3982, 'HY000', 'The user attribute must be a valid JSON object');
    for (const json of ['{"a": 1', '[1]', '"text"', '42', 'null', '', "{'a': 1}", '{"a": 1} x']) {
      await expect(admin(`CREATE USER bad1, bad2 ATTRIBUTE '${json.replace(/'/g, "''")}'`)).rejects.toMatchObject(notObject);
      await expect(admin(`ALTER USER e1 ATTRIBUTE '${json.replace(/'/g, "''")}'`)).rejects.toMatchObject(notObject);
    }
    expect(catalog.accounts.get('bad1', '%')).toBeNull();
    expect(attributesOf('e1')).toEqual({ who: 'e1', team: 'x' });

    const nested = (depth: number) => `{"deep": ${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    await expect(admin(`ALTER USER e1 ATTRIBUTE '${nested(101)}'`)).rejects.toMatchObject(refused(3157, '22032', 'The JSON document exceeds the maximum depth.'));
    await admin(`CREATE USER deep ATTRIBUTE '${nested(100)}'`);

    const tooLarge = refused(1235, '42000', `This version of MySQL doesn't yet support 'user attributes over ${MAX_ATTRIBUTES_BYTES} bytes'`);
    const filler = (key: string, bytes: number) => `{"${key}": "${'x'.repeat(bytes)}"}`;
    await expect(admin(`CREATE USER big ATTRIBUTE '${filler('a', MAX_ATTRIBUTES_BYTES)}'`)).rejects.toMatchObject(tooLarge);
    // Two halves that fit alone do not fit merged; a merge that removes members may shrink it again.
    await admin(`CREATE USER big ATTRIBUTE '${filler('a', MAX_ATTRIBUTES_BYTES / 2)}'`);
    await expect(admin(`ALTER USER big ATTRIBUTE '${filler('b', MAX_ATTRIBUTES_BYTES / 2)}'`)).rejects.toMatchObject(tooLarge);
    expect(Object.keys(attributesOf('big')!)).toEqual(['a']);
    await admin(`ALTER USER big ATTRIBUTE '{"a": null, "b": "${'x'.repeat(MAX_ATTRIBUTES_BYTES / 2)}"}'`);
    expect(Object.keys(attributesOf('big')!)).toEqual(['b']);
  });

  it('takes keys any JSON allows, "__proto__" included, as members', async () => {
    await admin(`CREATE USER proto ATTRIBUTE '{"__proto__": {"polluted": 1}, "constructor": "c", "": "empty", "ü": "ß"}'`);
    const attributes = attributesOf('proto')!;
    expect(Object.keys(attributes).sort()).toEqual(['', '__proto__', 'constructor', 'ü']);
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await admin("SELECT ATTRIBUTE FROM INFORMATION_SCHEMA.USER_ATTRIBUTES WHERE USER = 'proto'"))[0].ATTRIBUTE).toBe(
      '{"": "empty", "ü": "ß", "__proto__": {"polluted": 1}, "constructor": "c"}',
    );
  });
});

describe('secrecy', () => {
  it('SHOW CREATE USER prints ATTRIBUTE last, in MySQL JSON text, upstream_password as <secret> whoever asks', async () => {
    await admin(`CREATE USER 'shown'@'localhost' IDENTIFIED WITH auth_socket ATTRIBUTE '{"upstream_user": "o''brien", "upstream_password": "${SECRET}", "bb": {"upstream_password": "${SECRET}"}, "a": 1}'`);
    const expected =
      "CREATE USER `shown`@`localhost` IDENTIFIED WITH 'auth_socket' REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK PASSWORD HISTORY DEFAULT " +
      'PASSWORD REUSE INTERVAL DEFAULT PASSWORD REQUIRE CURRENT DEFAULT ' +
      `ATTRIBUTE '{"a": 1, "bb": {"upstream_password": "<secret>"}, "upstream_user": "o\\'brien", "upstream_password": "<secret>"}'`;
    expect(await showCreate("'shown'@'localhost'")).toBe(expected);
    // An account without attributes shows no clause at all.
    expect(await showCreate('c4')).toMatch(/PASSWORD REQUIRE CURRENT DEFAULT$/);
    // The account itself, without any privilege, sees its own attributes masked too.
    await admin(`ALTER USER 'plain'@'localhost' ATTRIBUTE '{"upstream_password": "${SECRET}"}'`);
    await as('plain', async (c) => {
      const [own] = await c.query('SHOW CREATE USER CURRENT_USER');
      expect(Object.values(own)[0]).toMatch(/ ATTRIBUTE '\{"upstream_password": "<secret>"\}'$/);
    });
  });

  it('INFORMATION_SCHEMA.USER_ATTRIBUTES: USER, HOST, ATTRIBUTE masked, NULL for an account without', async () => {
    const rows = await admin("SELECT * FROM INFORMATION_SCHEMA.USER_ATTRIBUTES WHERE USER = 'shown' OR USER = 'c4'");
    expect(rows).toEqual([
      { USER: 'c4', HOST: '%', ATTRIBUTE: null },
      { USER: 'shown', HOST: 'localhost', ATTRIBUTE: '{"a": 1, "bb": {"upstream_password": "<secret>"}, "upstream_user": "o\'brien", "upstream_password": "<secret>"}' },
    ]);
    expect(await admin("select attribute as a from information_schema.user_attributes where user = 'c1' limit 1")).toEqual([{ a: '{"comment": "Mary\'s account"}' }]);
    // mysql.user has no User_attributes column to read them by.
    await expect(admin('SELECT User_attributes FROM mysql.user')).rejects.toMatchObject({ errno: 1054 });
  });

  it('no reply to anyone ever carries the secret', async () => {
    const everything = async (user: string) =>
      JSON.stringify([
        await as(user, (c) => c.query('SELECT * FROM INFORMATION_SCHEMA.USER_ATTRIBUTES')),
        await as(user, (c) => c.query('SHOW CREATE USER CURRENT_USER')),
      ]);
    for (const user of [me, 'plain', 'manager']) expect(await everything(user)).not.toContain(SECRET);
    expect(await showCreate("'app'@'localhost'")).not.toContain(SECRET);
  });
});

describe('privileges', () => {
  it('an account without CREATE USER sees only its own row, and cannot set attributes, even its own', async () => {
    await as('plain', async (c) => {
      expect(await c.query('SELECT USER, HOST FROM INFORMATION_SCHEMA.USER_ATTRIBUTES')).toEqual([{ USER: 'plain', HOST: 'localhost' }]);
      const denied = refused(1227, '42000', 'Access denied; you need (at least one of) the CREATE USER privilege(s) for this operation');
      await expect(c.query(`ALTER USER 'plain'@'localhost' ATTRIBUTE '{"upstream_user": "root"}'`)).rejects.toMatchObject(denied);
      await expect(c.query(`CREATE USER x COMMENT 'x'`)).rejects.toMatchObject(denied);
      // The privilege is checked before the JSON is.
      await expect(c.query(`ALTER USER 'plain'@'localhost' ATTRIBUTE '[1]'`)).rejects.toMatchObject(denied);
    });
    expect(attributesOf('plain', 'localhost')).toEqual({ upstream_password: SECRET });
  });

  it('CREATE USER sees every row and sets attributes, but not on an account holding ALL (SYSTEM_USER)', async () => {
    await as('manager', async (c) => {
      const users = (await c.query('SELECT USER FROM INFORMATION_SCHEMA.USER_ATTRIBUTES')).map((row: { USER: string }) => row.USER);
      expect(users).toEqual(expect.arrayContaining([me, 'plain', 'manager', 'app', 'shown']));
      await c.query(`ALTER USER 'app'@'localhost' COMMENT 'managed'`);
      await expect(c.query(`ALTER USER '${me}'@'localhost' ATTRIBUTE '{"upstream_user": "x"}'`)).rejects.toMatchObject(
        refused(1227, '42000', 'Access denied; you need (at least one of) the SYSTEM_USER privilege(s) for this operation'),
      );
    });
    expect(attributesOf('app', 'localhost')).toMatchObject({ comment: 'managed', upstream_user: 'u1' });
    expect(attributesOf(me, 'localhost')).toBeNull();
  });
});

describe('the datadir', () => {
  it('keeps the attributes across a restart; an account without any is stored as before', async () => {
    await stop();
    const state = JSON.parse(fs.readFileSync(path.join(datadir.dir, STATE), 'utf8'));
    const row = (user: string) => state.accounts.find((account: { user: string }) => account.user === user);
    expect(row('app').attributes).toEqual({ upstream_user: 'u1', upstream_password: SECRET, tags: { a: 1 }, comment: 'managed' });
    expect(Object.keys(row('c4'))).not.toContain('attributes');
    expect(fs.statSync(path.join(datadir.dir, STATE)).mode & 0o777).toBe(0o600);

    // A later start loads its rows as `auth-socket serve` does.
    const { datadir: reopened, state: loaded } = await Datadir.open(path.join(dir.path, 'data'));
    reopened.close();
    const accounts = new Accounts();
    for (const account of loaded!.accounts) accounts.create(account);
    expect(accounts.get('app', 'localhost')!.attributes).toEqual(row('app').attributes);
    await serveOn(accounts);
    expect(await showCreate("'app'@'localhost'")).toMatch(/ ATTRIBUTE '\{"tags": \{"a": 1\}, "comment": "managed", "upstream_user": "u1", "upstream_password": "<secret>"\}'$/);
    expect(attributesOf('c4')).toBeNull();
  });
});

describe('a state file', () => {
  let data: string;
  beforeEach(() => {
    data = path.join(dir.path, `state-${Math.random().toString(36).slice(2)}`);
    fs.mkdirSync(data, { mode: 0o700 });
  });
  const write = (accountFields: string) =>
    fs.writeFileSync(
      path.join(data, STATE),
      `{"format":1,"accounts":[{"user":"a","host":"h","plugin":"auth_socket","authenticationString":"","privileges":[],"grantOption":false${accountFields}}],"plugins":[]}`,
      { mode: 0o600 },
    );

  it('written before attributes existed still loads, its accounts without any', async () => {
    write('');
    const { datadir: opened, state } = await Datadir.open(data);
    opened.close();
    expect(new Accounts().create(state!.accounts[0]).attributes).toBeNull();
  });

  it('with an attributes value this server does not write stops the start', async () => {
    for (const value of ['"x"', '[]', 'null', '1']) {
      write(`,"attributes":${value}`);
      await expect(Datadir.open(data)).rejects.toMatchObject({ code: 'ERR_DATADIR_CORRUPT' });
    }
    // One that reads back but does not load: serve reports it as a corrupt datadir (corruptState), never quoting it.
    write(`,"attributes":{"upstream_password":"${SECRET}","deep":${'['.repeat(100)}${']'.repeat(100)}}`);
    const { datadir: opened, state } = await Datadir.open(data);
    opened.close();
    let error: NodeJS.ErrnoException | undefined;
    try {
      new Accounts().create(state!.accounts[0]);
    } catch (caught) {
      error = caught as NodeJS.ErrnoException;
    }
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: 'attributes must nest at most 100 levels deep' });
    expect(error!.message).not.toContain(SECRET);
  });

  it('is never written larger than a start would read back (1026, the change undone)', async () => {
    const { datadir: opened } = await Datadir.open(data);
    const big = new Catalog(new Accounts(), plugins(), opened);
    const attributes = { filler: 'x'.repeat(MAX_ATTRIBUTES_BYTES - 20) };
    const change = big.change(() => {
      for (let i = 0; i < 1100; i++) big.accounts.create({ user: `u${i}`, host: 'localhost', plugin: 'auth_socket', attributes });
    });
    await expect(change).rejects.toMatchObject({ err: { errno: 1026, message: expect.stringContaining('ERR_DATADIR_FULL') } });
    expect(big.accounts.list()).toEqual([]);
    expect(fs.existsSync(path.join(data, STATE))).toBe(false);
    opened.close();
  });
});

describe('the rules, alone', () => {
  it('what may be attributes: a plain JSON object, 100 levels, 64 KiB', () => {
    expect(attributesProblem({ a: [1, 'x', true, null, { b: 1.5 }] })).toBeNull();
    for (const value of [null, [], 'x', 1, new Date(), new Map(), { a: undefined }, { a: () => 1 }, { a: NaN }, { a: 1n }]) {
      expect(attributesProblem(value)).toBe('not-object');
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(attributesProblem(cyclic)).toBe('too-deep');
    // Shared parts are walked at most 64 Ki values in all, never exponentially.
    let shared: unknown = 1;
    for (let i = 0; i < 60; i++) shared = [shared, shared];
    expect(attributesProblem({ shared })).toBe('too-large');
    expect(attributesProblem({ s: 'é'.repeat(MAX_ATTRIBUTES_BYTES / 2) })).toBe('too-large');
  });

  it('Accounts takes a copy, frozen, and refuses anything else without quoting it', () => {
    const accounts = new Accounts();
    const given = { upstream_user: 'u', nested: { n: 1 } };
    const account = accounts.create({ user: 'a', host: 'h', plugin: 'auth_socket', attributes: given });
    given.nested.n = 2;
    expect(account.attributes).toEqual({ upstream_user: 'u', nested: { n: 1 } });
    expect(accounts.setPrivileges('a', 'h', ['CREATE USER'], false).attributes).toEqual(account.attributes);
    expect(accounts.alter({ user: 'a', host: 'h', plugin: 'auth_socket' }).attributes).toEqual(account.attributes);
    expect(accounts.alter({ user: 'a', host: 'h', plugin: 'auth_socket', attributes: null }).attributes).toBeNull();
    expect(() => accounts.create({ user: 'b', host: 'h', plugin: 'auth_socket', attributes: [SECRET] as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: 'attributes must be a JSON object (or null)' }),
    );
  });

  it('JSON_MERGE_PATCH as RFC 7396 gives it', () => {
    expect(mergePatch({ a: 'b' }, { a: 'c' })).toEqual({ a: 'c' });
    expect(mergePatch({ a: 'b' }, { b: 'c' })).toEqual({ a: 'b', b: 'c' });
    expect(mergePatch({ a: 'b' }, { a: null })).toEqual({});
    expect(mergePatch({ a: ['b'] }, { a: 'c' })).toEqual({ a: 'c' });
    expect(mergePatch({ a: 'c' }, { a: ['b'] })).toEqual({ a: ['b'] });
    expect(mergePatch({ a: { b: 'c' } }, { a: { b: 'd', c: null } })).toEqual({ a: { b: 'd' } });
    expect(mergePatch({ a: [{ b: 'c' }] }, { a: [1] })).toEqual({ a: [1] });
    expect(mergePatch({ e: null }, { a: 1 })).toEqual({ e: null, a: 1 });
    expect(mergePatch({}, { a: { bb: { ccc: null } } })).toEqual({ a: { bb: {} } });
  });

  it('MySQL JSON text: members by key length then bytes, ", " and ": ", secrets masked at any depth', () => {
    expect(shownAttributes(null)).toBeNull();
    expect(shownAttributes({})).toBe('{}');
    expect(shownAttributes({ bb: 1, a: [1, 'x', { upstream_password: ['y'] }], c: null, ab: 'q"\\\n', upstream_password: 'p' })).toBe(
      '{"a": [1, "x", {"upstream_password": "<secret>"}], "c": null, "ab": "q\\"\\\\\\n", "bb": 1, "upstream_password": "<secret>"}',
    );
  });
});
