import { spawn } from 'child_process';
import fs from 'fs';
import path from 'path';
import { Worker } from 'worker_threads';

import { getPeerCredentials, socketPair, socketProtocol, VioProtocol } from '../../lib/peer/credentials';
import { connectedPair, destroyAll, socketPairSockets, tempDir } from '../helpers/sockets';

const self = { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('getPeerCredentials', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('reads pid, uid and gid of both ends of a Unix socket connection', async () => {
    const [serverEnd, client] = await connectedPair(path.join(dir.path, 'a.sock'));
    expect(getPeerCredentials(serverEnd)).toEqual(self);
    expect(getPeerCredentials(client)).toEqual(self);
    // A second read (transport already verified for this handle) gives the same answer.
    expect(getPeerCredentials(serverEnd)).toEqual(self);
    destroyAll(serverEnd, client);
  });

  it('works on a socketpair, by fd and as net.Socket', () => {
    const [a, b] = socketPair();
    expect(getPeerCredentials(a)).toEqual(self);
    fs.closeSync(a);
    fs.closeSync(b);
    const [x, y] = socketPairSockets();
    expect(getPeerCredentials(y)).toEqual(self);
    destroyAll(x, y);
  });

  it('works on an abstract-namespace socket', async () => {
    const [serverEnd, client] = await connectedPair(`\0auth-socket-test-${process.pid}`);
    expect(getPeerCredentials(serverEnd)).toEqual(self);
    destroyAll(serverEnd, client);
  });

  it('gives the supplementary groups and the security label only when asked', async () => {
    const [serverEnd, client] = await connectedPair(path.join(dir.path, 'b.sock'));
    const plain = getPeerCredentials(serverEnd);
    expect(plain).not.toHaveProperty('groups');
    const full = getPeerCredentials(serverEnd, { groups: true, securityLabel: true });
    // Node's getgroups() always adds the effective gid; the kernel's list holds only the extras.
    expect(new Set([...full.groups!, self.gid])).toEqual(new Set(process.getgroups!()));
    if (full.securityLabel !== undefined) expect(typeof full.securityLabel).toBe('string');
    destroyAll(serverEnd, client);
  });

  it('refuses TCP even though SO_PEERCRED answers there', async () => {
    const [serverEnd, client] = await connectedPair({ port: 0, host: '127.0.0.1' });
    expect(codeOf(() => getPeerCredentials(serverEnd))).toBe('ERR_NOT_UNIX_SOCKET');
    expect(codeOf(() => getPeerCredentials(client))).toBe('ERR_NOT_UNIX_SOCKET');
    const fd = (serverEnd as unknown as { _handle: { fd: number } })._handle.fd;
    expect(codeOf(() => getPeerCredentials(fd))).toBe('ERR_NOT_UNIX_SOCKET');
    expect(socketProtocol(fd)).toBe(VioProtocol.TCP);
    destroyAll(serverEnd, client);
  });

  it('gives a distinct code for each bad input', async () => {
    const [serverEnd, client] = await connectedPair(path.join(dir.path, 'c.sock'));
    serverEnd.destroy();
    expect(codeOf(() => getPeerCredentials(serverEnd))).toBe('ERR_SOCKET_DESTROYED');
    client.destroy();

    const file = path.join(dir.path, 'not-a-socket');
    fs.writeFileSync(file, '');
    const fileFd = fs.openSync(file, 'r');
    expect(codeOf(() => getPeerCredentials(fileFd))).toBe('ENOTSOCK');
    fs.closeSync(fileFd);
    // The number is free again after close: a bad fd.
    expect(codeOf(() => getPeerCredentials(fileFd))).toBe('EBADF');

    for (const bad of [-1, 1.5, '3', null, {}, 2 ** 40]) {
      expect(codeOf(() => getPeerCredentials(bad as unknown as number))).toBe('ERR_INVALID_ARG_TYPE');
    }
  });

  it('loads and works inside a worker_thread', async () => {
    const result = await new Promise<{ credentials: number[] }>((resolve, reject) => {
      const worker = new Worker(path.join(__dirname, '..', 'fixtures', 'worker-credentials.js'));
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(result.credentials).toEqual([self.pid, self.uid, self.gid]);
  });

  it('keeps the identity of the process that connected when the other end moves to a child', async () => {
    // Documented pitfall: credentials are frozen at connect(). Hand our end of a pair to a child:
    // reading from the end we kept still names this process, not the child that now holds it.
    const [kept, given] = socketPair();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: ['ignore', 'ignore', 'ignore', given] });
    fs.closeSync(given);
    try {
      expect(getPeerCredentials(kept).pid).toBe(process.pid);
      expect(child.pid).not.toBe(process.pid);
    } finally {
      child.kill();
      fs.closeSync(kept);
    }
  });
});
