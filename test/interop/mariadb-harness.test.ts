// The private-MariaDB harness itself: start, query, reach from other OS users, stop leaving nothing.
import fs from 'fs';
import net from 'net';

import { accessDenied1698, runMariadbCli, runNodeClient } from '../helpers/clients';
import { MariadbInstance, startMariadb } from '../helpers/mariadb';
import { describeAsRoot, ensureOsUser, unmappedUid } from '../helpers/root';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

// The server's first packet: a greeting, or an ERR such as "Host not allowed".
function firstPacket(port: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data);
    });
    socket.once('error', reject);
  });
}

describe('startMariadb', () => {
  let db: MariadbInstance;
  beforeAll(async () => {
    db = await startMariadb();
  });
  afterAll(() => db?.stop());

  it('runs a private 10.11 server on its own socket and answers queries as the admin account', async () => {
    expect(fs.statSync(db.socketPath).isSocket()).toBe(true);
    expect(db.port).toBeUndefined();
    const [row] = await db.query('SELECT VERSION() AS version, @@socket AS socket, @@skip_networking AS skip, @@datadir AS datadir');
    expect(row.version).toMatch(/^10\.11\./);
    expect(row.socket).toBe(db.socketPath);
    expect(row.skip).toBe(1);
    expect(row.datadir).toBe(`${db.datadir}/`);
  });

  it('returns no rows for statements without a result set', async () => {
    await expect(db.query('DO 1')).resolves.toEqual([]);
  });

  it('rejects a failed start with the server log', async () => {
    await expect(startMariadb({ extraArgs: ['--no-such-option'] })).rejects.toThrow(/unknown (variable|option)/);
  });

  it('stop() ends the pid it started and removes the temp dir', async () => {
    const other = await startMariadb();
    expect(isAlive(other.pid)).toBe(true);
    await other.stop();
    expect(isAlive(other.pid)).toBe(false);
    expect(fs.existsSync(other.datadir)).toBe(false);
    expect(fs.existsSync(other.socketPath)).toBe(false);
    await other.stop();
  });

  it('listens on 127.0.0.1 with tcp: true and loads the requested plugins', async () => {
    const other = await startMariadb({ tcp: true, plugins: ['auth_ed25519'] });
    try {
      expect(other.port).toEqual(expect.any(Number));
      const [row] = await other.query(
        "SELECT @@port AS port, @@bind_address AS bind, (SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'ed25519') AS ed25519",
      );
      expect(row).toEqual({ port: other.port, bind: '127.0.0.1', ed25519: 'ACTIVE' });
      // 0x0a: protocol 10 greeting (byte 4, after the 3-byte length and the sequence id).
      expect((await firstPacket(other.port as number))[4]).toBe(0x0a);
    } finally {
      await other.stop();
    }
    expect(isAlive(other.pid)).toBe(false);
  });

  describeAsRoot('as other OS users', () => {
    it('lets nobody, daemon and a uid without passwd entry reach the socket', async () => {
      const nobody = ensureOsUser('nobody');
      const daemon = ensureOsUser('daemon');
      const uid = unmappedUid();
      // One account per statement: in `CREATE USER a, b IDENTIFIED VIA ...` the clause binds to b only.
      await db.query("CREATE USER 'nobody'@'localhost' IDENTIFIED VIA unix_socket");
      await db.query("CREATE USER 'daemon'@'localhost' IDENTIFIED VIA unix_socket");
      const viaCli = await runMariadbCli({
        endpoint: { socketPath: db.socketPath },
        user: 'nobody',
        sql: 'SELECT CURRENT_USER()',
        as: nobody,
      });
      expect(viaCli).toEqual({ code: 0, stdout: 'nobody@localhost\n', stderr: '' });
      const viaNode = await runNodeClient({
        driver: 'mysql2',
        endpoint: { socketPath: db.socketPath },
        user: 'daemon',
        sql: 'SELECT CURRENT_USER()',
        as: daemon,
      });
      expect(viaNode).toEqual({ rows: [['daemon@localhost']] });
      // Reached the server and refused by it, not by the file system.
      const unmapped = await runMariadbCli({
        endpoint: { socketPath: db.socketPath },
        user: 'nobody',
        sql: 'SELECT 1',
        as: { uid, gid: uid },
      });
      expect(unmapped).toEqual({ code: 1, stdout: '', stderr: `${accessDenied1698('nobody')}\n` });
    });
  });
});
