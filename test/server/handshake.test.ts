// The server handshake from the wire: hand-built clients check MySQL's restart semantics
// (AuthSwitchRequest, AuthMoreData), 1251, malformed handshakes, pipelined bytes, leftover hand-over
// and the connect timeout.
import crypto from 'crypto';
import net from 'net';
import path from 'path';

import { Accounts } from '../../lib/server/catalog/accounts';
import { encodePacket } from '../../lib/protocol/framing';
import { PacketChannel } from '../../lib/transport/packet-channel';
import { isAuthSwitchRequest, parseAuthMoreData, parseAuthSwitchRequest } from '../../lib/protocol/auth-exchange';
import { Capability, Command } from '../../lib/protocol/constants';
import { buildHandshakeResponse41, buildSslRequest, HandshakeResponse41, HandshakeV10, parseHandshakeV10 } from '../../lib/protocol/handshake';
import { isErrPacket, isOkPacket, parseErr } from '../../lib/protocol/responses';
import { readTextResultSet } from '../../lib/protocol/result-set';
import { acceptConnection } from '../../lib/server/handshake';
import type { AuthenticatedConnection } from '../../lib/server/connection';
import { AuthServer, createServer } from '../../lib/server/listener';
import { HandshakeError } from '../../lib/server/refusal';
import { ServerAuthPlugin } from '../../lib/server/plugin';
import { scrambleNativePassword } from '../../lib/auth/native-password';
import { lookupUserSync } from '../../lib/peer/users';
import { CR_ERROR, CR_OK, CrCode } from '../../lib/auth/vio';
import { close, listen, tempDir, TempDir } from '../helpers/sockets';

const me = lookupUserSync(process.getuid!())!.name;
const CLIENT_CAPS = (Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH |
  Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA | Capability.DEPRECATE_EOF) >>> 0;

// A plugin that needs two round trips of its own, to see AuthSwitchRequest then AuthMoreData.
const twoStepPlugin: ServerAuthPlugin = {
  name: 'two_step',
  clientPluginName: 'two_step_client',
  async authenticate(vio) {
    await vio.writePacket(Buffer.from('first'));
    const one = await vio.readPacket();
    await vio.writePacket(Buffer.from('second'));
    const two = await vio.readPacket();
    return one.toString() === 'one' && two.toString() === 'two' ? CR_OK : CR_ERROR;
  },
};

// Plugins that misbehave: the server must refuse whatever they return.
const swallowingPlugin: ServerAuthPlugin = {
  name: 'swallower',
  clientPluginName: 'swallower_client',
  async authenticate(vio): Promise<CrCode> {
    await vio.readPacket().catch(() => Buffer.alloc(0));
    return CR_OK;
  },
};
const throwingPlugin: ServerAuthPlugin = {
  name: 'thrower',
  clientPluginName: null,
  authenticate() {
    throw new Error('plugin bug');
  },
};
const proxyingPlugin: ServerAuthPlugin = {
  name: 'proxier',
  clientPluginName: null,
  authenticate(_vio, info) {
    info.authenticatedAs = 'root';
    return CR_OK;
  },
};

function accounts(): Accounts {
  const list = new Accounts();
  list.create({ user: me, host: 'localhost', plugin: 'auth_socket' });
  list.create({ user: 'stranger', host: 'localhost', plugin: 'auth_socket' });
  list.create({ user: 'carol', host: 'localhost', plugin: 'mysql_native_password', password: 's3cret' });
  list.create({ user: 'simon', host: 'localhost', plugin: 'auth_simple', authenticationString: 'open sesame' });
  list.create({ user: 'tess', host: 'localhost', plugin: 'two_step' });
  list.create({ user: 'sally', host: 'localhost', plugin: 'swallower' });
  list.create({ user: 'theo', host: 'localhost', plugin: 'thrower' });
  list.create({ user: 'pete', host: 'localhost', plugin: 'proxier' });
  return list;
}

let dir: TempDir;
let socketPath: string;
let server: AuthServer;
const refusals: HandshakeError[] = [];

beforeAll(async () => {
  dir = tempDir();
  socketPath = path.join(dir.path, 'server.sock');
  server = createServer({ accounts: accounts(), plugins: [twoStepPlugin, swallowingPlugin, throwingPlugin, proxyingPlugin] });
  server.on('refuse', (error) => refusals.push(error));
  await listen(server, socketPath);
});

afterAll(async () => {
  await close(server);
  dir.remove();
});

interface Client {
  socket: net.Socket;
  channel: PacketChannel;
  greeting: HandshakeV10;
  closed: Promise<void>;
}

async function connect(where: string = socketPath): Promise<Client> {
  const socket = net.connect(where);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const channel = new PacketChannel(socket);
  const greeting = parseHandshakeV10(await channel.read());
  return { socket, channel, greeting, closed };
}

function response(overrides: Partial<HandshakeResponse41>): Buffer {
  return buildHandshakeResponse41({
    capabilities: CLIENT_CAPS,
    maxPacketSize: 1 << 24,
    characterSet: 45,
    user: me,
    authResponse: Buffer.alloc(0),
    database: null,
    clientPluginName: 'mysql_native_password',
    connectAttributes: null,
    ...overrides,
  });
}

interface Frame {
  sequenceId: number;
  payload: Buffer;
}

// Test-side reading of everything the server sends until it closes, whatever the sequence ids.
async function framesUntilClose(client: Client): Promise<Frame[]> {
  const chunks = [client.channel.detach()];
  client.socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  client.socket.resume();
  await client.closed;
  const bytes = Buffer.concat(chunks);
  const frames: Frame[] = [];
  for (let at = 0; at + 4 <= bytes.length; ) {
    const length = bytes.readUIntLE(at, 3);
    frames.push({ sequenceId: bytes[at + 3], payload: bytes.subarray(at + 4, at + 4 + length) });
    at += 4 + length;
  }
  return frames;
}

function errOf(frames: Frame[]): { errno: number; sqlState: string | null; message: string } {
  expect(frames).toHaveLength(1);
  expect(isErrPacket(frames[0].payload)).toBe(true);
  return parseErr(frames[0].payload);
}

async function expectLoginWorks(): Promise<void> {
  const client = await connect();
  await client.channel.write(response({}));
  expect(isOkPacket(await client.channel.read())).toBe(true);
  client.socket.destroy();
}

describe('the greeting', () => {
  it('offers mysql_native_password with a fresh 20-byte scramble of 7-bit bytes without NUL or $', async () => {
    const a = await connect();
    const b = await connect();
    for (const { greeting } of [a, b]) {
      expect(greeting.authPluginName).toBe('mysql_native_password');
      expect(greeting.authPluginData).toHaveLength(20);
      expect([...greeting.authPluginData].every((byte) => byte > 0 && byte < 0x80 && byte !== 0x24)).toBe(true);
      expect(greeting.capabilities & Capability.PLUGIN_AUTH).toBeTruthy();
      expect(greeting.capabilities & Capability.SSL).toBe(0);
    }
    expect(a.greeting.authPluginData.equals(b.greeting.authPluginData)).toBe(false);
    expect(a.greeting.connectionId).not.toBe(b.greeting.connectionId);
    a.socket.destroy();
    b.socket.destroy();
  });
});

describe('plugin restart semantics', () => {
  it("auth_socket takes the greeting plugin's reply, whatever it holds: no AuthSwitchRequest, straight to OK", async () => {
    const client = await connect();
    await client.channel.write(response({ authResponse: Buffer.from('not a proof') }));
    expect(isOkPacket(await client.channel.read())).toBe(true);
    client.socket.destroy();
  });

  // libmariadb's caching_sha2_password, client_ed25519 and sha256_password send an empty reply
  // when the greeting named another plugin, then wait for their data: an OK fails them with 2012.
  it.each(['caching_sha2_password', 'client_ed25519', 'sha256_password', 'some_other_plugin'])(
    'auth_socket restarts a %s client with the greeting plugin and scramble, then ignores its answer',
    async (clientPluginName) => {
      const client = await connect();
      await client.channel.write(response({ clientPluginName, authResponse: Buffer.alloc(0) }));
      expect(parseAuthSwitchRequest(await client.channel.read())).toEqual({
        pluginName: 'mysql_native_password',
        pluginData: Buffer.concat([client.greeting.authPluginData, Buffer.of(0)]),
      });
      await client.channel.write(Buffer.from('anything'));
      expect(isOkPacket(await client.channel.read())).toBe(true);
      client.socket.destroy();
    },
  );

  it('the restart does not let a wrong OS user in', async () => {
    const client = await connect();
    await client.channel.write(response({ user: 'stranger', clientPluginName: 'client_ed25519' }));
    expect(isAuthSwitchRequest(await client.channel.read())).toBe(true);
    await client.channel.write(Buffer.alloc(0));
    expect(errOf(await framesUntilClose(client))).toEqual({
      errno: 1698,
      sqlState: '28000',
      message: "Access denied for user 'stranger'@'localhost'",
    });
  });

  it('switches a client that spoke another plugin to auth_simple (which reads first: no data)', async () => {
    const client = await connect();
    await client.channel.write(response({ user: 'simon' }));
    const request = parseAuthSwitchRequest(await client.channel.read());
    expect(request).toEqual({ pluginName: 'auth_simple', pluginData: Buffer.alloc(0) });
    await client.channel.write(Buffer.from('open sesame\0'));
    expect(isOkPacket(await client.channel.read())).toBe(true);
    client.socket.destroy();
  });

  it('uses the first reply directly when the client already spoke auth_simple', async () => {
    const client = await connect();
    await client.channel.write(response({ user: 'simon', clientPluginName: 'auth_simple', authResponse: Buffer.from('open sesame\0') }));
    expect(isOkPacket(await client.channel.read())).toBe(true);
    client.socket.destroy();
  });

  it('refuses a wrong auth_simple password with 1045 (using password: YES)', async () => {
    const client = await connect();
    await client.channel.write(response({ user: 'simon', clientPluginName: 'auth_simple', authResponse: Buffer.from('open sesame!\0') }));
    expect(errOf(await framesUntilClose(client))).toEqual({
      errno: 1045,
      sqlState: '28000',
      message: "Access denied for user 'simon'@'localhost' (using password: YES)",
    });
  });

  it('switches a caching_sha2_password client back to mysql_native_password for a native account', async () => {
    const client = await connect();
    await client.channel.write(response({ user: 'carol', clientPluginName: 'caching_sha2_password', authResponse: Buffer.alloc(32, 1) }));
    const request = parseAuthSwitchRequest(await client.channel.read());
    expect(request.pluginName).toBe('mysql_native_password');
    expect(request.pluginData).toEqual(Buffer.concat([client.greeting.authPluginData, Buffer.of(0)]));
    await client.channel.write(scrambleNativePassword('s3cret', request.pluginData));
    expect(isOkPacket(await client.channel.read())).toBe(true);
    client.socket.destroy();
  });

  it("sends a plugin's first packet as AuthSwitchRequest and later ones as AuthMoreData", async () => {
    const client = await connect();
    await client.channel.write(response({ user: 'tess' }));
    expect(parseAuthSwitchRequest(await client.channel.read())).toEqual({ pluginName: 'two_step_client', pluginData: Buffer.from('first') });
    await client.channel.write(Buffer.from('one'));
    expect(parseAuthMoreData(await client.channel.read())).toEqual(Buffer.from('second'));
    await client.channel.write(Buffer.from('two'));
    expect(isOkPacket(await client.channel.read())).toBe(true);
    client.socket.destroy();
  });

  it('compares client plugin names case-insensitively, as MySQL does', async () => {
    const client = await connect();
    await client.channel.write(response({ user: 'simon', clientPluginName: 'AUTH_Simple', authResponse: Buffer.from('open sesame\0') }));
    expect(isOkPacket(await client.channel.read())).toBe(true);
    client.socket.destroy();
  });

  it("takes a user name in single quotes without them, as MySQL does", async () => {
    const client = await connect();
    client.socket.write(encodePacket(response({ user: `'${me}'` }), 1).frame);
    client.socket.write(encodePacket(Buffer.concat([Buffer.of(Command.QUERY), Buffer.from('SELECT USER()')]), 0).frame);
    client.socket.write(encodePacket(Buffer.of(Command.QUIT), 0).frame);
    const frames = await framesUntilClose(client);
    expect(isOkPacket(frames[0].payload)).toBe(true);
    expect(frames.some((frame) => frame.payload.includes(`${me}@localhost`))).toBe(true);
  });

  it('answers a client without CLIENT_PLUGIN_AUTH for an auth_socket account with 1251', async () => {
    const client = await connect();
    const capabilities = CLIENT_CAPS & ~Capability.PLUGIN_AUTH & ~Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA;
    await client.channel.write(response({ capabilities, clientPluginName: null }));
    expect(errOf(await framesUntilClose(client))).toEqual({
      errno: 1251,
      sqlState: '08004',
      message: 'Client does not support authentication protocol requested by server; consider upgrading MySQL client',
    });
  });

  it('still lets a client without CLIENT_PLUGIN_AUTH use a mysql_native_password account', async () => {
    const client = await connect();
    const capabilities = CLIENT_CAPS & ~Capability.PLUGIN_AUTH & ~Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA;
    const proof = scrambleNativePassword('s3cret', client.greeting.authPluginData);
    await client.channel.write(response({ capabilities, user: 'carol', authResponse: proof, clientPluginName: null }));
    expect(isOkPacket(await client.channel.read())).toBe(true);
    client.socket.destroy();
  });
});

describe('plugins cannot let a client in by mistake', () => {
  it('a plugin that swallows a failed read and returns CR_OK is refused', async () => {
    const client = await connect();
    await client.channel.write(response({ user: 'sally' }));
    expect(parseAuthSwitchRequest(await client.channel.read()).pluginName).toBe('swallower_client');
    client.socket.write(Buffer.from([0xff, 0xff, 0xff, 3])); // announces a 16 MiB reply
    expect(errOf(await framesUntilClose(client))).toEqual({
      errno: 1045,
      sqlState: '28000',
      message: "Access denied for user 'sally'@'localhost' (using password: NO)",
    });
    expect(refusals.at(-1)).toMatchObject({ code: 'ERR_ACCESS_DENIED', reason: 'plugin-error' });
  });

  it('a plugin that throws is a refusal', async () => {
    const client = await connect();
    await client.channel.write(response({ user: 'theo' }));
    expect(errOf(await framesUntilClose(client)).errno).toBe(1045);
    expect(refusals.at(-1)).toMatchObject({ reason: 'plugin-error' });
  });

  it('a plugin that authenticates as another user is refused (no proxy users)', async () => {
    const client = await connect();
    await client.channel.write(response({ user: 'pete' }));
    expect(errOf(await framesUntilClose(client)).errno).toBe(1045);
    expect(refusals.at(-1)).toMatchObject({ reason: 'proxy-user-not-supported' });
  });
});

describe('malformed handshakes get 1043 or a close, never an OK', () => {
  type Attack = (client: Client) => void;
  const frame = (payload: Buffer, sequenceId: number) => encodePacket(payload, sequenceId).frame;
  const valid = () => response({});
  const attacks: Array<[string, Attack]> = [
    ['a truncated response', (c) => c.socket.write(frame(valid().subarray(0, 40), 1))],
    ['an auth length past the end', (c) => {
      const payload = valid();
      payload[32 + Buffer.byteLength(me) + 1] = 0xfc; // lenenc: 2-byte length follows
      c.socket.write(frame(Buffer.concat([payload, Buffer.from([0xff])]), 1));
    }],
    ['the wrong sequence id', (c) => c.socket.write(frame(valid(), 0))],
    ['an oversized packet', (c) => c.socket.write(Buffer.from([0xff, 0xff, 0xff, 1, 0, 0]))],
    ['an empty packet', (c) => c.socket.write(frame(Buffer.alloc(0), 1))],
    ['an SSLRequest though TLS was not offered', (c) => c.socket.write(frame(buildSslRequest(CLIENT_CAPS, 1 << 24, 45), 1))],
    // A client that believes it is on TLS must not log in in clear (MySQL: 1043).
    ['a full response with CLIENT_SSL though TLS was not offered', (c) =>
      c.socket.write(frame(response({ capabilities: CLIENT_CAPS | Capability.SSL }), 1))],
    ['a pre-4.1 response', (c) => {
      const payload = valid();
      payload.writeUInt32LE(CLIENT_CAPS & ~Capability.PROTOCOL_41, 0);
      c.socket.write(frame(payload, 1));
    }],
    ['an HTTP request', (c) => c.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['a user name that is not UTF-8', (c) => {
      const payload = valid();
      payload[32] = 0xff;
      c.socket.write(frame(payload, 1));
    }],
  ];

  it.each(attacks)('%s', async (_name, attack) => {
    const client = await connect();
    attack(client);
    const err = errOf(await framesUntilClose(client));
    expect(err).toEqual({ errno: 1043, sqlState: '08S01', message: 'Bad handshake' });
  });

  it('random garbage after the greeting never logs in', async () => {
    const garbageServer = createServer({ accounts: accounts(), connectTimeout: 300 });
    const garbagePath = path.join(dir.path, 'garbage.sock');
    await listen(garbageServer, garbagePath);
    for (let i = 0; i < 40; i++) {
      const client = await connect(garbagePath);
      const garbage = crypto.randomBytes(1 + (i * 37) % 300);
      client.socket.write(garbage);
      const frames = await framesUntilClose(client);
      // Either a bad handshake or, for a frame that never completes, the timeout's close.
      if (frames.length > 0) expect(errOf(frames).errno).toBe(1043);
    }
    await close(garbageServer);
    await expectLoginWorks();
  });

  it('random payloads in well-formed frames get an ERR, never an OK', async () => {
    for (let i = 0; i < 40; i++) {
      const client = await connect();
      // Half of them start like a real 4.1 response so parsing gets further in.
      const payload = crypto.randomBytes(4 + (i * 53) % 400);
      if (i % 2 === 0) payload.writeUInt32LE(CLIENT_CAPS, 0);
      client.socket.write(encodePacket(payload, 1).frame);
      const frames = await framesUntilClose(client);
      expect(frames.some((frame) => isOkPacket(frame.payload))).toBe(false);
      // An ERR, unless the bytes happened to parse and the (decoy) plugin asked for more: then
      // the connect timeout closes the connection.
      const last = frames[frames.length - 1].payload;
      expect(isErrPacket(last) || isAuthSwitchRequest(last)).toBe(true);
    }
  });

  it('leaves the server serving', async () => {
    await expectLoginWorks();
    expect(refusals.filter((e) => e.code === 'ERR_BAD_HANDSHAKE').map((e) => e.reason)).toEqual(
      expect.arrayContaining(['malformed-response', 'bad-sequence', 'oversized-packet']),
    );
  });
});

describe("ERR messages are MySQL's: names cut as '%-.48s'@'%-.64s', the whole capped at 511 bytes", () => {
  it.each([
    ['ASCII', 'u'.repeat(5000)],
    // 2-byte characters: MySQL's precision counts characters, and a cut never splits one.
    ['multi-byte', 'é'.repeat(3000)],
  ])('a %s user name of thousands of bytes comes back as its first 48 characters', async (_kind, user) => {
    const client = await connect();
    await client.channel.write(response({ user }));
    const frames = await framesUntilClose(client);
    expect(frames).toHaveLength(1);
    const err = parseErr(frames[0].payload);
    expect(err).toEqual({
      errno: 1045,
      sqlState: '28000',
      message: `Access denied for user '${[...user].slice(0, 48).join('')}'@'localhost' (using password: NO)`,
    });
    expect(frames[0].payload.length).toBeLessThan(9 + 511);
  });

  it('a client that names no plugin at all is taken as mysql_native_password (no restart), as MySQL takes it', async () => {
    const client = await connect();
    // CLIENT_PLUGIN_AUTH set, the response ending before the plugin name.
    await client.channel.write(response({ clientPluginName: null, capabilities: CLIENT_CAPS }).subarray(0, 32 + Buffer.byteLength(me) + 2));
    expect(isOkPacket(await client.channel.read())).toBe(true);
    client.socket.destroy();
  });
});

describe('bytes sent before the decision', () => {
  function query(sql: string): Buffer {
    return encodePacket(Buffer.concat([Buffer.of(Command.QUERY), Buffer.from(sql)]), 0).frame;
  }
  const quit = encodePacket(Buffer.of(Command.QUIT), 0).frame;

  it('a query sent with the response is answered only after the OK', async () => {
    const client = await connect();
    client.socket.write(Buffer.concat([encodePacket(response({}), 1).frame, query('SELECT USER()'), quit]));
    const frames = await framesUntilClose(client);
    expect(isOkPacket(frames[0].payload)).toBe(true);
    expect(frames[0].sequenceId).toBe(2);
    const rest = frames.slice(2);
    const result = await readTextResultSet(frames[1].payload, async () => rest.shift()!.payload, Capability.DEPRECATE_EOF);
    expect(result.rows).toEqual([[`${me}@localhost`]]);
    expect(rest).toHaveLength(0);
  });

  it('a query sent with a refused response is never answered', async () => {
    const client = await connect();
    client.socket.write(Buffer.concat([encodePacket(response({ user: 'stranger' }), 1).frame, query('SELECT USER()'), quit]));
    expect(errOf(await framesUntilClose(client))).toEqual({
      errno: 1698,
      sqlState: '28000',
      message: "Access denied for user 'stranger'@'localhost'",
    });
  });

  it('acceptConnection hands the bytes after the last auth packet back byte-exact', async () => {
    const plain = net.createServer();
    const plainPath = path.join(dir.path, 'plain.sock');
    const accepted = new Promise<[net.Socket, AuthenticatedConnection]>((resolve, reject) =>
      plain.once('connection', (socket) => acceptConnection(socket, { accounts: accounts() }).then((c) => resolve([socket, c]), reject)),
    );
    await listen(plain, plainPath);
    const client = await connect(plainPath);
    const trailing = Buffer.concat([query('SELECT 1'), Buffer.from([0xde, 0xad, 0xbe])]);
    const withEverything = { database: 'shop', capabilities: CLIENT_CAPS | Capability.CONNECT_WITH_DB | Capability.CONNECT_ATTRS, connectAttributes: { _client_name: 'raw' } };
    // Back to back, without waiting for the server.
    void client.channel.write(response(withEverything));
    client.socket.write(trailing);
    const [socket, connection] = await accepted;
    expect(connection).toMatchObject({
      user: me,
      host: 'localhost',
      authenticatedAs: me,
      externalUser: me,
      plugin: 'auth_socket',
      database: 'shop',
      connectAttributes: { _client_name: 'raw' },
    });
    expect(connection.account).toMatchObject({ user: me, host: 'localhost' });
    expect(connection.capabilities & Capability.CONNECT_WITH_DB).toBeTruthy();
    expect(connection.capabilities & Capability.SSL).toBe(0);
    // The OK arrived, and nothing answered the query.
    expect(isOkPacket(await client.channel.read())).toBe(true);
    // What the handshake took from the socket comes back in leftover; the rest is still unread.
    const received = [connection.leftover];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.resume();
    client.socket.end();
    await new Promise((resolve) => socket.once('end', resolve));
    expect(Buffer.concat(received)).toEqual(trailing);
    socket.destroy();
    await close(plain);
  });

  it("a 'session' listener takes the authenticated socket over, leftover included", async () => {
    const takeover = createServer({ accounts: accounts() });
    const takeoverPath = path.join(dir.path, 'takeover.sock');
    const session = new Promise<[net.Socket, AuthenticatedConnection]>((resolve) => takeover.on('session', (s, c) => resolve([s, c])));
    await listen(takeover, takeoverPath);
    const client = await connect(takeoverPath);
    void client.channel.write(response({}));
    client.socket.write('hello');
    const [socket, connection] = await session;
    const received = [connection.leftover];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.resume();
    expect(isOkPacket(await client.channel.read())).toBe(true);
    client.socket.end();
    await new Promise((resolve) => socket.once('end', resolve));
    expect(Buffer.concat(received).toString()).toBe('hello');
    socket.destroy();
    await close(takeover);
  });
});

describe('the minimal session', () => {
  async function command(client: Client, payload: Buffer): Promise<Buffer> {
    client.channel.resetSequence();
    await client.channel.write(payload);
    return client.channel.read();
  }

  it('answers COM_PING, COM_INIT_DB, the SELECTs it knows, 1235 for the rest, and closes on COM_QUIT', async () => {
    const client = await connect();
    await client.channel.write(response({}));
    expect(isOkPacket(await client.channel.read())).toBe(true);
    expect(isOkPacket(await command(client, Buffer.of(Command.PING)))).toBe(true);
    expect(isOkPacket(await command(client, Buffer.concat([Buffer.of(Command.INIT_DB), Buffer.from('shop')])))).toBe(true);
    const sql = "SELECT DATABASE() AS db, CONNECTION_ID(), 'x', 42, current_user, @@version";
    const first = await command(client, Buffer.concat([Buffer.of(Command.QUERY), Buffer.from(sql)]));
    const result = await readTextResultSet(first, () => client.channel.read(), Capability.DEPRECATE_EOF);
    expect(result.columns.map((c) => c.name)).toEqual(['db', 'CONNECTION_ID()', "'x'", '42', 'current_user', '@@version']);
    expect(result.rows).toEqual([['shop', String(client.greeting.connectionId), 'x', '42', `${me}@localhost`, client.greeting.serverVersion]]);
    for (const unknown of [Buffer.of(Command.STMT_PREPARE, 0x31), Buffer.alloc(0), Buffer.concat([Buffer.of(Command.QUERY), Buffer.from('LOCK TABLES t READ')])]) {
      const err = parseErr(await command(client, unknown));
      expect(err).toMatchObject({ errno: 1235, sqlState: '42000' });
    }
    client.channel.resetSequence();
    await client.channel.write(Buffer.of(Command.QUIT));
    expect(await framesUntilClose(client)).toEqual([]);
  });
});

describe('connect timeout', () => {
  it('closes a client that never answers the greeting', async () => {
    const slow = createServer({ accounts: accounts(), connectTimeout: 50 });
    const slowPath = path.join(dir.path, 'slow.sock');
    const refused = new Promise<HandshakeError>((resolve) => slow.once('refuse', resolve));
    await listen(slow, slowPath);
    const client = await connect(slowPath);
    expect(await framesUntilClose(client)).toEqual([]);
    expect(await refused).toMatchObject({ code: 'ERR_CONNECT_TIMEOUT', errno: null, reason: 'connect-timeout' });
    await close(slow);
  });
});
