import net from 'net';
import os from 'os';
import path from 'path';

import { authenticateSocket, AuthSocketAccount, matchOsUser } from '../../lib/peer/authenticate';
import { connectAs } from '../helpers/peers';
import { describeAsRoot, ensureOsUser, OsUser, unmappedUid } from '../helpers/root';
import { close, connectedPair, destroyAll, listen, tempDir } from '../helpers/sockets';

const osName = os.userInfo().username;
const me = { uid: process.getuid!(), gid: process.getgid!(), pid: process.pid };

describe('authenticateSocket (MySQL auth_socket rule) as the current user', () => {
  const dir = tempDir();
  let serverEnd: net.Socket;
  let client: net.Socket;

  beforeAll(async () => {
    [serverEnd, client] = await connectedPair(path.join(dir.path, 'self.sock'));
  });
  afterAll(() => {
    destroyAll(serverEnd, client);
    dir.remove();
  });

  it('accepts the OS user name as the MySQL user name', async () => {
    expect(await authenticateSocket(serverEnd, { user: osName })).toEqual({ ok: true, reason: 'user-match', osUser: osName, ...me });
  });

  it('accepts the OS user name as the AS string, for another MySQL user', async () => {
    const result = await authenticateSocket(serverEnd, { user: 'valerie', authenticationString: osName });
    expect(result).toMatchObject({ ok: true, reason: 'authentication-string-match', osUser: osName });
  });

  it.each<[string, AuthSocketAccount]>([
    ['another name', { user: 'someone-else' }],
    ['other case', { user: osName.toUpperCase() }],
    ['a trailing space', { user: `${osName} ` }],
    ['a NUL byte', { user: `${osName}\0` }],
    ['a NUL byte in the AS string', { user: 'x', authenticationString: `${osName}\0tail` }],
    ['an empty user', { user: '' }],
    ['an empty AS string', { user: 'x', authenticationString: '' }],
    ['a lone surrogate', { user: `${osName}\ud800` }],
  ])('refuses %s', async (_, account) => {
    expect(await authenticateSocket(serverEnd, account)).toMatchObject({ ok: false, reason: 'user-mismatch', osUser: osName });
  });

  it('refuses TCP whatever the names say', async () => {
    const [tcpServerEnd, tcpClient] = await connectedPair({ port: 0, host: '127.0.0.1' });
    const result = await authenticateSocket(tcpServerEnd, { user: osName });
    expect(result).toMatchObject({ ok: false, reason: 'not-unix-socket' });
    expect(result.error).toMatchObject({ code: 'ERR_NOT_UNIX_SOCKET' });
    destroyAll(tcpServerEnd, tcpClient);
  });

  it('refuses a destroyed socket and a bad fd as no-peer-credentials', async () => {
    const [gone, other] = await connectedPair(path.join(dir.path, 'gone.sock'));
    destroyAll(gone, other);
    expect(await authenticateSocket(gone, { user: osName })).toMatchObject({ ok: false, reason: 'no-peer-credentials' });
    expect(await authenticateSocket(1_000_000, { user: osName })).toMatchObject({ ok: false, reason: 'no-peer-credentials' });
  });

  it('rejects a malformed account instead of deciding on it', async () => {
    await expect(authenticateSocket(serverEnd, { user: 7 } as unknown as AuthSocketAccount)).rejects.toThrow(TypeError);
    await expect(authenticateSocket(serverEnd, null as unknown as AuthSocketAccount)).rejects.toThrow(TypeError);
    await expect(authenticateSocket(serverEnd, { user: 'x', authenticationString: 5 } as unknown as AuthSocketAccount)).rejects.toThrow(TypeError);
  });

  it('compares bytes, so a name that is not valid UTF-8 matches nothing', () => {
    const invalid = Buffer.from([0x72, 0xff, 0x74]);
    expect(matchOsUser(invalid, { user: invalid.toString('utf8') })).toBeNull();
    expect(matchOsUser(Buffer.from('r\u00e9'), { user: 'r\u00e9' })).toBe('user-match');
    expect(matchOsUser(Buffer.alloc(0), { user: '' })).toBeNull();
  });
});

describeAsRoot('authenticateSocket with real clients of other OS users', () => {
  const dir = tempDir();
  const socketPath = path.join(dir.path, 'peers.sock');
  const server = net.createServer();
  let nobody: OsUser;
  let daemon: OsUser;
  let valerie: OsUser;
  let stephanie: OsUser;
  const noEntryUid = unmappedUid();

  beforeAll(async () => {
    nobody = ensureOsUser('nobody');
    daemon = ensureOsUser('daemon');
    valerie = ensureOsUser('valerie');
    stephanie = ensureOsUser('stephanie');
    await listen(server, socketPath);
  });
  afterAll(async () => {
    await close(server);
    dir.remove();
  });

  async function decide(as: { uid: number; gid: number }, account: AuthSocketAccount) {
    const peer = await connectAs(server, socketPath, as);
    try {
      const result = await authenticateSocket(peer.socket, account);
      // The kernel's answer names the real child process and its identity.
      expect(result).toMatchObject({ pid: peer.child.pid, uid: as.uid, gid: as.gid });
      return result;
    } finally {
      await peer.close();
    }
  }

  it('nobody and daemon are accepted as themselves and refused as each other', async () => {
    expect(await decide(nobody, { user: 'nobody' })).toMatchObject({ ok: true, reason: 'user-match', osUser: 'nobody' });
    expect(await decide(daemon, { user: 'daemon' })).toMatchObject({ ok: true, reason: 'user-match', osUser: 'daemon' });
    expect(await decide(nobody, { user: 'daemon' })).toMatchObject({ ok: false, reason: 'user-mismatch', osUser: 'nobody' });
    expect(await decide(daemon, { user: 'root' })).toMatchObject({ ok: false, reason: 'user-mismatch', osUser: 'daemon' });
  });

  it('a uid without a passwd entry is refused as unknown-uid, whatever it asks for', async () => {
    const as = { uid: noEntryUid, gid: noEntryUid };
    const result = await decide(as, { user: String(noEntryUid), authenticationString: String(noEntryUid) });
    expect(result).toEqual({ ok: false, reason: 'unknown-uid', uid: noEntryUid, gid: noEntryUid, pid: expect.any(Number) });
  });

  it("the manual's valerie/stephanie scenario: AS 'stephanie' lets stephanie use valerie's account", async () => {
    const plain = { user: 'valerie' };
    const withAs = { user: 'valerie', authenticationString: 'stephanie' };
    expect(await decide(valerie, plain)).toMatchObject({ ok: true, reason: 'user-match' });
    expect(await decide(stephanie, plain)).toMatchObject({ ok: false, reason: 'user-mismatch', osUser: 'stephanie' });
    expect(await decide(stephanie, withAs)).toMatchObject({ ok: true, reason: 'authentication-string-match', osUser: 'stephanie' });
    expect(await decide(valerie, withAs)).toMatchObject({ ok: true, reason: 'user-match' });
    expect(await decide(nobody, withAs)).toMatchObject({ ok: false, reason: 'user-mismatch' });
  });
});
