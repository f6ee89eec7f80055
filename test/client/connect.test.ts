// connect()'s handshake rules against scripted servers: a real socket peer that says exactly what
// a test needs, including what no healthy server says (garbage, a second switch, silence).
import fs from 'fs';
import net from 'net';
import path from 'path';

import { connect as connectClient, ConnectOptions } from '../../lib/client/connect';
import { declareClientPlugin } from '../../lib/client/plugin';
import { PacketChannel } from '../../lib/transport/packet-channel';
import { encodePacket } from '../../lib/protocol/framing';
import { buildAuthMoreData, buildAuthSwitchRequest } from '../../lib/protocol/auth-exchange';
import { Capability } from '../../lib/protocol/constants';
import { buildHandshakeV10, HandshakeResponse41, parseHandshakeResponse41 } from '../../lib/protocol/handshake';
import { buildErr, buildOk } from '../../lib/protocol/responses';
import { CR_ERROR, CR_OK, CR_OK_HANDSHAKE_COMPLETE, PluginVio } from '../../lib/auth/vio';
import { close, listen, tempDir, TempDir } from '../helpers/sockets';

const SCRAMBLE = Buffer.from('0123456789abcdefghij');
const CAPABILITIES =
  Capability.LONG_PASSWORD |
  Capability.PROTOCOL_41 |
  Capability.SECURE_CONNECTION |
  Capability.PLUGIN_AUTH |
  Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA |
  Capability.CONNECT_WITH_DB |
  Capability.CONNECT_ATTRS;

function greeting(authPluginName = 'mysql_native_password'): Buffer {
  return buildHandshakeV10({
    serverVersion: '8.0.0-scripted',
    connectionId: 7,
    authPluginData: SCRAMBLE,
    capabilities: CAPABILITIES,
    characterSet: 45,
    statusFlags: 2,
    authPluginName,
  });
}

type Script = (channel: PacketChannel, socket: net.Socket) => Promise<void>;

// Every code connect() rejected with in this file: the last test holds the docs to them.
const rejectionCodes = new Set<string>();
function connect(options: ConnectOptions) {
  return connectClient(options).catch((error) => {
    if (typeof error?.code === 'string') rejectionCodes.add(error.code);
    throw error;
  });
}

let dir: TempDir;
let server: net.Server;
let socketPath: string;
let script: Script;
const peers = new Set<net.Socket>();
let scriptFailure: unknown;

beforeAll(async () => {
  dir = tempDir();
  socketPath = path.join(dir.path, 'scripted.sock');
  server = net.createServer((socket) => {
    peers.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => peers.delete(socket));
    script(new PacketChannel(socket), socket).catch((error) => {
      scriptFailure = error;
      socket.destroy();
    });
  });
  await listen(server, socketPath);
});
afterEach(() => {
  for (const socket of peers) socket.destroy();
  expect(scriptFailure).toBeUndefined();
  scriptFailure = undefined;
});
afterAll(async () => {
  await close(server);
  dir.remove();
});

function echoPlugin(authenticate: Parameters<typeof declareClientPlugin>[0]['authenticate']) {
  return declareClientPlugin({ name: 'test_echo', author: 't', description: 't', version: [1, 0, 0], license: 'MIT', authenticate });
}

describe('connect() against scripted servers', () => {
  it('sends user, database, plugin name and connect attributes in its HandshakeResponse41', async () => {
    let response: HandshakeResponse41 | undefined;
    script = async (channel) => {
      await channel.write(greeting());
      response = parseHandshakeResponse41(await channel.read());
      await channel.write(buildOk());
    };
    const connection = await connect({
      socketPath,
      user: 'alice',
      password: 'pw',
      database: 'shop',
      connectAttributes: { _client_name: 'auth-socket', program: 'test' },
    });
    connection.socket.destroy();
    expect(response).toMatchObject({
      user: 'alice',
      database: 'shop',
      clientPluginName: 'mysql_native_password',
      connectAttributes: { _client_name: 'auth-socket', program: 'test' },
    });
    expect(response!.authResponse).toHaveLength(20);
    expect(connection.capabilities & Capability.CONNECT_WITH_DB).toBeTruthy();
    expect(connection.greeting).toMatchObject({ serverVersion: '8.0.0-scripted', connectionId: 7 });
  });

  it('strips exactly one 0x01 from AuthMoreData', async () => {
    let echoed: Buffer | undefined;
    script = async (channel) => {
      await channel.write(greeting('test_echo'));
      await channel.read();
      await channel.write(buildAuthMoreData(Buffer.from([0x01, 0x78])));
      echoed = await channel.read();
      await channel.write(buildOk());
    };
    const plugin = echoPlugin(async (vio) => {
      await vio.writePacket(await vio.readPacket());
      await vio.writePacket(await vio.readPacket());
      return CR_OK;
    });
    (await connect({ socketPath, user: 'u', plugins: [plugin] })).socket.destroy();
    expect(echoed).toEqual(Buffer.from([0x01, 0x78]));
  });

  it('does not read again after CR_OK_HANDSHAKE_COMPLETE; bytes after the OK come back byte-exact', async () => {
    const after = Buffer.from('\x05\x00\x00\x00\x03abcd');
    script = async (channel, socket) => {
      await channel.write(greeting('test_echo'));
      await channel.read();
      channel.detach();
      socket.write(Buffer.concat([Buffer.from([7, 0, 0, 2]), buildOk(), after]));
    };
    const plugin = echoPlugin(async (vio) => {
      await vio.readPacket();
      await vio.writePacket(Buffer.from('x'));
      const ok = await vio.readPacket();
      return ok[0] === 0 ? CR_OK_HANDSHAKE_COMPLETE : CR_ERROR;
    });
    const connection = await connect({ socketPath, user: 'u', plugins: [plugin] });
    connection.socket.destroy();
    expect(connection.plugin).toBe('test_echo');
    expect(connection.leftover).toEqual(after);
  });

  it("closes a plugin's VIO once it returned: a late write or read is refused, nothing is sent", async () => {
    let afterOk: Buffer | undefined;
    script = async (channel, socket) => {
      await channel.write(greeting('test_echo'));
      await channel.read();
      await channel.write(buildOk());
      socket.once('end', () => {
        afterOk = channel.detach();
      });
    };
    let kept: PluginVio | undefined;
    const plugin = echoPlugin(async (vio) => {
      kept = vio;
      await vio.readPacket();
      await vio.writePacket(Buffer.from('proof'));
      return CR_OK;
    });
    const connection = await connect({ socketPath, user: 'u', plugins: [plugin] });
    await expect(kept!.writePacket(Buffer.from('late'))).rejects.toMatchObject({ code: 'ERR_VIO_CLOSED' });
    await expect(kept!.readPacket()).rejects.toMatchObject({ code: 'ERR_VIO_CLOSED' });
    await new Promise<void>((resolve) => connection.socket.end(resolve));
    await new Promise((resolve) => connection.socket.once('close', resolve));
    expect(afterOk).toEqual(Buffer.alloc(0));
  });

  it("rejects with the plugin's own message when it fails and the server said nothing final", async () => {
    script = async (channel) => {
      await channel.write(greeting('test_echo'));
    };
    const plugin = echoPlugin((_vio, mysql) => {
      mysql.setError('token missing');
      return CR_ERROR;
    });
    await expect(connect({ socketPath, user: 'u', plugins: [plugin] })).rejects.toMatchObject({
      code: 'ERR_AUTH_PLUGIN_FAILED',
      message: 'test_echo: token missing',
    });
  });

  it('refuses a result that is not a valid CR code', async () => {
    script = async (channel) => {
      await channel.write(greeting('test_echo'));
    };
    const plugin = echoPlugin(() => 5 as never);
    await expect(connect({ socketPath, user: 'u', plugins: [plugin] })).rejects.toMatchObject({
      code: 'ERR_AUTH_PLUGIN_FAILED',
      message: expect.stringContaining('plugin returned 5'),
    });
  });

  it("rejects with the server's error from the greeting", async () => {
    script = async (channel) => {
      await channel.write(buildErr({ errno: 1040, sqlState: '08004', message: 'Too many connections' }));
    };
    await expect(connect({ socketPath, user: 'u' })).rejects.toMatchObject({
      code: 'ERR_SERVER_ERROR',
      errno: 1040,
      sqlState: '08004',
      message: 'Too many connections',
    });
  });

  it('refuses a garbage greeting', async () => {
    script = async (channel) => {
      await channel.write(Buffer.from([0x09, 0xff, 0x00]));
    };
    await expect(connect({ socketPath, user: 'u' })).rejects.toMatchObject({ code: 'ERR_MALFORMED_PACKET' });
  });

  it('refuses a second AuthSwitchRequest', async () => {
    script = async (channel) => {
      await channel.write(greeting());
      await channel.read();
      await channel.write(buildAuthSwitchRequest({ pluginName: 'mysql_native_password', pluginData: Buffer.concat([SCRAMBLE, Buffer.of(0)]) }));
      await channel.read();
      await channel.write(buildAuthSwitchRequest({ pluginName: 'mysql_native_password', pluginData: Buffer.concat([SCRAMBLE, Buffer.of(0)]) }));
    };
    await expect(connect({ socketPath, user: 'u', password: 'p' })).rejects.toMatchObject({
      code: 'ERR_MALFORMED_PACKET',
      message: expect.stringContaining('second time'),
    });
  });

  it("refuses the pre-4.1 password scheme's short switch request", async () => {
    script = async (channel) => {
      await channel.write(greeting());
      await channel.read();
      await channel.write(Buffer.of(0xfe));
    };
    await expect(connect({ socketPath, user: 'u', password: 'p' })).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_AUTH' });
  });

  it('refuses AuthMoreData after the plugin finished', async () => {
    script = async (channel) => {
      await channel.write(greeting());
      await channel.read();
      await channel.write(buildAuthMoreData(Buffer.from([3])));
    };
    await expect(connect({ socketPath, user: 'u', password: 'p' })).rejects.toMatchObject({ code: 'ERR_MALFORMED_PACKET' });
  });

  it('reports a server that hangs up mid-handshake as a lost connection', async () => {
    script = async (channel, socket) => {
      await channel.write(greeting());
      await channel.read();
      socket.destroy();
    };
    await expect(connect({ socketPath, user: 'u', password: 'p' })).rejects.toMatchObject({ code: 'ERR_SERVER_LOST', errno: 2013 });
  });

  it('gives up on a silent server at its timeout', async () => {
    script = async () => {};
    await expect(connect({ socketPath, user: 'u', timeout: 100 })).rejects.toMatchObject({ code: 'ERR_CONNECT_TIMEOUT', errno: 2013 });
  });

  it('refuses bad options before connecting, always as a rejection', async () => {
    const refused: Array<[object, string]> = [
      [{ user: 'u' }, 'ERR_INVALID_ARG_VALUE'],
      [{ socketPath, user: 42 }, 'ERR_INVALID_ARG_TYPE'],
      [{ host: '127.0.0.1', port: 70000, user: 'u' }, 'ERR_INVALID_ARG_VALUE'],
      [{ socketPath, user: 'u', timeout: -1 }, 'ERR_INVALID_ARG_VALUE'],
      [{ socketPath, user: 'u', timeout: Number.NaN }, 'ERR_INVALID_ARG_VALUE'],
      [{ socketPath, user: 'u', maxPayloadSize: 0 }, 'ERR_INVALID_ARG_VALUE'],
      [{ socketPath, user: 'u', plugins: [null] }, 'ERR_INVALID_ARG_TYPE'],
      [{ socketPath, user: 'u', plugins: {} }, 'ERR_INVALID_ARG_TYPE'],
      [{ socketPath, user: 'u', connectAttributes: { a: 1 } }, 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [options, code] of refused) {
      await expect(connect(options as never)).rejects.toMatchObject({ code });
    }
  });

  it('refuses a handshake packet over its size limit (default 64 KiB)', async () => {
    script = async (channel) => {
      await channel.write(Buffer.alloc(65 * 1024, 0x0a));
    };
    await expect(connect({ socketPath, user: 'u' })).rejects.toMatchObject({ code: 'ERR_PACKET_TOO_LARGE' });
  });

  it('refuses a packet out of sequence', async () => {
    script = async (_channel, socket) => {
      socket.write(encodePacket(greeting(), 3).frame);
    };
    await expect(connect({ socketPath, user: 'u' })).rejects.toMatchObject({ code: 'ERR_PACKET_SEQUENCE' });
  });

  it("passes on the socket's own error", async () => {
    await expect(connect({ socketPath: path.join(dir.path, 'nobody-listens.sock'), user: 'u' })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  // Runs last: the codes the tests above saw must all be in connect()'s two docs.
  it("documents every code it rejected with, in the README's connect() section and its doc comment", () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### connect()'), readme.indexOf('### mysql2'));
    const source = fs.readFileSync(path.join(__dirname, '..', '..', 'lib', 'client', 'connect.ts'), 'utf8');
    const docComment = source.slice(source.lastIndexOf('/**', source.indexOf('export function connect(')), source.indexOf('export function connect('));
    expect(rejectionCodes.size).toBeGreaterThan(0);
    expect([...rejectionCodes].filter((code) => !section.includes(code))).toEqual([]);
    expect([...rejectionCodes].filter((code) => !docComment.includes(code))).toEqual([]);
  });
});
