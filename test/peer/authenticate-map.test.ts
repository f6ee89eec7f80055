// authenticateSocket() beyond MySQL's rule: an ident map deciding (group and regex lines, real
// peers of real OS users in a real group), MariaDB 11.6's unix_socket rule, and the overflow uid
// refused, as a server inside `unshare --user` sees a peer whose uid it cannot map.
import { spawn } from 'child_process';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';

import { authenticateSocket } from '../../lib/peer/authenticate';
import { parseIdentMap } from '../../lib/peer/ident-map';
import { lookupGroupSync } from '../../lib/peer/users';
import { connectAs } from '../helpers/peers';
import { connectWithGroups, createGroup, TestGroup } from '../helpers/groups';
import { describeAsRoot, ensureOsUser, OsUser } from '../helpers/root';
import { close, connectedPair, destroyAll, listen, tempDir } from '../helpers/sockets';
import { packageFileForOthers } from '../helpers/for-others';

const osName = os.userInfo().username;

describe('authenticateSocket with a map or the MariaDB rule, as the current user', () => {
  const dir = tempDir();
  let serverEnd: net.Socket;
  let client: net.Socket;
  const map = parseIdentMap(`admins ${osName} dba\nadmins /^(.*)$ \\1-ro\nempty nobody-at-all x\n`, 'ident.conf');

  beforeAll(async () => {
    [serverEnd, client] = await connectedPair(path.join(dir.path, 'self.sock'));
  });
  afterAll(() => {
    destroyAll(serverEnd, client);
    dir.remove();
  });

  it('accepts the account a line of the named map gives the peer, with that line', async () => {
    expect(await authenticateSocket(serverEnd, { user: 'dba', authenticationString: 'admins' }, { map })).toMatchObject({
      ok: true,
      reason: 'map-match',
      osUser: osName,
      line: { map: 'admins', osName, account: 'dba', file: 'ident.conf', line: 1 },
    });
    expect(await authenticateSocket(serverEnd, { user: `${osName}-ro`, authenticationString: 'admins' }, { map })).toMatchObject({ ok: true, line: { line: 2 } });
  });

  it('with a map, only the map decides: the OS user name itself is no match', async () => {
    expect(await authenticateSocket(serverEnd, { user: osName, authenticationString: 'empty' }, { map })).toMatchObject({ ok: false, reason: 'map-no-match', osUser: osName });
    expect(await authenticateSocket(serverEnd, { user: 'DBA', authenticationString: 'admins' }, { map })).toMatchObject({ ok: false, reason: 'map-no-match' });
  });

  it('a map name the map does not have is unknown-map; TCP stays refused', async () => {
    expect(await authenticateSocket(serverEnd, { user: 'dba', authenticationString: 'Admins' }, { map })).toMatchObject({ ok: false, reason: 'unknown-map' });
    expect(await authenticateSocket(serverEnd, { user: 'dba' }, { map })).toMatchObject({ ok: false, reason: 'unknown-map' });
    const [tcpServerEnd, tcpClient] = await connectedPair({ port: 0, host: '127.0.0.1' });
    expect(await authenticateSocket(tcpServerEnd, { user: 'dba', authenticationString: 'admins' }, { map })).toMatchObject({ ok: false, reason: 'not-unix-socket' });
    destroyAll(tcpServerEnd, tcpClient);
  });

  it("rule 'mariadb': a non-empty AS string replaces the user-name match", async () => {
    const mariadb = { rule: 'mariadb' } as const;
    expect(await authenticateSocket(serverEnd, { user: osName }, mariadb)).toMatchObject({ ok: true, reason: 'user-match' });
    expect(await authenticateSocket(serverEnd, { user: osName, authenticationString: '' }, mariadb)).toMatchObject({ ok: true, reason: 'user-match' });
    expect(await authenticateSocket(serverEnd, { user: osName, authenticationString: 'jack' }, mariadb)).toMatchObject({ ok: false, reason: 'user-mismatch' });
    expect(await authenticateSocket(serverEnd, { user: 'jack', authenticationString: osName }, mariadb)).toMatchObject({ ok: true, reason: 'authentication-string-match' });
    // MySQL's rule takes either.
    expect(await authenticateSocket(serverEnd, { user: osName, authenticationString: 'jack' })).toMatchObject({ ok: true, reason: 'user-match' });
  });

  it('refuses options that are not what they say', async () => {
    await expect(authenticateSocket(serverEnd, { user: 'x' }, { rule: 'postgres' as 'mysql' })).rejects.toThrow(TypeError);
    await expect(authenticateSocket(serverEnd, { user: 'x', authenticationString: 'admins' }, { map: { has: () => true } as never })).rejects.toThrow(/parseIdentMap/);
  });
});

describeAsRoot('authenticateSocket with a map, real peers of real OS users', () => {
  const dir = tempDir();
  const socketPath = path.join(dir.path, 'peers.sock');
  const server = net.createServer();
  let team: TestGroup;
  let nobody: OsUser;

  beforeAll(async () => {
    ensureOsUser('valerie');
    ensureOsUser('stephanie');
    nobody = ensureOsUser('nobody');
    team = createGroup('map-team', ['valerie']);
    await listen(server, socketPath);
  });
  afterAll(async () => {
    await close(server);
    team?.remove();
    dir.remove();
  });

  async function decide(user: string, account: string, map: ReturnType<typeof parseIdentMap>) {
    const peer = await connectWithGroups(server, socketPath, user, 'init');
    try {
      return await authenticateSocket(peer.socket, { user: account, authenticationString: 'admins' }, { map });
    } finally {
      await peer.close();
    }
  }

  it('a group line admits the members the kernel reports, as the account the line names', async () => {
    const map = parseIdentMap(`admins @${team.name} dba\n`, 'groups.conf');
    expect(await decide('valerie', 'dba', map)).toMatchObject({ ok: true, reason: 'map-match', osUser: 'valerie', line: { file: 'groups.conf', line: 1 } });
    expect(await decide('stephanie', 'dba', map)).toMatchObject({ ok: false, reason: 'map-no-match', osUser: 'stephanie' });
    expect(await decide('valerie', 'valerie', map)).toMatchObject({ ok: false, reason: 'map-no-match' });
  });

  it('a regex line with a capture gives each OS user its own account', async () => {
    const map = parseIdentMap('admins /^(val|steph)(erie|anie)$ \\1_app\n');
    expect(await decide('valerie', 'val_app', map)).toMatchObject({ ok: true, reason: 'map-match' });
    expect(await decide('stephanie', 'steph_app', map)).toMatchObject({ ok: true, reason: 'map-match' });
    expect(await decide('stephanie', 'val_app', map)).toMatchObject({ ok: false, reason: 'map-no-match' });
  });

  it('refuseOverflowUid refuses uid 65534, before anything else is asked', async () => {
    const overflow = Number(fs.readFileSync('/proc/sys/kernel/overflowuid', 'ascii'));
    const peer = await connectAs(server, socketPath, { uid: overflow, gid: overflow });
    try {
      expect(await authenticateSocket(peer.socket, { user: 'nobody' }, { refuseOverflowUid: true })).toMatchObject({ ok: false, reason: 'overflow-uid', uid: overflow });
      if (nobody.uid === overflow) expect(await authenticateSocket(peer.socket, { user: 'nobody' })).toMatchObject({ ok: true, reason: 'user-match' });
    } finally {
      await peer.close();
    }
  });

  it("a primary gid of the overflow gid is no group of the peer's: a name line admits, an @group of that gid fails closed", async () => {
    const overflow = Number(fs.readFileSync('/proc/sys/kernel/overflowgid', 'ascii'));
    const valerie = ensureOsUser('valerie');
    // valerie as a peer from another user namespace whose gid ours cannot map looks.
    const peer = await connectAs(server, socketPath, { uid: valerie.uid, gid: overflow });
    try {
      const account = { user: 'dba', authenticationString: 'admins' };
      const names = parseIdentMap('admins valerie dba\n');
      // Debian's system users have nogroup as their own group: that refuses nobody.
      expect(await authenticateSocket(peer.socket, account, { map: names, refuseOverflowUid: true })).toMatchObject({ ok: true, reason: 'map-match', uid: valerie.uid, gid: overflow });
      const group = parseIdentMap(`admins @${lookupGroupSync(overflow)!.name} dba\n`);
      expect(await authenticateSocket(peer.socket, account, { map: group })).toMatchObject({ ok: false, reason: 'lookup-failed', error: { code: 'ERR_IDENT_MAP_OVERFLOW_GROUP' } });
    } finally {
      await peer.close();
    }
  });

  it('a server inside `unshare --user` sees an unmapped peer as the overflow uid, and refuses it', async () => {
    const nsDir = tempDir('auth-socket-userns-');
    const nsSocket = path.join(nsDir.path, 'ns.sock');
    // The server half runs in a new user namespace where only root is mapped, from the built package.
    const script = `
      const net = require('net'); const fs = require('fs');
      const { authenticateSocket } = require(${JSON.stringify(packageFileForOthers('dist/peer/authenticate.js'))});
      const server = net.createServer(async (socket) => {
        const plain = await authenticateSocket(socket, { user: 'valerie' });
        const refused = await authenticateSocket(socket, { user: 'valerie' }, { refuseOverflowUid: true });
        process.stdout.write(JSON.stringify({ plain, refused }) + '\\n');
        socket.destroy(); server.close();
      });
      server.listen(${JSON.stringify(nsSocket)}, () => { fs.chmodSync(${JSON.stringify(nsSocket)}, 0o666); process.stdout.write('listening\\n'); });`;
    const child = spawn('unshare', ['--user', '--map-root-user', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (data: string) => (out += data));
    child.stderr.setEncoding('utf8').on('data', (data: string) => (err += data));
    const exited = new Promise((resolve) => child.once('close', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => out.includes('listening') && resolve());
        void exited.then(() => reject(new Error(`the namespaced server exited: ${err}`)));
      });
      const valerie = ensureOsUser('valerie');
      const client = spawn(process.execPath, ['-e', `require('net').connect(${JSON.stringify(nsSocket)}).on('close', () => process.exit())`], { uid: valerie.uid, gid: valerie.gid, stdio: 'ignore' });
      await exited;
      client.kill();
      const { plain, refused } = JSON.parse(out.split('\n')[1]);
      // Unmapped, valerie looks like nobody: without the option the decision is made about the wrong user.
      expect(plain).toMatchObject({ ok: false, reason: 'user-mismatch', uid: 65534, osUser: 'nobody' });
      expect(refused).toMatchObject({ ok: false, reason: 'overflow-uid', uid: 65534 });
    } finally {
      if (child.exitCode === null) child.kill();
      nsDir.remove();
    }
  });
});
