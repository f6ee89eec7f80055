// getPeerProcess against real processes: pinned by a pidfd, its cgroup and unit read from /proc
// and checked against the pidfd, a reused pid never attributed to the peer, each way of failing
// its own code, and no fd left behind.
import { ChildProcess, execFileSync, spawn } from 'child_process';
import fs from 'fs';
import net from 'net';
import path from 'path';
import v8 from 'v8';
import vm from 'vm';

import { native } from '../../lib/native';
import { getPeerCredentials } from '../../lib/peer/credentials';
import { getPeerProcess, overflowGid, overflowUid, pinPeerProcess, readPinnedProcess, unitOfCgroup } from '../../lib/peer/process';
import { packageFileForOthers } from '../helpers/for-others';
import { connectAndWaitArgs, exited, makeCgroup, namespacedServer, nextConnection, spawnWithPid, TestCgroup } from '../helpers/processes';
import { describeAsRoot } from '../helpers/root';
import { close, connectedPair, destroyAll, listen, tempDir } from '../helpers/sockets';

const O_CLOEXEC = 0o2000000;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return 'no error';
}

const openFds = () => fs.readdirSync('/proc/self/fd').length;
const ownCgroup = () => /^0::(.*)$/m.exec(fs.readFileSync('/proc/self/cgroup', 'utf8'))![1];

// Closed: fstat fails, or the number already names some other file (never our pidfd).
function expectClosed(fd: number): void {
  let target: string | null = null;
  try {
    fs.fstatSync(fd);
    target = fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toMatch(/EBADF|ENOENT/);
  }
  expect(target).not.toBe('anon_inode:[pidfd]');
}

describe('unitOfCgroup', () => {
  it("takes the first unit after the slices, as systemd's cg_path_get_unit does", () => {
    expect(unitOfCgroup('/system.slice/nginx.service')).toBe('nginx.service');
    expect(unitOfCgroup('/user.slice/user-1000.slice/session-3.scope')).toBe('session-3.scope');
    expect(unitOfCgroup('/system.slice/system-getty.slice/getty@tty1.service')).toBe('getty@tty1.service');
    expect(unitOfCgroup('/init.scope')).toBe('init.scope');
    expect(unitOfCgroup('/system.slice/_cpu.service')).toBe('cpu.service');
  });

  it('never a name from inside a delegated subtree, where the delegate names the cgroups', () => {
    expect(unitOfCgroup('/user.slice/user-1000.slice/user@1000.service/app.slice/sshd.service')).toBe('user@1000.service');
    expect(unitOfCgroup('/system.slice/docker.service/sshd.service')).toBe('docker.service');
    expect(unitOfCgroup('/machine/sshd.service')).toBeNull();
  });

  it('null where there is no unit', () => {
    for (const cgroup of ['/', '/system.slice', '/a b.service', '/foo@.service', '/x.unknown', '/../sshd.service', null]) {
      expect(unitOfCgroup(cgroup)).toBeNull();
    }
    expect(unitOfCgroup(`/${'a'.repeat(250)}.service`)).toBeNull();
  });
});

describe('overflowUid and overflowGid', () => {
  it("are the kernel's", () => {
    expect(overflowUid()).toBe(Number(fs.readFileSync('/proc/sys/kernel/overflowuid', 'ascii')));
    expect(overflowGid()).toBe(Number(fs.readFileSync('/proc/sys/kernel/overflowgid', 'ascii')));
  });
});

describe('getPeerProcess', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('pins our own connection: pid, uid, gid, cgroup and a close-on-exec pidfd', async () => {
    const [serverEnd, client] = await connectedPair(path.join(dir.path, 'self.sock'));
    const proc = getPeerProcess(serverEnd);
    try {
      expect(proc).toMatchObject({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!(), cgroup: ownCgroup(), unit: unitOfCgroup(ownCgroup()) });
      expect(fs.readlinkSync(`/proc/self/fd/${proc.pidfd}`)).toBe('anon_inode:[pidfd]');
      const fdinfo = fs.readFileSync(`/proc/self/fdinfo/${proc.pidfd}`, 'utf8');
      expect(Number.parseInt(/^flags:\s*(\d+)$/m.exec(fdinfo)![1], 8) & O_CLOEXEC).toBe(O_CLOEXEC);
      expect(/^Pid:\s*(-?\d+)$/m.exec(fdinfo)![1]).toBe(String(process.pid));
      expect(proc.alive()).toBe(true);
      // Where the kernel gives the cgroup id, it is the inode of the cgroup's directory.
      if (proc.cgroupId !== null) expect(typeof proc.cgroupId).toBe('bigint');
      // By fd too.
      const byFd = getPeerProcess((serverEnd as unknown as { _handle: { fd: number } })._handle.fd);
      expect(byFd.pid).toBe(process.pid);
      byFd.close();
    } finally {
      proc.close();
      destroyAll(serverEnd, client);
    }
  });

  it('close() closes the pidfd once, marks it -1, and alive() then refuses to guess', async () => {
    const [serverEnd, client] = await connectedPair(path.join(dir.path, 'close.sock'));
    const proc = getPeerProcess(serverEnd);
    const fd = proc.pidfd;
    proc.close();
    expectClosed(fd);
    expect(proc.pidfd).toBe(-1);
    expect(() => proc.close()).not.toThrow();
    expect(codeOf(() => proc.alive())).toBe('ERR_PIDFD_CLOSED');
    destroyAll(serverEnd, client);
  });

  it('refuses TCP, destroyed sockets and non-sockets with the credentials codes', async () => {
    const [serverEnd, client] = await connectedPair({ port: 0, host: '127.0.0.1' });
    expect(codeOf(() => getPeerProcess(serverEnd))).toBe('ERR_NOT_UNIX_SOCKET');
    destroyAll(serverEnd, client);
    expect(codeOf(() => getPeerProcess(serverEnd))).toBe('ERR_SOCKET_DESTROYED');
    expect(codeOf(() => getPeerProcess(-1))).toBe('ERR_INVALID_ARG_TYPE');
    const file = fs.openSync(__filename, 'r');
    expect(codeOf(() => getPeerProcess(file))).toBe('ENOTSOCK');
    fs.closeSync(file);
  });

  it('leaves no fd behind over many calls, closed or failed', async () => {
    const [serverEnd, client] = await connectedPair(path.join(dir.path, 'leak.sock'));
    const [tcpServer, tcpClient] = await connectedPair({ port: 0, host: '127.0.0.1' });
    getPeerProcess(serverEnd).close(); // warm: the first call reads mountinfo
    const before = openFds();
    for (let i = 0; i < 500; i++) {
      const proc = getPeerProcess(serverEnd);
      if (i % 2) proc.close();
      else proc[Symbol.dispose]();
      codeOf(() => getPeerProcess(tcpServer));
    }
    expect(openFds()).toBe(before);
    destroyAll(serverEnd, client, tcpServer, tcpClient);
  });

  it('an object closed, once collected, never closes the fd that took its number', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const [serverEnd, client] = await connectedPair(path.join(dir.path, 'reuse.sock'));
    // Made and closed in a function of its own: a suspended async function's frame could hold it.
    const { collected, number } = ((): { collected: WeakRef<object>; number: number } => {
      const proc = getPeerProcess(serverEnd);
      const fd = proc.pidfd;
      proc.close();
      return { collected: new WeakRef(proc), number: fd };
    })();
    // The lowest free number is the one just closed (others may take it first: skip those).
    const taken: number[] = [];
    for (let fd = fs.openSync('/dev/null', 'r'); ; fd = fs.openSync('/dev/null', 'r')) {
      taken.push(fd);
      if (fd === number || taken.length > 20) break;
    }
    expect(taken).toContain(number);
    try {
      // deref() keeps its target alive to the end of the task: gc() only ever runs in a later one.
      const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      let gone = false;
      for (let i = 0; i < 10 && !gone; i++) {
        await tick(0);
        gc();
        await tick(20); // the registry's callbacks run in later tasks
        gone = collected.deref() === undefined;
      }
      expect(gone).toBe(true);
      expect(fs.readlinkSync(`/proc/self/fd/${number}`)).toBe('/dev/null');
    } finally {
      for (const fd of taken) fs.closeSync(fd);
      destroyAll(serverEnd, client);
    }
  });

  it("one peer's 'unsupported' PIDFD_GET_INFO answer turns the ioctl off only if the kernel says so for our own process", async () => {
    const [serverEnd, client] = await connectedPair(path.join(dir.path, 'info.sock'));
    const withInfo = getPeerProcess(serverEnd);
    const kernelHasIt = withInfo.cgroupId !== null;
    withInfo.close();
    const info = jest.spyOn(native, 'pidfdInfo').mockReturnValueOnce(undefined);
    try {
      // This one is checked through fdinfo instead (no cgroup id), and is still pinned.
      const without = getPeerProcess(serverEnd);
      expect(without).toMatchObject({ pid: process.pid, cgroupId: null });
      without.close();
      // The next still asks the ioctl, and gets the cgroup id where the kernel gives it.
      const again = getPeerProcess(serverEnd);
      expect(again.cgroupId !== null).toBe(kernelHasIt);
      again.close();
      expect(info.mock.calls.length).toBeGreaterThanOrEqual(3); // the peer, our own probe, the next peer
    } finally {
      info.mockRestore();
      destroyAll(serverEnd, client);
    }
  });

  it('closes the pidfd of an object nobody closed once it is collected, and on [Symbol.dispose]', () => {
    // A child with --expose-gc, from the built package (jest's realm has no Symbol.dispose): 200
    // forgotten objects, then collection.
    const script = `
      const { getPeerProcess } = require(${JSON.stringify(packageFileForOthers('dist/peer/process.js'))});
      const { socketPair } = require(${JSON.stringify(packageFileForOthers('dist/peer/credentials.js'))});
      const fs = require('fs');
      const count = () => fs.readdirSync('/proc/self/fd').length;
      const [a] = socketPair();
      getPeerProcess(a).close();
      const before = count();
      const disposed = getPeerProcess(a);
      disposed[Symbol.dispose]();
      if (disposed.pidfd !== -1 || count() !== before) throw new Error('[Symbol.dispose] did not close');
      for (let i = 0; i < 200; i++) getPeerProcess(a);
      const held = count();
      (async () => {
        for (let i = 0; i < 10 && count() > before; i++) { gc(); await new Promise((r) => setTimeout(r, 20)); }
        console.log(JSON.stringify({ before, held, after: count() }));
      })();`;
    const { before, held, after } = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' }));
    expect(held).toBe(before + 200);
    expect(after).toBe(before);
  });
});

describeAsRoot('getPeerProcess with other processes', () => {
  const dir = tempDir();
  const socketPath = path.join(dir.path, 'peers.sock');
  // Paused: a peer that exits must not make us read its EOF and destroy our end.
  const server = net.createServer({ pauseOnConnect: true });
  const children: ChildProcess[] = [];
  const cgroups: TestCgroup[] = [];
  const sockets: net.Socket[] = [];
  server.on('connection', (socket: net.Socket) => sockets.push(socket));
  beforeAll(() => listen(server, socketPath));
  afterAll(async () => {
    destroyAll(...sockets); // also those a failed test left open: close(server) waits for them
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    for (const cgroup of cgroups) cgroup.remove();
    await close(server);
    dir.remove();
  });

  function cgroup(name: string): TestCgroup {
    const made = makeCgroup(`auth-socket-test-${process.pid}.slice/${name}`);
    if (made === null) throw new Error('cgroup v2 is not mounted writable here: the process tests need it');
    cgroups.push(made);
    return made;
  }

  /** A peer that connects and stays connected (in `where`'s cgroup when given). */
  async function peer(where?: TestCgroup): Promise<{ socket: net.Socket; child: ChildProcess }> {
    const [command, args] = connectAndWaitArgs(socketPath);
    const connected = nextConnection(server);
    const child = where ? where.spawn(command, args, { stdio: 'ignore' }) : spawn(command, args, { stdio: 'ignore' });
    children.push(child);
    return { socket: await connected, child };
  }

  it('reads the cgroup and unit of a peer placed in a cgroup, alive until it exits', async () => {
    const demo = cgroup('demo.service');
    const { socket, child } = await peer(demo);
    const proc = getPeerProcess(socket);
    try {
      expect(proc).toMatchObject({ pid: child.pid, cgroup: demo.path, unit: 'demo.service' });
      if (proc.cgroupId !== null) expect(proc.cgroupId).toBe(fs.statSync(demo.dir, { bigint: true }).ino);
      expect(proc.alive()).toBe(true);
      child.kill('SIGKILL');
      await exited(child);
      expect(proc.alive()).toBe(false);
    } finally {
      proc.close();
      socket.destroy();
    }
  });

  it('a peer that exited before it was read: ERR_PEER_EXITED, and no fd kept', async () => {
    const { socket, child } = await peer();
    child.kill('SIGKILL');
    await exited(child);
    const before = openFds();
    expect(codeOf(() => getPeerProcess(socket))).toBe('ERR_PEER_EXITED');
    expect(openFds()).toBe(before);
    socket.destroy();
  });

  it('an exited peer nobody reaped yet (a zombie) has exited too', async () => {
    // sh starts the client, then becomes `sleep`, which never reaps it.
    const [command, args] = connectAndWaitArgs(socketPath);
    const connected = nextConnection(server);
    const holder = spawn('sh', ['-c', `"$0" "$@" & echo $! ; exec sleep 30`, command, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(holder);
    const socket = await connected;
    const pid = getPeerCredentials(socket).pid;
    process.kill(pid, 'SIGKILL');
    // The leader shows Z while its other threads still die; the process has exited once they have.
    const zombie = () => /^State:\s+Z.*\n(?:.*\n)*Threads:\s+1\n/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    for (let i = 0; i < 400 && !zombie(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(zombie()).toBe(true);
    expect(codeOf(() => getPeerProcess(socket))).toBe('ERR_PEER_EXITED');
    socket.destroy();
  });

  it('a peer whose pid was taken by another process before it was read is never misattributed', async () => {
    const { socket, child } = await peer();
    const pid = child.pid!;
    child.kill('SIGKILL');
    await exited(child);
    // The new holder of the pid sits in a cgroup of its own, so a misattribution would show.
    const other = cgroup('reuser.service');
    const reuser = await spawnWithPid(pid, () => other.spawn('sleep', ['30'], { stdio: 'ignore' }));
    expect(reuser?.pid).toBe(pid);
    children.push(reuser!);
    await new Promise((r) => setTimeout(r, 50)); // let the shell exec and join its cgroup
    expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`0::${other.path}\n`);
    expect(getPeerCredentials(socket).pid).toBe(pid);
    expect(codeOf(() => getPeerProcess(socket))).toBe('ERR_PEER_EXITED');
    socket.destroy();
  });

  it('a pid reused between pinning and reading /proc is refused with ERR_PEER_PID_REUSED', async () => {
    const { socket, child } = await peer();
    const pid = child.pid!;
    const pin = pinPeerProcess(socket); // the peer is alive: pinned
    expect(pin.pid).toBe(pid);
    child.kill('SIGKILL');
    await exited(child);
    const other = cgroup('reuser2.service');
    const reuser = await spawnWithPid(pid, () => other.spawn('sleep', ['30'], { stdio: 'ignore' }));
    expect(reuser?.pid).toBe(pid);
    children.push(reuser!);
    await new Promise((r) => setTimeout(r, 50));
    // /proc/PID is now the reuser's: reading it would attribute reuser2.service to the peer.
    expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`0::${other.path}\n`);
    expect(codeOf(() => readPinnedProcess(pin))).toBe('ERR_PEER_PID_REUSED');
    expectClosed(pin.pidfd);
    socket.destroy();
  });

  it('pid 0 (a peer outside the reader\'s pid namespace): ERR_PEER_PID_UNAVAILABLE', async () => {
    // The reader runs in a new pid namespace; we connect from outside it, so it cannot see us.
    const result = await namespacedServer({
      unshare: ['--pid', '--fork', '--mount-proc'],
      socketPath: path.join(dir.path, 'pidns.sock'),
      handler: `async (socket, lib) => {
        const credentials = lib.credentials.getPeerCredentials(socket);
        try { lib.process.getPeerProcess(socket); return { credentials, code: 'none' }; } catch (e) { return { credentials, code: e.code }; }
      }`,
      connect: () => net.connect(path.join(dir.path, 'pidns.sock')).on('error', () => {}),
    });
    expect(result).toEqual({ credentials: { pid: 0, uid: 0, gid: 0 }, code: 'ERR_PEER_PID_UNAVAILABLE' });
  });

  it('a /proc of another pid namespace is refused, not read: ERR_PROCFS_FOREIGN', async () => {
    // unshare --pid without a new /proc: /proc/PID there names processes of our namespace.
    const result = await namespacedServer({
      unshare: ['--pid', '--fork'],
      socketPath: path.join(dir.path, 'foreign.sock'),
      selfConnect: true,
      handler: `async (socket, lib) => {
        const credentials = lib.credentials.getPeerCredentials(socket);
        try { lib.process.getPeerProcess(socket); return { pid: credentials.pid, code: 'none' }; } catch (e) { return { pid: credentials.pid, code: e.code }; }
      }`,
    });
    expect(result).toEqual({ pid: 1, code: 'ERR_PROCFS_FOREIGN' });
  });
});
