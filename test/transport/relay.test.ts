// PacketPump over real Unix-socket pairs: every byte written on in order whatever the chunking,
// each packet's header and head shown once (continuations of a 16 MiB packet marked), a held
// packet handed over with every byte after it, and a slow reader slowing the source down.
import crypto from 'crypto';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';

import { HEAD_BYTES, PacketHead, PacketPump } from '../../lib/transport/relay';

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-test-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let pairs = 0;
/** Two connected sockets: [our end that writes, the end the pump reads]. */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const file = path.join(dir, `pair-${pairs++}.sock`);
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(file, resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const near = net.connect(file);
  await new Promise((resolve) => near.once('connect', resolve));
  const far = await accepted;
  server.close();
  return [near, far];
}

function packet(sequenceId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequenceId;
  return Buffer.concat([header, payload]);
}

function collect(socket: net.Socket): () => Buffer {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk) => chunks.push(chunk));
  return () => Buffer.concat(chunks);
}

async function writeChunked(socket: net.Socket, bytes: Buffer, sizes: () => number): Promise<void> {
  for (let offset = 0; offset < bytes.length; ) {
    const size = Math.min(sizes(), bytes.length - offset);
    socket.write(bytes.subarray(offset, offset + size));
    offset += size;
    // Separate reads on the pump's side, most of the time.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

async function pumpSetup(inspect: (packet: PacketHead) => 'forward' | 'hold') {
  const [writer, source] = await socketPair();
  const [destination, reader] = await socketPair();
  const received = collect(reader);
  const seen: Array<{ length: number; sequenceId: number; head: Buffer; first: boolean }> = [];
  const pump = new PacketPump(source, destination, (p) => {
    seen.push({ ...p, head: Buffer.from(p.head) });
    return inspect(p);
  });
  const close = () => [writer, source, destination, reader].forEach((s) => s.destroy());
  return { writer, source, pump, received, seen, close };
}

test.each([1, 3, 7, 64, 1000])('forwards every byte in order with chunks of up to %i bytes, each packet seen once', async (max) => {
  const payloads = Array.from({ length: 60 }, (_, i) => crypto.randomBytes([0, 1, 5, HEAD_BYTES - 1, HEAD_BYTES, HEAD_BYTES + 1, 300][i % 7]));
  const stream = Buffer.concat(payloads.map((p, i) => packet(i % 256, p)));
  const t = await pumpSetup(() => 'forward');
  void t.pump.run(Buffer.alloc(0));
  await writeChunked(t.writer, stream, () => 1 + crypto.randomInt(max));
  await until(() => t.received().length === stream.length);
  expect(t.received().equals(stream)).toBe(true);
  expect(t.seen.map((s) => s.length)).toEqual(payloads.map((p) => p.length));
  expect(t.seen.map((s) => s.sequenceId)).toEqual(payloads.map((_, i) => i));
  t.seen.forEach((s, i) => expect(s.head.equals(payloads[i].subarray(0, HEAD_BYTES))).toBe(true));
  expect(t.pump.atBoundary).toBe(true);
  t.close();
});

test('holds a packet: bytes before it forwarded, it and all after it handed over, the source left unread', async () => {
  const before = [crypto.randomBytes(10), crypto.randomBytes(200)].map((p, i) => packet(i, p));
  const held = packet(0, Buffer.concat([Buffer.of(0x11), crypto.randomBytes(40)]));
  const after = packet(0, crypto.randomBytes(500));
  const stream = Buffer.concat([...before, held, after]);
  for (const max of [1, 5, 1000]) {
    const t = await pumpSetup((p) => (p.sequenceId === 0 && p.head[0] === 0x11 ? 'hold' : 'forward'));
    const handed = t.pump.run(Buffer.alloc(0));
    await writeChunked(t.writer, stream, () => 1 + crypto.randomInt(max));
    const bytes = await handed;
    const rest = collect(t.source);
    t.source.resume();
    const tail = Buffer.concat([held, after]);
    await until(() => bytes.length + rest().length === tail.length);
    expect(Buffer.concat([bytes, rest()]).equals(tail)).toBe(true);
    await until(() => t.received().length === Buffer.concat(before).length);
    expect(t.received().equals(Buffer.concat(before))).toBe(true);
    t.close();
  }
});

test('initial bytes are pumped first and may themselves hold', async () => {
  const t = await pumpSetup((p) => (p.head[0] === 0x11 ? 'hold' : 'forward'));
  const first = packet(0, Buffer.from('first'));
  const held = packet(0, Buffer.of(0x11, 1, 2));
  const bytes = await t.pump.run(Buffer.concat([first, held]));
  expect(bytes.equals(held)).toBe(true);
  await until(() => t.received().length === first.length);
  expect(t.received().equals(first)).toBe(true);
  t.close();
});

test('a packet over 16 MiB passes byte-exact; its continuation is marked as such', async () => {
  const payload = crypto.randomBytes(0xffffff + 1000);
  const stream = Buffer.concat([packet(0, payload.subarray(0, 0xffffff)), packet(1, payload.subarray(0xffffff)), packet(0, Buffer.from('next'))]);
  const t = await pumpSetup(() => 'forward');
  void t.pump.run(Buffer.alloc(0));
  t.writer.write(stream);
  await until(() => t.received().length === stream.length);
  expect(crypto.createHash('sha256').update(t.received()).digest('hex')).toBe(crypto.createHash('sha256').update(stream).digest('hex'));
  expect(t.seen.map((s) => [s.length, s.first])).toEqual([[0xffffff, true], [1000, false], [4, true]]);
  t.close();
});

test('a reader that does not read pauses the source; everything arrives once it reads', async () => {
  const [writer, source] = await socketPair();
  const [destination, reader] = await socketPair();
  reader.pause();
  const pump = new PacketPump(source, destination, () => 'forward');
  void pump.run(Buffer.alloc(0));
  const stream = Buffer.concat(Array.from({ length: 64 }, (_, i) => packet(i, crypto.randomBytes(64 * 1024))));
  writer.write(stream);
  await until(() => source.isPaused());
  expect(destination.writableLength).toBeLessThan(stream.length);
  const received = collect(reader);
  reader.resume();
  await until(() => received().length === stream.length);
  expect(received().equals(stream)).toBe(true);
  [writer, source, destination, reader].forEach((s) => s.destroy());
});
