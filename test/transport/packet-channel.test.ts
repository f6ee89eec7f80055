// PacketChannel over real connected Unix socket pairs.
import net from 'net';

import { errorCode } from '../../lib/errors';
import { PacketChannel } from '../../lib/transport/packet-channel';
import { encodePacket, MAX_PHYSICAL_PAYLOAD } from '../../lib/protocol/framing';
import { socketPair } from '../../lib/peer/credentials';

const opened: net.Socket[] = [];

function pair(): [net.Socket, net.Socket] {
  const [a, b] = socketPair();
  const sockets: [net.Socket, net.Socket] = [new net.Socket({ fd: a }), new net.Socket({ fd: b })];
  opened.push(...sockets);
  return sockets;
}

afterEach(() => {
  for (const socket of opened.splice(0)) socket.destroy();
});

function frame(payload: string | Buffer, sequenceId: number): Buffer {
  return encodePacket(Buffer.from(payload), sequenceId).frame;
}

function rawWrite(socket: net.Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(bytes, (error) => (error ? reject(error) : resolve())));
}

function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => errorCode(error),
  );
}

// The next `size` bytes of the socket, read as a new owner would: listen, then resume.
function nextBytes(socket: net.Socket, size: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= size) {
        socket.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on('data', onData);
    socket.resume();
  });
}

// A packet arriving later than its read: lets the event loop turn until the bytes were delivered.
function settleIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('PacketChannel', () => {
  it('runs a handshake-shaped exchange with one sequence counter per connection', async () => {
    const [serverSocket, clientSocket] = pair();
    const server = new PacketChannel(serverSocket);
    const client = new PacketChannel(clientSocket);

    await server.write(Buffer.from('greeting'));
    expect(server.sequenceId).toBe(1);
    expect((await client.read()).toString()).toBe('greeting');
    expect(client.sequenceId).toBe(1);
    await client.write(Buffer.from('response'));
    expect(client.sequenceId).toBe(2);
    expect((await server.read()).toString()).toBe('response');
    expect(server.sequenceId).toBe(2);
    await server.write(Buffer.from('ok'));
    expect((await client.read()).toString()).toBe('ok');
    expect(client.sequenceId).toBe(3);

    server.resetSequence();
    client.resetSequence();
    expect(server.sequenceId).toBe(0);
    await client.write(Buffer.from('command'));
    expect((await server.read()).toString()).toBe('command');
    expect(server.sequenceId).toBe(1);
  });

  it('reads a packet that arrives one byte at a time', async () => {
    const [serverSocket, clientSocket] = pair();
    const server = new PacketChannel(serverSocket);
    const reading = server.read();
    for (const byte of frame('split', 0)) {
      await rawWrite(clientSocket, Buffer.from([byte]));
      await settleIo();
    }
    expect((await reading).toString()).toBe('split');
  });

  it('reads whole packets and packets split across chunks alike, in order, in one stream', async () => {
    const [serverSocket, clientSocket] = pair();
    const server = new PacketChannel(serverSocket);
    const second = frame('second, split', 1);
    // One chunk: a whole packet and the start of the next; then the rest of it with a whole third.
    await rawWrite(clientSocket, Buffer.concat([frame('first', 0), second.subarray(0, 6)]));
    expect((await server.read()).toString()).toBe('first');
    await settleIo();
    await rawWrite(clientSocket, Buffer.concat([second.subarray(6), frame('third', 2)]));
    expect((await server.read()).toString()).toBe('second, split');
    expect((await server.read()).toString()).toBe('third');
    await rawWrite(clientSocket, frame('fourth', 3));
    expect((await server.read()).toString()).toBe('fourth');
  });

  it('reads a logical packet of more than 0xFFFFFF bytes and counts its physical packets', async () => {
    const [serverSocket, clientSocket] = pair();
    const server = new PacketChannel(serverSocket, { maxPayloadSize: 2 * MAX_PHYSICAL_PAYLOAD });
    const payload = Buffer.alloc(MAX_PHYSICAL_PAYLOAD + 5, 0x61);
    payload[MAX_PHYSICAL_PAYLOAD + 4] = 0x62;
    const writing = rawWrite(clientSocket, frame(payload, 0));
    const received = await server.read();
    await writing;
    expect(received.equals(payload)).toBe(true);
    expect(server.sequenceId).toBe(2);
  });

  it('does not act on bytes sent after the packet it read, and hands them back byte-exact', async () => {
    const [serverSocket, clientSocket] = pair();
    const server = new PacketChannel(serverSocket);
    await server.write(Buffer.from('greeting'));
    // The response (id 1) and the first command (id 0 of a new command) back to back, then a
    // partial packet: to the handshake only the response belongs.
    const command = frame('SELECT 1', 0);
    const partial = frame('tail', 1).subarray(0, 6);
    await rawWrite(clientSocket, Buffer.concat([frame('response', 1), command, partial]));

    expect((await server.read()).toString()).toBe('response');
    await server.write(Buffer.from('ok'));
    await settleIo();
    expect(server.detach().equals(Buffer.concat([command, partial]))).toBe(true);
  });

  it('reads commands sent back to back, each restarting the sequence at 0', async () => {
    const [serverSocket, clientSocket] = pair();
    const server = new PacketChannel(serverSocket);
    await rawWrite(clientSocket, Buffer.concat([frame('ping', 0), frame('query', 0), frame('quit', 0)]));
    const commands: string[] = [];
    for (let i = 0; i < 3; i++) {
      server.resetSequence();
      commands.push((await server.read()).toString());
      await server.write(Buffer.from('answer'));
    }
    expect(commands).toEqual(['ping', 'query', 'quit']);
  });

  it('hands back unread packets and later data, and leaves the rest in the paused socket', async () => {
    const [serverSocket, clientSocket] = pair();
    const server = new PacketChannel(serverSocket);
    const first = frame('first', 0);
    const second = frame('second', 1);
    await rawWrite(clientSocket, Buffer.concat([first, second]));
    expect((await server.read()).toString()).toBe('first');
    await settleIo();
    const leftover = server.detach();
    expect(leftover.equals(second)).toBe(true);
    expect(serverSocket.isPaused()).toBe(true);

    const later = Buffer.from('after the hand-over');
    const arriving = nextBytes(serverSocket, later.length);
    await rawWrite(clientSocket, later);
    expect((await arriving).equals(later)).toBe(true);
  });

  it('leaves a later packet over its own size limit to the next owner, undecoded', async () => {
    const [serverSocket, clientSocket] = pair();
    const server = new PacketChannel(serverSocket, { maxPayloadSize: 64 });
    await rawWrite(clientSocket, frame('response', 0));
    expect((await server.read()).toString()).toBe('response');
    const session = frame(Buffer.alloc(4096, 0x71), 0);
    await rawWrite(clientSocket, session);
    await settleIo();
    const leftover = server.detach();
    const missing = session.length - leftover.length;
    const rest = missing > 0 ? await nextBytes(serverSocket, missing) : Buffer.alloc(0);
    expect(Buffer.concat([leftover, rest]).equals(session)).toBe(true);
  });

  it('rejects a packet with the wrong sequence id, on every later read too, and keeps its bytes', async () => {
    const [serverSocket, clientSocket] = pair();
    const server = new PacketChannel(serverSocket);
    const wrong = frame('wrong', 5);
    await rawWrite(clientSocket, wrong);
    expect(await codeOf(server.read())).toBe('ERR_PACKET_SEQUENCE');
    expect(await codeOf(server.read())).toBe('ERR_PACKET_SEQUENCE');
    expect(server.detach().equals(wrong)).toBe(true);
  });

  it('rejects a queued packet that does not follow the channel own write', async () => {
    const [serverSocket, clientSocket] = pair();
    const server = new PacketChannel(serverSocket);
    // Two packets in a row from the peer: the second takes the id of the server's reply.
    await rawWrite(clientSocket, Buffer.concat([frame('one', 0), frame('two', 1)]));
    expect((await server.read()).toString()).toBe('one');
    await server.write(Buffer.from('reply'));
    expect(await codeOf(server.read())).toBe('ERR_PACKET_SEQUENCE');
  });

  it('refuses an oversized packet from its header alone', async () => {
    const [serverSocket, clientSocket] = pair();
    const server = new PacketChannel(serverSocket, { maxPayloadSize: 1024 });
    const header = frame(Buffer.alloc(1025), 0).subarray(0, 4);
    const reading = server.read();
    await rawWrite(clientSocket, header);
    expect(await codeOf(reading)).toBe('ERR_PACKET_TOO_LARGE');
  });

  it('delivers what arrived before the peer closed, then ERR_CONNECTION_CLOSED', async () => {
    const [serverSocket, clientSocket] = pair();
    const server = new PacketChannel(serverSocket);
    clientSocket.end(Buffer.concat([frame('last words', 0), frame('cut', 1).subarray(0, 5)]));
    expect((await server.read()).toString()).toBe('last words');
    expect(await codeOf(server.read())).toBe('ERR_CONNECTION_CLOSED');
    expect(await codeOf(server.read())).toBe('ERR_CONNECTION_CLOSED');
  });

  it('rejects a waiting read when the socket is destroyed, and writes after that', async () => {
    const [serverSocket] = pair();
    const server = new PacketChannel(serverSocket);
    const reading = server.read();
    serverSocket.destroy();
    expect(await codeOf(reading)).toBe('ERR_CONNECTION_CLOSED');
    expect(await codeOf(server.write(Buffer.from('x')))).toBe('ERR_CONNECTION_CLOSED');
  });

  it('times a waiting read out when asked to, and still reads the packet that comes later', async () => {
    const [serverSocket, clientSocket] = pair();
    const server = new PacketChannel(serverSocket, { timeoutMs: 20 });
    expect(await codeOf(server.read())).toBe('ERR_PACKET_TIMEOUT');
    await rawWrite(clientSocket, frame('late', 0));
    expect((await server.read()).toString()).toBe('late');
  });

  it('allows one waiting read at a time, and none after detach', async () => {
    const [serverSocket] = pair();
    const server = new PacketChannel(serverSocket);
    const first = server.read();
    expect(await codeOf(server.read())).toBe('ERR_CHANNEL_BUSY');
    expect(server.detach().length).toBe(0);
    expect(await codeOf(first)).toBe('ERR_CHANNEL_DETACHED');
    expect(await codeOf(server.read())).toBe('ERR_CHANNEL_DETACHED');
    expect(await codeOf(server.write(Buffer.from('x')))).toBe('ERR_CHANNEL_DETACHED');
    expect(() => server.detach()).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_DETACHED' }));
  });

  it('rejects a bad timeout', () => {
    const [serverSocket] = pair();
    expect(() => new PacketChannel(serverSocket, { timeoutMs: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it('starts at the sequence id it is given (a channel opened inside TLS goes on counting)', async () => {
    const [serverSocket, clientSocket] = pair();
    const server = new PacketChannel(serverSocket, { sequenceId: 2 });
    expect(server.sequenceId).toBe(2);
    const sent = nextBytes(clientSocket, 5);
    await server.write(Buffer.from('x'));
    expect(await sent).toEqual(frame('x', 2));
    await rawWrite(clientSocket, frame('y', 3));
    expect((await server.read()).toString()).toBe('y');
    expect(server.sequenceId).toBe(4);
    for (const sequenceId of [-1, 256, 1.5]) {
      expect(() => new PacketChannel(serverSocket, { sequenceId })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
  });
});
