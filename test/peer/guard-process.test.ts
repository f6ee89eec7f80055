// The guard's process rules (units, cgroups: decided through a pidfd), security labels, ident
// maps and the overflow uid, with real peers: in cgroups of our own, exited, outside the reader's
// pid namespace, and seen from inside a user namespace that cannot map them.
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';

import { getPeerCredentials } from '../../lib/peer/credentials';
import { peerCredentialGuard, peerOf, Refusal } from '../../lib/peer/guard';
import { parseIdentMap } from '../../lib/peer/ident-map';
import { lookupGroupSync } from '../../lib/peer/users';
import { fixtureForOthers } from '../helpers/for-others';
import { connectWithGroups, createGroup } from '../helpers/groups';
import { connectAndWaitArgs, exited, makeCgroup, namespacedServer, nextConnection, TestCgroup } from '../helpers/processes';
import { describeAsRoot, ensureOsUser } from '../helpers/root';
import { close, connectedPair, destroyAll, listen, tempDir } from '../helpers/sockets';

const ownCgroup = /^0::(.*)$/m.exec(fs.readFileSync('/proc/self/cgroup', 'utf8'))![1];
const openFds = () => fs.readdirSync('/proc/self/fd').length;

/** Runs `policy` on a fresh connection of ours; the decision, the refusals and peerOf. */
async function decide(dir: string, policy: Parameters<typeof peerCredentialGuard>[0]) {
  const [serverEnd, client] = await connectedPair(path.join(dir, `p-${Math.random()}.sock`));
  const refusals: Refusal[] = [];
  const guard = peerCredentialGuard({ ...policy, onRefuse: (r) => refusals.push(r) });
  const admitted = await guard.admit(serverEnd);
  const peer = peerOf(serverEnd);
  destroyAll(serverEnd, client);
  return { admitted, reasons: refusals.map((r) => r.reason), refusals, peer };
}

describe('peerCredentialGuard: process rules, labels, maps, as the current user', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('builds a policy of process rules or labels alone, never of refuseOverflowUid alone', () => {
    expect(() => peerCredentialGuard({ units: ['nginx.service'] })).not.toThrow();
    expect(() => peerCredentialGuard({ cgroups: [/\/system\.slice\/.*/] })).not.toThrow();
    expect(() => peerCredentialGuard({ securityLabels: ['unconfined'] })).not.toThrow();
    expect(() => peerCredentialGuard({ refuseOverflowUid: true })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    for (const bad of [{ units: [''] }, { units: [1] }, { cgroups: 'x' }, { securityLabels: [null] }]) {
      expect(() => peerCredentialGuard(bad as never)).toThrow(TypeError);
    }
    expect(() => peerCredentialGuard({ uids: [0], refuseOverflowUid: 'yes' as never })).toThrow(TypeError);
  });

  it('admits by cgroup, exactly or by a RegExp that must match the whole path, and says which', async () => {
    const exact = await decide(dir.path, { cgroups: [ownCgroup] });
    expect(exact).toMatchObject({ admitted: true, peer: { pid: process.pid, process: { pid: process.pid, cgroup: ownCgroup } } });
    const escaped = ownCgroup.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    expect(await decide(dir.path, { cgroups: [new RegExp(escaped, 'g')] })).toMatchObject({ admitted: true });
    // Unanchored as written, /x?/ matches (the empty) part of any path; anchored by the guard, no.
    expect(/x?/.test(ownCgroup)).toBe(true);
    expect(await decide(dir.path, { cgroups: [/x?/] })).toMatchObject({ admitted: false, reasons: ['cgroup-not-allowed'] });
    expect(await decide(dir.path, { cgroups: [`${ownCgroup}x`] })).toMatchObject({ admitted: false, reasons: ['cgroup-not-allowed'], peer: undefined });
  });

  it('refuses a unit that is not allowed (no unit at all included)', async () => {
    const refused = await decide(dir.path, { units: ['no-such-unit.service'] });
    expect(refused).toMatchObject({ admitted: false, reasons: ['unit-not-allowed'] });
    expect(refused.refusals[0].peer?.process).toMatchObject({ pid: process.pid, cgroup: ownCgroup });
  });

  it('checks the security label (SO_PEERSEC); without one, a label rule refuses', async () => {
    const [serverEnd, client] = await connectedPair(path.join(dir.path, 'label.sock'));
    const label = getPeerCredentials(serverEnd, { securityLabel: true }).securityLabel;
    destroyAll(serverEnd, client);
    expect(await decide(dir.path, { securityLabels: [/.*/] })).toMatchObject(
      label === undefined ? { admitted: false, reasons: ['security-label-not-allowed'] } : { admitted: true, peer: { securityLabel: label } },
    );
    expect(await decide(dir.path, { securityLabels: ['no-such-label'] })).toMatchObject({ admitted: false, reasons: ['security-label-not-allowed'] });
  });

  it('a process rule refuses a peer that exited before it could be pinned: process-not-pinned', async () => {
    const server = net.createServer({ pauseOnConnect: true });
    const socketPath = path.join(dir.path, 'exited.sock');
    await listen(server, socketPath);
    const connected = nextConnection(server);
    const child = spawn(process.execPath, ['-e', `require('net').connect(${JSON.stringify(socketPath)}, () => process.exit(0))`], { stdio: 'ignore' });
    const socket = await connected;
    await exited(child);
    const refusals: Refusal[] = [];
    const admitted = await peerCredentialGuard({ cgroups: [/.*/], onRefuse: (r) => refusals.push(r) }).admit(socket);
    expect(admitted).toBe(false);
    expect(refusals).toMatchObject([{ reason: 'process-not-pinned', peer: { pid: child.pid }, error: { code: 'ERR_PEER_EXITED' } }]);
    expect(socket.destroyed).toBe(true);
    await close(server);
  });

  it('holds no pidfd per connection once it has decided', async () => {
    await decide(dir.path, { cgroups: [/.*/] });
    const before = openFds();
    for (let i = 0; i < 50; i++) await decide(dir.path, { cgroups: [/.*/], allow: async () => true });
    expect(openFds()).toBe(before);
  });

  it('with a map, admits only a peer the named map gives an account, and lists them', async () => {
    const me = os.userInfo().username;
    const group = lookupGroupSync(process.getgid!())!.name;
    const map = parseIdentMap(`admins ${me} dba\nadmins @${group} ops\nothers ${me} x\nnobody-map no-such-user-here y\n`, 'guard.conf');
    const admitted = await decide(dir.path, { map, mapName: 'admins' });
    expect(admitted).toMatchObject({ admitted: true });
    expect(admitted.peer!.mapped).toEqual([
      { account: 'dba', line: expect.objectContaining({ line: 1, file: 'guard.conf' }) },
      { account: 'ops', line: expect.objectContaining({ line: 2 }) },
    ]);
    expect(await decide(dir.path, { map, mapName: 'nobody-map' })).toMatchObject({ admitted: false, reasons: ['map-no-match'] });
    expect(() => peerCredentialGuard({ map, mapName: 'Admins' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => peerCredentialGuard({ map } as never)).toThrow(TypeError);
    expect(() => peerCredentialGuard({ uids: [0], mapName: 'admins' } as never)).toThrow(TypeError);
  });
});

describeAsRoot('peerCredentialGuard with peers in cgroups, other namespaces and other users', () => {
  const dir = tempDir();
  const socketPath = path.join(dir.path, 'peers.sock');
  const server = net.createServer({ pauseOnConnect: true });
  const children: ChildProcess[] = [];
  const sockets: net.Socket[] = [];
  let demo: TestCgroup;
  let other: TestCgroup;
  server.on('connection', (socket: net.Socket) => sockets.push(socket));
  beforeAll(async () => {
    const made = [makeCgroup(`auth-socket-guard-${process.pid}.slice/demo.service`), makeCgroup(`auth-socket-guard-${process.pid}.slice/other.service`)];
    if (made.includes(null)) throw new Error('cgroup v2 is not mounted writable here: the process-rule tests need it');
    [demo, other] = made as TestCgroup[];
    await listen(server, socketPath);
  });
  afterAll(async () => {
    destroyAll(...sockets);
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    demo?.remove();
    other?.remove();
    await close(server);
    dir.remove();
  });

  async function peerIn(where: TestCgroup): Promise<{ socket: net.Socket; child: ChildProcess }> {
    const [command, args] = connectAndWaitArgs(socketPath);
    const connected = nextConnection(server);
    const child = where.spawn(command, args, { stdio: 'ignore' });
    children.push(child);
    return { socket: await connected, child };
  }

  async function admit(socket: net.Socket, policy: Parameters<typeof peerCredentialGuard>[0]) {
    const refusals: Refusal[] = [];
    const admitted = await peerCredentialGuard({ ...policy, onRefuse: (r) => refusals.push(r) }).admit(socket);
    return { admitted, reasons: refusals.map((r) => r.reason), peer: peerOf(socket) };
  }

  it('admits the unit it names and refuses a peer of another unit', async () => {
    const inDemo = await peerIn(demo);
    expect(await admit(inDemo.socket, { units: ['demo.service'] })).toMatchObject({
      admitted: true,
      peer: { pid: inDemo.child.pid, process: { pid: inDemo.child.pid, cgroup: demo.path, unit: 'demo.service' } },
    });
    const inOther = await peerIn(other);
    expect(await admit(inOther.socket, { units: ['demo.service', /nope-.*\.service/] })).toMatchObject({ admitted: false, reasons: ['unit-not-allowed'] });
  });

  it('admits by cgroup pattern, and every rule must pass', async () => {
    const slice = `/auth-socket-guard-${process.pid}.slice`;
    const inDemo = await peerIn(demo);
    expect(await admit(inDemo.socket, { cgroups: [new RegExp(`${slice.replace(/\./g, '\\.')}/demo\\..+`)], uids: [0] })).toMatchObject({ admitted: true });
    const inOther = await peerIn(other);
    expect(await admit(inOther.socket, { cgroups: [`${slice}/demo.service`] })).toMatchObject({ admitted: false, reasons: ['cgroup-not-allowed'] });
    const again = await peerIn(demo);
    expect(await admit(again.socket, { units: ['demo.service'], uids: [12345] })).toMatchObject({ admitted: false, reasons: ['user-not-allowed'] });
  });

  it('refuses the overflow uid with refuseOverflowUid, and only then', async () => {
    const nobody = ensureOsUser('nobody');
    const overflow = Number(fs.readFileSync('/proc/sys/kernel/overflowuid', 'ascii'));
    if (nobody.uid !== overflow) throw new Error(`nobody is uid ${nobody.uid}, not the overflow uid ${overflow}`);
    const connected = nextConnection(server);
    const child = spawn(process.execPath, [fixtureForOthers('connect-and-wait.js'), socketPath], { uid: nobody.uid, gid: nobody.gid, cwd: '/', stdio: 'ignore' });
    children.push(child);
    const socket = await connected;
    expect(await admit(socket, { uids: [overflow] })).toMatchObject({ admitted: true, peer: { uid: overflow } });
    expect(await admit(socket, { uids: [overflow], refuseOverflowUid: true })).toMatchObject({ admitted: false, reasons: ['overflow-uid'] });
  });

  it('a map @group line admits by the supplementary groups the kernel reports', async () => {
    const valerie = ensureOsUser('valerie');
    const team = createGroup('as-guard-team', []);
    try {
      const map = parseIdentMap(`ops @${team.name} operator\n`);
      const member = await connectWithGroups(server, socketPath, valerie.name, [team.gid]);
      expect(await admit(member.socket, { map, mapName: 'ops' })).toMatchObject({ admitted: true, peer: { uid: valerie.uid, mapped: [{ account: 'operator' }] } });
      children.push(member.child);
      const outsider = await connectWithGroups(server, socketPath, valerie.name, 'none');
      children.push(outsider.child);
      expect(await admit(outsider.socket, { map, mapName: 'ops' })).toMatchObject({ admitted: false, reasons: ['map-no-match'] });
    } finally {
      team.remove();
    }
  });

  it("pid 0 (a peer outside the reader's pid namespace) is process-not-pinned", async () => {
    const nsSocket = path.join(dir.path, 'pidns.sock');
    const result = await namespacedServer({
      unshare: ['--pid', '--fork', '--mount-proc'],
      socketPath: nsSocket,
      handler: `async (socket, lib) => {
        const refusals = [];
        const guard = lib.guard.peerCredentialGuard({ units: ['demo.service'], onRefuse: (r) => refusals.push({ reason: r.reason, pid: r.peer.pid, code: r.error.code }) });
        return { admitted: await guard.admit(socket), refusals };
      }`,
      connect: () => net.connect(nsSocket).on('error', () => {}),
    });
    expect(result).toEqual({ admitted: false, refusals: [{ reason: 'process-not-pinned', pid: 0, code: 'ERR_PEER_PID_UNAVAILABLE' }] });
  });

  it('inside `unshare --user`, an unmapped peer shows as the overflow uid: admitted by default, refused with refuseOverflowUid', async () => {
    const daemon = ensureOsUser('daemon');
    const nsSocket = path.join(dir.path, 'userns.sock');
    const result = await namespacedServer({
      unshare: ['--user', '--map-root-user'],
      socketPath: nsSocket,
      handler: `async (socket, lib) => {
        const overflow = lib.process.overflowUid();
        const reasons = [];
        const open = await lib.guard.peerCredentialGuard({ uids: [overflow] }).admit(socket);
        const seen = lib.guard.peerOf(socket).uid;
        const strict = await lib.guard.peerCredentialGuard({ uids: [overflow], refuseOverflowUid: true, onRefuse: (r) => reasons.push(r.reason) }).admit(socket);
        return { overflow, seen, open, strict, reasons };
      }`,
      connect: () => spawn(process.execPath, [fixtureForOthers('connect-and-wait.js'), nsSocket], { uid: daemon.uid, gid: daemon.gid, cwd: '/', stdio: 'ignore' }),
    });
    // daemon is not uid 65534: the reader sees it so only because its namespace cannot map it.
    expect(daemon.uid).not.toBe(65534);
    expect(result).toEqual({ overflow: 65534, seen: 65534, open: true, strict: false, reasons: ['overflow-uid'] });
  });
});
