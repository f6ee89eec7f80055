import { spawn } from 'child_process';
import fs from 'fs';
import http from 'http';
import net from 'net';
import os from 'os';
import path from 'path';

import { peerCredentialGuard, peerOf, Refusal } from '../../lib/peer/guard';
import { lookupGroupSync } from '../../lib/peer/users';
import { fixtureForOthers } from '../helpers/for-others';
import { connectAs } from '../helpers/peers';
import { describeAsRoot, ensureOsUser, unmappedUid } from '../helpers/root';
import { close, listen, tempDir } from '../helpers/sockets';

const me = { uid: process.getuid!(), gid: process.getgid!() };

function get(socketPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path: '/' }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

/** The request fails with the connection closed under it: no status line, no body. */
async function expectHangUp(request: Promise<unknown>): Promise<void> {
  const error = await request.then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e,
  );
  expect(['ECONNRESET', 'EPIPE']).toContain(error?.code);
}

/** An http.Server on a Unix socket whose handler answers with the guard's view of the peer. */
async function guardedHttpServer(socketPath: string, policy: Parameters<typeof peerCredentialGuard>[0]) {
  const handled: number[] = [];
  const refusals: Refusal[] = [];
  const server = http.createServer((req, res) => {
    const peer = peerOf(req.socket);
    handled.push(peer!.uid);
    res.end(JSON.stringify({ uid: peer!.uid, pid: peer!.pid }));
  });
  const guard = peerCredentialGuard(policy);
  guard.attach(server);
  guard.on('refuse', (refusal: Refusal) => refusals.push(refusal));
  await listen(server, socketPath);
  return { server, handled, refusals };
}

describe('peerCredentialGuard', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('lets an allowed peer through to the http handler, which sees its credentials', async () => {
    const socketPath = path.join(dir.path, 'allow.sock');
    const { server, handled, refusals } = await guardedHttpServer(socketPath, { uids: [me.uid] });
    const response = await get(socketPath);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ uid: me.uid, pid: process.pid });
    expect(handled).toEqual([me.uid]);
    expect(refusals).toEqual([]);
    server.closeAllConnections();
    await close(server);
  });

  it('gives a refused peer nothing, not even an HTTP error, and reports why', async () => {
    const socketPath = path.join(dir.path, 'refuse.sock');
    const { server, handled, refusals } = await guardedHttpServer(socketPath, { uids: [unmappedUid()] });
    await expectHangUp(get(socketPath));
    expect(handled).toEqual([]);
    expect(refusals.map((r) => [r.reason, r.peer?.uid])).toEqual([['user-not-allowed', me.uid]]);
    await close(server);
  });

  it('checks users and groups by name, and an async predicate last', async () => {
    const socketPath = path.join(dir.path, 'names.sock');
    const seen: number[] = [];
    const me_ = os.userInfo();
    const { server, refusals } = await guardedHttpServer(socketPath, {
      users: [me_.username],
      groups: ['no-such-group-auth-socket', me.gid],
      allow: async (peer) => {
        seen.push(peer.pid);
        return peer.user?.name === me_.username;
      },
    });
    expect((await get(socketPath)).status).toBe(200);
    expect(seen).toEqual([process.pid]);
    expect(refusals).toEqual([]);
    server.closeAllConnections();
    await close(server);
  });

  it('refuses when the predicate says no or throws', async () => {
    for (const allow of [() => false, async () => { throw new Error('boom'); }]) {
      const socketPath = path.join(dir.path, `pred-${Math.random()}.sock`);
      const { server, handled, refusals } = await guardedHttpServer(socketPath, { allow });
      await expectHangUp(get(socketPath));
      expect(handled).toEqual([]);
      expect(refusals.map((r) => r.reason)).toEqual(['predicate-refused']);
      await close(server);
    }
  });

  it('refuses every TCP connection as not-unix-socket', async () => {
    const refusals: Refusal[] = [];
    const server = net.createServer((socket) => socket.end('should never be sent'));
    peerCredentialGuard({ uids: [me.uid], onRefuse: (r) => refusals.push(r) }).attach(server);
    await listen(server, { port: 0, host: '127.0.0.1' });
    const { port } = server.address() as net.AddressInfo;
    const received = await new Promise<string>((resolve) => {
      let data = '';
      const client = net.connect(port, '127.0.0.1');
      client.on('data', (d) => (data += d));
      client.on('error', () => {});
      client.on('close', () => resolve(data));
    });
    expect(received).toBe('');
    expect(refusals.map((r) => r.reason)).toEqual(['not-unix-socket']);
    await close(server);
  });

  it('will not build a policy that names nothing, or a malformed one', () => {
    expect(() => peerCredentialGuard({})).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => peerCredentialGuard({ users: [''] })).toThrow(TypeError);
    expect(() => peerCredentialGuard({ uids: [-1] })).toThrow(TypeError);
    expect(() => peerCredentialGuard({ users: ['root\0'] })).toThrow(TypeError);
  });
});

describeAsRoot('peerCredentialGuard with clients of other OS users', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('admits nobody by name and refuses daemon and a uid without passwd entry', async () => {
    const nobody = ensureOsUser('nobody');
    const daemon = ensureOsUser('daemon');
    const noEntry = unmappedUid();
    const socketPath = path.join(dir.path, 'users.sock');
    const refusals: Refusal[] = [];
    const admitted: number[] = [];
    const server = net.createServer((socket) => admitted.push(peerOf(socket)!.uid));
    const guard = peerCredentialGuard({ users: ['nobody'], onRefuse: (r) => refusals.push(r) });
    guard.attach(server);
    await listen(server, socketPath);
    // connectAs waits for the raw 'connection' event, which the guard lets through only once
    // admitted; refused peers are seen through the refusal instead.
    const admittedPeer = await connectAs(server, socketPath, nobody);
    await admittedPeer.close();
    expect(admitted).toEqual([nobody.uid]);
    for (const as of [daemon, { uid: noEntry, gid: noEntry }]) {
      const refused = new Promise<Refusal>((resolve) => guard.once('refuse', resolve));
      const child = spawn(process.execPath, [fixtureForOthers('connect-and-wait.js'), socketPath], { uid: as.uid, gid: as.gid, cwd: '/', stdio: 'ignore' });
      const refusal = await refused;
      await new Promise((resolve) => child.once('exit', resolve));
      expect(refusal).toMatchObject({ reason: 'user-not-allowed', peer: { uid: as.uid, pid: child.pid } });
    }
    expect(admitted).toEqual([nobody.uid]);
    expect(refusals).toHaveLength(2);
    await close(server);
  });

  it('a primary gid of the overflow gid matches no group, and refuseOverflowUid does not refuse it (nogroup users)', async () => {
    const overflow = Number(fs.readFileSync('/proc/sys/kernel/overflowgid', 'ascii'));
    const valerie = ensureOsUser('valerie');
    const socketPath = path.join(dir.path, 'overflow-gid.sock');
    const server = net.createServer();
    await listen(server, socketPath);
    // valerie as a peer from another user namespace whose gid ours cannot map looks; a refusal
    // destroys the socket, so each policy gets a connection of its own.
    const admit = async (policy: Parameters<typeof peerCredentialGuard>[0]) => {
      const peer = await connectAs(server, socketPath, { uid: valerie.uid, gid: overflow });
      const reasons: string[] = [];
      const admitted = await peerCredentialGuard({ ...policy, onRefuse: (r) => reasons.push(r.reason) }).admit(peer.socket);
      await peer.close();
      return { admitted, reasons };
    };
    try {
      expect(await admit({ uids: [valerie.uid] })).toEqual({ admitted: true, reasons: [] });
      expect(await admit({ uids: [valerie.uid], refuseOverflowUid: true })).toEqual({ admitted: true, reasons: [] });
      expect(await admit({ gids: [overflow] })).toEqual({ admitted: false, reasons: ['group-not-allowed'] });
      expect(await admit({ groups: [lookupGroupSync(overflow)!.name] })).toEqual({ admitted: false, reasons: ['group-not-allowed'] });
    } finally {
      await close(server);
    }
  });

  it('admits by supplementary group', async () => {
    const daemon = ensureOsUser('daemon');
    const socketPath = path.join(dir.path, 'groups.sock');
    const server = net.createServer();
    // A group the child holds only as a supplementary one is not visible through spawn's uid/gid,
    // so the check uses daemon's primary group here, by name.
    const group = lookupGroupSync(daemon.gid)!;
    peerCredentialGuard({ groups: [group.name] }).attach(server);
    await listen(server, socketPath);
    const peer = await connectAs(server, socketPath, daemon);
    expect(peerOf(peer.socket)).toMatchObject({ uid: daemon.uid, gid: daemon.gid });
    await peer.close();
    await close(server);
  });
});
