// The plugin policy on the wire: a plugin that sends the password in cleartext runs only when the
// caller allowed it, and restrictedAuth refuses any plugin it leaves out, through connect() and
// through the mysql2 adapter. Scripted servers (real sockets, Unix and 127.0.0.1) record every
// byte the client sends, so each refusal also proves the password never left the client.
import net from 'net';
import path from 'path';

import mysql from 'mysql2/promise';

import { connect, ConnectOptions } from '../../lib/client/connect';
import { declareClientPlugin } from '../../lib/client/plugin';
import { authSimple } from '../../lib/client/plugins/auth-simple';
import { dialog } from '../../lib/client/plugins/dialog';
import { toMysql2AuthPlugins } from '../../lib/client/mysql2-adapter';
import { PacketChannel } from '../../lib/transport/packet-channel';
import { buildAuthSwitchRequest } from '../../lib/protocol/auth-exchange';
import { Capability } from '../../lib/protocol/constants';
import { buildHandshakeV10, parseHandshakeResponse41 } from '../../lib/protocol/handshake';
import { buildOk } from '../../lib/protocol/responses';
import { CR_OK } from '../../lib/auth/vio';
import { close, listen, tempDir, TempDir } from '../helpers/sockets';

const PASSWORD = 'hunter2-Sekr3t';
const PASSWORD_BYTES = Buffer.from(PASSWORD);
const SCRAMBLE = Buffer.from('0123456789abcdefghij');
const PASSWORD_QUESTION = Buffer.from('\x05Password: ', 'latin1');

function greeting(authPluginName: string): Buffer {
  return buildHandshakeV10({
    serverVersion: '8.0.0-scripted',
    connectionId: 9,
    authPluginData: SCRAMBLE,
    capabilities:
      Capability.LONG_PASSWORD |
      Capability.PROTOCOL_41 |
      Capability.SECURE_CONNECTION |
      Capability.PLUGIN_AUTH |
      Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA,
    characterSet: 45,
    statusFlags: 2,
    authPluginName,
  });
}

const switchTo = (pluginName: string, data: Buffer = Buffer.alloc(0)) => buildAuthSwitchRequest({ pluginName, pluginData: data });

/** A user-declared plugin that sends the password as typed, and says so. */
const tokenPlugin = declareClientPlugin({
  name: 'test_token',
  author: 't',
  description: 'sends the password in clear',
  version: [1, 0, 0],
  license: 'MIT',
  sendsCleartextPassword: true,
  async authenticate(vio, mysqlHandle) {
    await vio.writePacket(Buffer.from(mysqlHandle.password));
    return CR_OK;
  },
});

type Script = (channel: PacketChannel, socket: net.Socket) => Promise<void>;

let dir: TempDir;
const servers: net.Server[] = [];
let script: Script;
let scriptFailure: unknown;
/** Every byte each client sent, as the server's socket received it; and when each one hung up. */
let wire: Buffer[] = [];
let hangUps: Array<Promise<void>> = [];
const where: Record<'unix' | 'tcp', Pick<ConnectOptions, 'socketPath' | 'host' | 'port'>> = { unix: {}, tcp: {} };

beforeAll(async () => {
  dir = tempDir();
  const serve = (socket: net.Socket) => {
    socket.on('error', () => {});
    const channel = new PacketChannel(socket);
    // The channel paused the socket: this listener records without switching it to flowing.
    socket.on('data', (chunk: Buffer) => wire.push(chunk));
    hangUps.push(new Promise((resolve) => socket.once('close', () => resolve())));
    script(channel, socket).catch((error) => {
      scriptFailure = error;
      socket.destroy();
    });
  };
  const unix = net.createServer(serve);
  const tcp = net.createServer(serve);
  servers.push(unix, tcp);
  where.unix = { socketPath: path.join(dir.path, 'cleartext.sock') };
  await listen(unix, where.unix.socketPath!);
  await listen(tcp, { port: 0, host: '127.0.0.1' });
  where.tcp = { host: '127.0.0.1', port: (tcp.address() as net.AddressInfo).port };
});
beforeEach(() => {
  wire = [];
  hangUps = [];
});
afterEach(() => {
  expect(scriptFailure).toBeUndefined();
  scriptFailure = undefined;
});
afterAll(async () => {
  await Promise.all(servers.map(close));
  dir.remove();
});

/** Reads everything else the client sends until it hangs up (the recorder keeps it). */
function untilHangUp(channel: PacketChannel, socket: net.Socket): Promise<void> {
  channel.detach();
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.resume();
  });
}

/** All the bytes clients sent, once every one of them has hung up (nothing is still in flight). */
async function sent(): Promise<Buffer> {
  await Promise.all(hangUps);
  return Buffer.concat(wire);
}

async function passwordSent(): Promise<boolean> {
  return (await sent()).includes(PASSWORD_BYTES);
}

/** Greets with `advertised`, takes the first response, switches to `pluginName`, records the rest. */
function switchingServer(pluginName: string, data?: Buffer, advertised = 'mysql_native_password'): { firstPlugin: () => string | undefined } {
  let firstPlugin: string | undefined;
  script = async (channel, socket) => {
    await channel.write(greeting(advertised));
    firstPlugin = parseHandshakeResponse41(await channel.read()).clientPluginName ?? undefined;
    await channel.write(switchTo(pluginName, data));
    await untilHangUp(channel, socket);
  };
  return { firstPlugin: () => firstPlugin };
}

/** Greets with `advertised` and records whatever the client sends until it hangs up. */
function greetingServer(advertised: string): void {
  script = async (channel, socket) => {
    await channel.write(greeting(advertised));
    await untilHangUp(channel, socket);
  };
}

/** Switches to `pluginName` and accepts exactly `expected` as its answer. */
function acceptingServer(pluginName: string, data: Buffer, expected: Buffer): void {
  script = async (channel) => {
    await channel.write(greeting('mysql_native_password'));
    await channel.read();
    await channel.write(switchTo(pluginName, data));
    const answer = await channel.read();
    if (!answer.equals(expected)) throw new Error(`unexpected answer ${answer.toString('hex')}`);
    await channel.write(buildOk());
  };
}

const notEnabled = (pluginName: string, why: string | RegExp) => ({
  code: 'ERR_PLUGIN_NOT_ENABLED',
  errno: 2059,
  pluginName,
  message: expect.stringMatching(why),
});

const transports = ['unix', 'tcp'] as const;

describe('connect(): cleartext plugins only with the opt-in', () => {
  const clearSwitches: Array<[string, string, Buffer | undefined, Buffer]> = [
    ['auth_simple', 'auth_simple', undefined, Buffer.concat([PASSWORD_BYTES, Buffer.of(0)])],
    ['dialog with a password question', 'dialog', PASSWORD_QUESTION, Buffer.concat([PASSWORD_BYTES, Buffer.of(0)])],
    ['mysql_clear_password', 'mysql_clear_password', undefined, Buffer.concat([PASSWORD_BYTES, Buffer.of(0)])],
  ];

  describe.each(transports)('over %s', (transport) => {
    it.each(clearSwitches)('refuses a switch to %s without enableCleartextPlugin; the password is never sent', async (_what, name, data) => {
      switchingServer(name, data);
      await expect(connect({ ...where[transport], user: 'u', password: PASSWORD, timeout: 2000 })).rejects.toMatchObject(
        notEnabled(name, /sends the password in cleartext.*enableCleartextPlugin/),
      );
      expect((await sent()).length).toBeGreaterThan(0);
      expect(await passwordSent()).toBe(false);
    });

    it.each(clearSwitches)('runs %s when the caller enabled it', async (_what, name, data, expected) => {
      acceptingServer(name, data ?? Buffer.alloc(0), expected);
      const connection = await connect({ ...where[transport], user: 'u', password: PASSWORD, enableCleartextPlugin: true });
      connection.socket.destroy();
      expect(connection.plugin).toBe(name);
    });

    it.each(['auth_simple', 'dialog', 'mysql_clear_password', 'test_token'])(
      'answers a greeting advertising %s with mysql_native_password, then refuses the switch to it',
      async (name) => {
        const server = switchingServer(name, undefined, name);
        await expect(
          connect({ ...where[transport], user: 'u', password: PASSWORD, plugins: [tokenPlugin], timeout: 2000 }),
        ).rejects.toMatchObject(notEnabled(name, /cleartext/));
        expect(await passwordSent()).toBe(false);
        expect(server.firstPlugin()).toBe('mysql_native_password');
      },
    );
  });

  it('refuses a user-declared plugin flagged sendsCleartextPassword, and runs it with the opt-in', async () => {
    switchingServer('test_token');
    await expect(connect({ ...where.tcp, user: 'u', password: PASSWORD, plugins: [tokenPlugin], timeout: 2000 })).rejects.toMatchObject(
      notEnabled('test_token', /cleartext/),
    );
    expect(await passwordSent()).toBe(false);

    acceptingServer('test_token', Buffer.alloc(0), PASSWORD_BYTES);
    const connection = await connect({ ...where.tcp, user: 'u', password: PASSWORD, plugins: [tokenPlugin], enableCleartextPlugin: true });
    connection.socket.destroy();
    expect(connection.plugin).toBe('test_token');
  });

  it('refuses a cleartext plugin named by defaultAuth before sending anything', async () => {
    greetingServer('mysql_native_password');
    await expect(connect({ ...where.tcp, user: 'u', password: PASSWORD, defaultAuth: 'auth_simple', timeout: 2000 })).rejects.toMatchObject(
      notEnabled('auth_simple', /cleartext/),
    );
    expect(await sent()).toEqual(Buffer.alloc(0));
  });

  it('takes the opt-in from LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN, and an explicit false wins over it', async () => {
    const saved = process.env.LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN;
    process.env.LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN = '1';
    try {
      acceptingServer('auth_simple', Buffer.alloc(0), Buffer.concat([PASSWORD_BYTES, Buffer.of(0)]));
      (await connect({ ...where.unix, user: 'u', password: PASSWORD })).socket.destroy();
      await sent();
      wire = [];
      switchingServer('auth_simple');
      await expect(
        connect({ ...where.unix, user: 'u', password: PASSWORD, enableCleartextPlugin: false, timeout: 2000 }),
      ).rejects.toMatchObject(notEnabled('auth_simple', /cleartext/));
      expect(await passwordSent()).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN;
      else process.env.LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN = saved;
    }
  });
});

describe('connect(): restrictedAuth', () => {
  it.each(transports)('refuses a switch to a plugin it leaves out, cleartext opt-in or not (%s)', async (transport) => {
    switchingServer('mysql_clear_password');
    const options = { ...where[transport], user: 'u', password: PASSWORD, enableCleartextPlugin: true, timeout: 2000 };
    await expect(connect({ ...options, restrictedAuth: ['mysql_native_password', 'caching_sha2_password'] })).rejects.toMatchObject(
      notEnabled('mysql_clear_password', /restrictedAuth allows only mysql_native_password, caching_sha2_password/),
    );
    expect(await passwordSent()).toBe(false);
  });

  it.each(transports)('does not answer an advertised plugin it leaves out (%s)', async (transport) => {
    const server = switchingServer('auth_simple', undefined, 'auth_simple');
    await expect(
      connect({ ...where[transport], user: 'u', password: PASSWORD, enableCleartextPlugin: true, restrictedAuth: 'mysql_native_password', timeout: 2000 }),
    ).rejects.toMatchObject(notEnabled('auth_simple', /restrictedAuth/));
    expect(await passwordSent()).toBe(false);
    expect(server.firstPlugin()).toBe('mysql_native_password');
  });

  it('refuses before sending anything when neither the advertised plugin nor native is allowed, or defaultAuth is not', async () => {
    greetingServer('caching_sha2_password');
    await expect(connect({ ...where.tcp, user: 'u', password: PASSWORD, restrictedAuth: 'client_ed25519', timeout: 2000 })).rejects.toMatchObject(
      notEnabled('caching_sha2_password', /defaultAuth/),
    );
    await expect(
      connect({ ...where.tcp, user: 'u', password: PASSWORD, restrictedAuth: 'client_ed25519', defaultAuth: 'caching_sha2_password', timeout: 2000 }),
    ).rejects.toMatchObject(notEnabled('caching_sha2_password', /restrictedAuth/));
    expect(await sent()).toEqual(Buffer.alloc(0));
  });

  it('lets a listed plugin run, from a comma-separated string', async () => {
    acceptingServer('auth_simple', Buffer.alloc(0), Buffer.concat([PASSWORD_BYTES, Buffer.of(0)]));
    const connection = await connect({
      ...where.unix,
      user: 'u',
      password: PASSWORD,
      enableCleartextPlugin: true,
      restrictedAuth: 'mysql_native_password, auth_simple',
    });
    connection.socket.destroy();
    expect(connection.plugin).toBe('auth_simple');
  });

  it('refuses an empty or malformed list before connecting', async () => {
    for (const restrictedAuth of ['', [], ' , ', 'bad/name', 7]) {
      await expect(connect({ ...where.tcp, user: 'u', restrictedAuth: restrictedAuth as never })).rejects.toMatchObject({
        code: expect.stringMatching(/^ERR_INVALID_ARG_(VALUE|TYPE)$/),
      });
    }
    expect(await sent()).toEqual(Buffer.alloc(0));
  });
});

describe('mysql2 through toMysql2AuthPlugins: the same opt-in', () => {
  const cases: Array<[string, Buffer]> = [
    ['auth_simple', Buffer.alloc(0)],
    ['dialog', PASSWORD_QUESTION],
  ];
  const plugins = toMysql2AuthPlugins(authSimple, dialog) as never;

  describe.each(transports)('over %s', (transport) => {
    it.each(cases)('refuses a switch to %s without enableCleartextPlugin; the password is never sent', async (name, data) => {
      switchingServer(name, data);
      await expect(mysql.createConnection({ ...where[transport], user: 'u', password: PASSWORD, authPlugins: plugins })).rejects.toMatchObject({
        errno: 2059,
        message: expect.stringMatching(/sends the password in cleartext.*enableCleartextPlugin/),
      });
      expect((await sent()).length).toBeGreaterThan(0);
      expect(await passwordSent()).toBe(false);
    });

    it.each(cases)('runs %s with enableCleartextPlugin: true', async (name, data) => {
      acceptingServer(name, data, Buffer.concat([PASSWORD_BYTES, Buffer.of(0)]));
      const connection = await mysql.createConnection({
        ...where[transport],
        user: 'u',
        password: PASSWORD,
        authPlugins: plugins,
        enableCleartextPlugin: true,
      });
      connection.destroy();
    });
  });

  it('refuses a user-declared cleartext plugin the same way', async () => {
    switchingServer('test_token');
    await expect(
      mysql.createConnection({ ...where.tcp, user: 'u', password: PASSWORD, authPlugins: toMysql2AuthPlugins(tokenPlugin) as never }),
    ).rejects.toMatchObject({ errno: 2059, message: expect.stringContaining('cleartext') });
    expect(await passwordSent()).toBe(false);
  });
});
