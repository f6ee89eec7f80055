// A server plugin's lifetime is bounded by its handshake: info.signal aborts on the connect
// timeout, on the client leaving and when the decision is made; the VIO is closed then; and a
// plugin that never settles keeps nothing of the connection alive.
import { execFileSync } from 'child_process';
import net from 'net';
import path from 'path';

import { Accounts } from '../../lib/server/catalog/accounts';
import { PacketChannel } from '../../lib/transport/packet-channel';
import { Capability } from '../../lib/protocol/constants';
import { buildHandshakeResponse41 } from '../../lib/protocol/handshake';
import { createServer } from '../../lib/server/listener';
import { HandshakeError } from '../../lib/server/refusal';
import { ServerAuthInfo, ServerAuthPlugin, ServerPluginVio } from '../../lib/server/plugin';
import { CR_OK, CrCode, VioProtocol } from '../../lib/auth/vio';
import { close, listen, tempDir, TempDir } from '../helpers/sockets';

let dir: TempDir;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => dir.remove());

interface Seen {
  vio: ServerPluginVio;
  info: ServerAuthInfo;
}

// Waits on its own promise until the handshake tells it to stop.
function waitingPlugin(seen: Seen[], settle: 'never' | 'on-abort'): ServerAuthPlugin {
  return {
    name: 'waiter',
    clientPluginName: null,
    async authenticate(vio, info): Promise<CrCode> {
      seen.push({ vio, info });
      await new Promise((resolve) => {
        if (settle === 'on-abort') info.signal.addEventListener('abort', resolve);
      });
      return CR_OK;
    },
  };
}

async function serve(plugin: ServerAuthPlugin, connectTimeout: number) {
  const accounts = new Accounts();
  accounts.create({ user: 'walt', host: 'localhost', plugin: 'waiter' });
  const server = createServer({ accounts, plugins: [plugin], connectTimeout });
  const refused = new Promise<HandshakeError>((resolve) => server.once('refuse', resolve));
  const socketPath = path.join(dir.path, `lifetime-${Math.random().toString(36).slice(2)}.sock`);
  await listen(server, socketPath);
  return { server, socketPath, refused };
}

async function sendResponse(socketPath: string): Promise<net.Socket> {
  const socket = net.connect(socketPath);
  socket.on('error', () => {});
  const channel = new PacketChannel(socket);
  await channel.read();
  await channel.write(
    buildHandshakeResponse41({
      capabilities: Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH,
      maxPacketSize: 1 << 24,
      characterSet: 45,
      user: 'walt',
      authResponse: Buffer.alloc(0),
      database: null,
      clientPluginName: 'mysql_native_password',
      connectAttributes: null,
    }),
  );
  return socket;
}

describe('info.signal and the VIO', () => {
  it('abort on the connect timeout; the VIO is closed and the plugin ignored after it', async () => {
    const seen: Seen[] = [];
    const { server, socketPath, refused } = await serve(waitingPlugin(seen, 'on-abort'), 150);
    const client = await sendResponse(socketPath);
    expect(await refused).toMatchObject({ code: 'ERR_CONNECT_TIMEOUT' });
    const [{ vio, info }] = seen;
    expect(info.signal.aborted).toBe(true);
    expect(info.signal.reason).toMatchObject({ code: 'ERR_CONNECT_TIMEOUT' });
    expect(() => vio.socket).toThrow(expect.objectContaining({ code: 'ERR_VIO_CLOSED' }));
    expect(vio.info().protocol).toBe(VioProtocol.INVALID);
    await expect(vio.readPacket()).rejects.toMatchObject({ code: 'ERR_VIO_CLOSED' });
    client.destroy();
    await close(server);
  });

  it('abort when the client leaves mid-plugin', async () => {
    const seen: Seen[] = [];
    const { server, socketPath, refused } = await serve(waitingPlugin(seen, 'on-abort'), 60_000);
    const client = await sendResponse(socketPath);
    while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    client.destroy();
    expect(await refused).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    expect(seen[0].info.signal.reason).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    await close(server);
  });

  it('a plugin that never settles holds no connection once its handshake ended (child process, real GC)', () => {
    const fixture = path.join(__dirname, '..', 'fixtures', 'never-settling-plugin.js');
    const out = execFileSync(process.execPath, ['--expose-gc', fixture, '50'], { encoding: 'utf8', timeout: 60_000 });
    // 50 timed out, every signal aborted, and no server-side socket is reachable any more.
    expect(JSON.parse(out)).toEqual({ timedOut: 50, alive: 0, signalsAborted: 50 });
  });
});
