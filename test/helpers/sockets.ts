// Real sockets for the tests: Unix-socket servers in private temp dirs, TCP on loopback, pairs.
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';

import { socketPair } from '../../lib/peer/credentials';

export interface TempDir {
  path: string;
  remove(): void;
}

/** A temp dir that other OS users may enter (mode 0711 plus a world-connectable socket). */
export function tempDir(prefix = 'auth-socket-test-'): TempDir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o711);
  return { path: dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function listen(server: net.Server, address: string | { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address, () => {
      server.off('error', reject);
      if (typeof address === 'string' && !address.startsWith('\0')) fs.chmodSync(address, 0o666);
      resolve();
    });
  });
}

export function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A connected pair of net.Sockets over the given server address: [server end, client end]. */
export async function connectedPair(address: string | { port: number; host: string }): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await listen(server, address);
  const target = typeof address === 'string' ? address : (server.address() as net.AddressInfo);
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect(typeof target === 'string' ? { path: target } : { port: target.port, host: '127.0.0.1' });
  await new Promise((resolve) => client.once('connect', resolve));
  const serverEnd = await accepted;
  server.close(); // stop listening; the accepted connection lives on
  return [serverEnd, client];
}

/** Both ends of a socketpair(2), wrapped as net.Sockets. */
export function socketPairSockets(): [net.Socket, net.Socket] {
  const [a, b] = socketPair();
  return [new net.Socket({ fd: a, readable: true, writable: true }), new net.Socket({ fd: b, readable: true, writable: true })];
}

export function destroyAll(...sockets: net.Socket[]): void {
  for (const socket of sockets) socket.destroy();
}
