// Client plugins against our own server (createServer): auth_simple through connect() and through
// mysql2 with toMysql2AuthPlugins(); caching_sha2_password's two halves (ours) cross-checked
// against mysql2's own caching_sha2_password client, over a Unix socket and over TCP with RSA.
import crypto from 'crypto';
import fs from 'fs';
import net from 'net';
import path from 'path';

import mysql from 'mysql2/promise';

import { Accounts } from '../../lib/server/catalog/accounts';
import { cachingSha2PasswordHash, FAST_AUTH_SUCCESS, PERFORM_FULL_AUTHENTICATION, REQUEST_PUBLIC_KEY, scrambleCachingSha2Password } from '../../lib/auth/caching-sha2';
import { createCachingSha2PasswordPlugin } from '../../lib/server/plugins/caching-sha2-password';
import { ClientConnection, connect, ConnectOptions } from '../../lib/client/connect';
import { authSimple } from '../../lib/client/plugins/auth-simple';
import { declareClientPlugin } from '../../lib/client/plugin';
import { loadClientPlugin, unloadClientPlugin } from '../../lib/client/registry';
import { toMysql2AuthPlugins } from '../../lib/client/mysql2-adapter';
import { AuthServer, createServer } from '../../lib/server/listener';
import { ServerAuthPlugin } from '../../lib/server/plugin';
import { CR_ERROR, CR_OK, PluginVio } from '../../lib/auth/vio';
import { queryRows } from '../helpers/client-session';
import { close, listen, tempDir, TempDir } from '../helpers/sockets';

// mysql2's own client half, to check our scramble against (not in its exports map: by path).
const mysql2Dir = path.dirname(require.resolve('mysql2'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mysql2CachingSha2 = require(path.join(mysql2Dir, 'lib/auth_plugins/caching_sha2_password.js')) as {
  calculateToken(password: string, scramble: Buffer): Buffer;
};

const SIMPLE_PASSWORD = 'simple-secret';
const SHA_PASSWORD = 'sha2-secret-é';

function accounts(): Accounts {
  const list = new Accounts();
  list.create({ user: 'simple', host: '%', plugin: 'auth_simple', authenticationString: SIMPLE_PASSWORD });
  list.create({ user: 'sha', host: '%', plugin: 'caching_sha2_password', authenticationString: cachingSha2PasswordHash(SHA_PASSWORD) });
  return list;
}

/** The caching_sha2 server plugin, with a record of how each authentication ended on the wire. */
function observedCachingSha2(options?: Parameters<typeof createCachingSha2PasswordPlugin>[0]) {
  const plugin = createCachingSha2PasswordPlugin(options);
  const paths: Array<'fast' | 'full'> = [];
  const observed: ServerAuthPlugin = {
    ...plugin,
    async authenticate(vio, info) {
      const writePacket = vio.writePacket.bind(vio);
      let fast = false;
      vio.writePacket = async (data: Buffer) => {
        if (data.length === 1 && data[0] === FAST_AUTH_SUCCESS) fast = true;
        return writePacket(data);
      };
      const result = await plugin.authenticate(vio, info);
      if (result === CR_OK) paths.push(fast ? 'fast' : 'full');
      return result;
    },
  };
  return { plugin: observed, paths };
}

const open: Array<{ end(): unknown }> = [];
/** Ends every client connection a test opened: a server closes only once its sessions are gone. */
async function endClients(): Promise<void> {
  for (const connection of open.splice(0)) await connection.end();
}
afterEach(endClients);

interface Listening {
  server: AuthServer;
  socketPath: string;
  port: number;
  paths: Array<'fast' | 'full'>;
  stop(): Promise<void>;
}

async function startServers(options?: Parameters<typeof createCachingSha2PasswordPlugin>[0]): Promise<Listening> {
  const dir: TempDir = tempDir();
  const { plugin, paths } = observedCachingSha2(options);
  const unix = createServer({ accounts: accounts(), plugins: [plugin] });
  const tcp = createServer({ accounts: accounts(), plugins: [plugin] });
  const socketPath = path.join(dir.path, 'server.sock');
  await listen(unix, socketPath);
  await listen(tcp, { port: 0, host: '127.0.0.1' });
  return {
    server: unix,
    socketPath,
    port: (tcp.address() as net.AddressInfo).port,
    paths,
    async stop() {
      await endClients();
      await Promise.all([close(unix), close(tcp)]);
      dir.remove();
    },
  };
}


async function ours(options: ConnectOptions): Promise<ClientConnection> {
  const connection = await connect(options);
  open.push({ end: () => connection.socket.destroy() });
  return connection;
}

async function theirs(options: mysql.ConnectionOptions): Promise<mysql.Connection> {
  const connection = await mysql.createConnection(options);
  open.push(connection);
  return connection;
}

describe('auth_simple against our server', () => {
  let servers: Listening;
  beforeAll(async () => {
    servers = await startServers();
  });
  afterAll(() => servers?.stop());

  it('logs in through connect() with the right password, once cleartext plugins are allowed', async () => {
    await expect(connect({ socketPath: servers.socketPath, user: 'simple', password: SIMPLE_PASSWORD })).rejects.toMatchObject({
      code: 'ERR_PLUGIN_NOT_ENABLED',
      pluginName: 'auth_simple',
    });
    const connection = await ours({ socketPath: servers.socketPath, user: 'simple', password: SIMPLE_PASSWORD, enableCleartextPlugin: true });
    expect(connection.plugin).toBe('auth_simple');
    expect(await queryRows(connection, 'SELECT CURRENT_USER()')).toEqual([['simple@%']]);
  });

  it('is refused through connect() with a wrong password', async () => {
    await expect(connect({ socketPath: servers.socketPath, user: 'simple', password: 'nope', enableCleartextPlugin: true })).rejects.toMatchObject({
      code: 'ERR_SERVER_ERROR',
      errno: 1045,
      sqlState: '28000',
      message: "Access denied for user 'simple'@'localhost' (using password: YES)",
    });
  });

  it('logs in through mysql2 with toMysql2AuthPlugins(authSimple) and enableCleartextPlugin', async () => {
    const options = { socketPath: servers.socketPath, user: 'simple', password: SIMPLE_PASSWORD, authPlugins: toMysql2AuthPlugins(authSimple) as never };
    await expect(mysql.createConnection(options)).rejects.toMatchObject({ errno: 2059, message: expect.stringContaining('enableCleartextPlugin') });
    const connection = await theirs({ ...options, enableCleartextPlugin: true });
    const [rows] = await connection.query('SELECT CURRENT_USER()');
    expect(rows).toEqual([{ 'CURRENT_USER()': 'simple@%' }]);
  });

  it('is refused through mysql2 with the adapter and a wrong password', async () => {
    await expect(
      mysql.createConnection({
        socketPath: servers.socketPath,
        user: 'simple',
        password: 'nope',
        authPlugins: toMysql2AuthPlugins(authSimple) as never,
        enableCleartextPlugin: true,
      }),
    ).rejects.toMatchObject({ errno: 1045, sqlState: '28000' });
  });

  it('mysql2 without the adapter does not know auth_simple', async () => {
    await expect(mysql.createConnection({ socketPath: servers.socketPath, user: 'simple', password: SIMPLE_PASSWORD })).rejects.toThrow(
      /unknown plugin auth_simple/,
    );
  });

  it('passes a plugin failure to mysql2 as its error', async () => {
    const refusing = declareClientPlugin({
      name: 'auth_simple',
      author: 'test',
      description: 'refuses',
      version: [1, 0, 0],
      license: 'MIT',
      authenticate(_vio, handle) {
        handle.setError('no token inserted');
        return CR_ERROR;
      },
    });
    await expect(
      mysql.createConnection({
        socketPath: servers.socketPath,
        user: 'simple',
        authPlugins: toMysql2AuthPlugins(refusing) as never,
        enableCleartextPlugin: true,
      }),
    ).rejects.toMatchObject({ code: 'AUTH_SWITCH_PLUGIN_ERROR', message: expect.stringContaining('no token inserted') });
  });
});

describe('a client plugin loaded from a plugin directory', () => {
  // The server side: accepts the account's token, sent by a client plugin named auth_token.
  const tokenServerPlugin: ServerAuthPlugin = {
    name: 'token',
    clientPluginName: 'auth_token',
    async authenticate(vio, info) {
      const token = await vio.readPacket();
      return token.equals(Buffer.from(`token:${info.authString}`)) ? CR_OK : CR_ERROR;
    },
  };
  let dir: TempDir;
  let server: AuthServer;
  beforeAll(async () => {
    dir = tempDir();
    const list = new Accounts();
    list.create({ user: 'tok', host: 'localhost', plugin: 'token', authenticationString: 'T-123' });
    server = createServer({ accounts: list, plugins: [tokenServerPlugin] });
    await listen(server, path.join(dir.path, 'token.sock'));
    // The plugin module, as its author would ship it: one file named after the plugin.
    fs.mkdirSync(path.join(dir.path, 'plugins'));
    fs.writeFileSync(
      path.join(dir.path, 'plugins', 'auth_token.js'),
      `const { declareClientPlugin } = require(${JSON.stringify(path.resolve(__dirname, '../../lib/client/plugin'))});
       let prefix;
       module.exports = declareClientPlugin({
         name: 'auth_token', author: 'Test', description: 'sends a token', version: [1, 0, 0], license: 'MIT',
         init(errbuf, args) { prefix = args[0]; return 0; },
         async authenticate(vio, mysql) { await vio.writePacket(Buffer.from(prefix + mysql.password)); return -1; },
       });`,
    );
  });
  afterAll(async () => {
    await endClients();
    await close(server);
    unloadClientPlugin('auth_token');
    dir.remove();
  });

  it('is found by connect() once loaded, and carries its init arguments', async () => {
    const socketPath = path.join(dir.path, 'token.sock');
    await expect(connect({ socketPath, user: 'tok', password: 'T-123' })).rejects.toMatchObject({ code: 'ERR_PLUGIN_UNKNOWN' });
    loadClientPlugin('auth_token', { pluginDir: path.join(dir.path, 'plugins'), args: ['token:'] });
    const connection = await ours({ socketPath, user: 'tok', password: 'T-123' });
    expect(connection.plugin).toBe('auth_token');
    expect(await queryRows(connection, 'SELECT CURRENT_USER()')).toEqual([['tok@localhost']]);
    await expect(connect({ socketPath, user: 'tok', password: 'T-999' })).rejects.toMatchObject({ errno: 1045 });
  });
});

describe('caching_sha2_password: both halves ours, cross-checked with mysql2', () => {
  it("computes the scramble mysql2's client computes", () => {
    for (let i = 0; i < 20; i++) {
      const password = crypto.randomBytes(1 + (i % 12)).toString('base64');
      const scramble = crypto.randomBytes(20);
      expect(scrambleCachingSha2Password(password, scramble)).toEqual(mysql2CachingSha2.calculateToken(password, scramble));
    }
  });

  describe('mysql2 client, our server half', () => {
    let servers: Listening;
    beforeAll(async () => {
      servers = await startServers();
    });
    afterAll(() => servers?.stop());

    it('full authentication over TCP (RSA key requested), then the fast path', async () => {
      const options = { host: '127.0.0.1', port: servers.port, user: 'sha', password: SHA_PASSWORD };
      await theirs(options);
      await theirs(options);
      expect(servers.paths).toEqual(['full', 'fast']);
    });

    it('is refused with a wrong password', async () => {
      await expect(mysql.createConnection({ socketPath: servers.socketPath, user: 'sha', password: 'wrong' })).rejects.toMatchObject({
        errno: 1045,
        sqlState: '28000',
      });
    });

    it('runs a session after logging in over the Unix socket', async () => {
      const connection = await theirs({ socketPath: servers.socketPath, user: 'sha', password: SHA_PASSWORD });
      const [rows] = await connection.query('SELECT CURRENT_USER()');
      expect(rows).toEqual([{ 'CURRENT_USER()': 'sha@%' }]);
    });
  });

  it('is built into createServer(): no plugins option needed', async () => {
    const dir = tempDir();
    const server = createServer({ accounts: accounts() });
    try {
      await listen(server, path.join(dir.path, 'builtin.sock'));
      const connection = await theirs({ socketPath: path.join(dir.path, 'builtin.sock'), user: 'sha', password: SHA_PASSWORD });
      const [rows] = await connection.query('SELECT CURRENT_USER()');
      expect(rows).toEqual([{ 'CURRENT_USER()': 'sha@%' }]);
    } finally {
      await endClients();
      await close(server);
      dir.remove();
    }
  });

  describe('mysql2 client over the socket: full authentication in cleartext on a secure transport', () => {
    let servers: Listening;
    beforeAll(async () => {
      servers = await startServers();
    });
    afterAll(() => servers?.stop());

    it('then the fast path', async () => {
      await theirs({ socketPath: servers.socketPath, user: 'sha', password: SHA_PASSWORD });
      await theirs({ socketPath: servers.socketPath, user: 'sha', password: SHA_PASSWORD });
      expect(servers.paths).toEqual(['full', 'fast']);
    });
  });

  describe('our client half, against our server and after mysql2 filled the cache', () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    let servers: Listening;
    beforeEach(async () => {
      servers = await startServers({ privateKey, publicKey });
    });
    afterEach(() => servers?.stop());

    it('full authentication over the Unix socket, then the fast path', async () => {
      await ours({ socketPath: servers.socketPath, user: 'sha', password: SHA_PASSWORD });
      const connection = await ours({ socketPath: servers.socketPath, user: 'sha', password: SHA_PASSWORD });
      expect(connection.plugin).toBe('caching_sha2_password');
      expect(await queryRows(connection, 'SELECT CURRENT_USER()')).toEqual([['sha@%']]);
      expect(servers.paths).toEqual(['full', 'fast']);
    });

    it('over TCP refuses to send the password without the server key, unless allowed to ask for it', async () => {
      const tcp = { host: '127.0.0.1', port: servers.port, user: 'sha', password: SHA_PASSWORD };
      await expect(connect(tcp)).rejects.toMatchObject({
        code: 'ERR_AUTH_PLUGIN_FAILED',
        message: expect.stringContaining("needs the server's RSA public key"),
      });
      await ours({ ...tcp, pluginOptions: { getServerPublicKey: true } });
      expect(servers.paths).toEqual(['full']);
    });

    it('over TCP with the server key given in advance (RSA-OAEP)', async () => {
      await ours({ host: '127.0.0.1', port: servers.port, user: 'sha', password: SHA_PASSWORD, pluginOptions: { serverPublicKey: publicPem } });
      expect(servers.paths).toEqual(['full']);
    });

    it('takes the fast path on a cache that mysql2 filled, and mysql2 on one ours filled', async () => {
      await theirs({ socketPath: servers.socketPath, user: 'sha', password: SHA_PASSWORD });
      await ours({ socketPath: servers.socketPath, user: 'sha', password: SHA_PASSWORD });
      expect(servers.paths).toEqual(['full', 'fast']);
      await servers.stop();
      servers = await startServers({ privateKey, publicKey });
      await ours({ socketPath: servers.socketPath, user: 'sha', password: SHA_PASSWORD });
      await theirs({ socketPath: servers.socketPath, user: 'sha', password: SHA_PASSWORD });
      expect(servers.paths).toEqual(['full', 'fast']);
    });

    it('is refused with a wrong password, on the fast path and on full authentication', async () => {
      const wrong = { socketPath: servers.socketPath, user: 'sha', password: 'wrong' };
      await expect(connect(wrong)).rejects.toMatchObject({ code: 'ERR_SERVER_ERROR', errno: 1045 });
      await ours({ socketPath: servers.socketPath, user: 'sha', password: SHA_PASSWORD });
      await expect(connect(wrong)).rejects.toMatchObject({ code: 'ERR_SERVER_ERROR', errno: 1045 });
      await expect(
        connect({ host: '127.0.0.1', port: servers.port, user: 'sha', password: 'wrong', pluginOptions: { serverPublicKey: publicPem } }),
      ).rejects.toMatchObject({ code: 'ERR_SERVER_ERROR', errno: 1045 });
      expect(servers.paths).toEqual(['full']);
    });
  });

  describe('our server half refuses malformed client input', () => {
    // A fresh cache each time, so every script reaches full authentication.
    let servers: Listening;
    beforeEach(async () => {
      servers = await startServers();
    });
    afterEach(() => servers?.stop());

    /** A caching_sha2_password client that says what the test scripts instead of the real thing. */
    function crafted(script: (vio: PluginVio) => Promise<void>) {
      return declareClientPlugin({
        name: 'caching_sha2_password',
        author: 'test',
        description: 'crafted',
        version: [1, 0, 0],
        license: 'MIT',
        async authenticate(vio) {
          await script(vio);
          return CR_OK;
        },
      });
    }

    const realProof = async (vio: PluginVio) => {
      const scramble = await vio.readPacket();
      await vio.writePacket(scrambleCachingSha2Password(SHA_PASSWORD, scramble));
      expect(await vio.readPacket()).toEqual(Buffer.of(PERFORM_FULL_AUTHENTICATION));
    };

    it.each<[string, 'socket' | 'tcp', (vio: PluginVio) => Promise<void>]>([
      ['a proof of the wrong length', 'socket', async (vio) => {
        await vio.readPacket();
        await vio.writePacket(crypto.randomBytes(31));
      }],
      ['a cleartext password without its NUL on the socket', 'socket', async (vio) => {
        await realProof(vio);
        await vio.writePacket(Buffer.from(SHA_PASSWORD));
      }],
      ['garbage instead of RSA ciphertext over TCP', 'tcp', async (vio) => {
        await realProof(vio);
        await vio.writePacket(crypto.randomBytes(256));
      }],
      ['the cleartext password over TCP', 'tcp', async (vio) => {
        await realProof(vio);
        await vio.writePacket(Buffer.from(`${SHA_PASSWORD}\0`));
      }],
      ['a second key request instead of the ciphertext', 'tcp', async (vio) => {
        await realProof(vio);
        await vio.writePacket(Buffer.of(REQUEST_PUBLIC_KEY));
        await vio.readPacket();
        await vio.writePacket(Buffer.of(REQUEST_PUBLIC_KEY));
      }],
    ])('%s', async (_what, transport, script) => {
      const where = transport === 'socket' ? { socketPath: servers.socketPath } : { host: '127.0.0.1', port: servers.port };
      await expect(connect({ ...where, user: 'sha', password: SHA_PASSWORD, plugins: [crafted(script)] })).rejects.toMatchObject({
        code: 'ERR_SERVER_ERROR',
        errno: 1045,
      });
      // Still serving, and nothing was cached by the refusals.
      await ours({ ...where, user: 'sha', password: SHA_PASSWORD, pluginOptions: { getServerPublicKey: true } });
      expect(servers.paths).toEqual(['full']);
    });
  });
});
