// `auth-socket serve`: option parsing, plugin loading from --plugin-dir, and the resulting server
// answering the real mariadb CLI.
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';

import { PacketChannel } from '../../lib/transport/packet-channel';
import { parseHandshakeV10 } from '../../lib/protocol/handshake';
import { parseErr } from '../../lib/protocol/responses';
import { ErrorLog } from '../../lib/cli/error-log';
import { claimSocketPath, defaultDatadir, RunningServer, startServe } from '../../lib/cli/serve';
import { ServerPlugins } from '../../lib/server/catalog/plugins';
import { parseAccountSpec, parseServeArgs } from '../../lib/config/serve-options';
import { lookupUserSync } from '../../lib/peer/users';
import { runMariadbCli } from '../helpers/clients';
import { tempDir, TempDir } from '../helpers/sockets';

const me = lookupUserSync(process.getuid!())!.name;

// A server plugin as a user would ship it: a CommonJS module named after the plugin.
const OPEN_SESAME_PLUGIN = `'use strict';
module.exports = {
  name: 'open_sesame',
  clientPluginName: null,
  async authenticate(vio, info) {
    info.passwordUsed = 2;
    return info.userName === 'alibaba' ? -1 : 0;
  },
};
`;

let dir: TempDir;

beforeAll(() => {
  dir = tempDir();
  fs.mkdirSync(path.join(dir.path, 'plugins'));
  fs.writeFileSync(path.join(dir.path, 'plugins', 'open_sesame.js'), OPEN_SESAME_PLUGIN);
  fs.writeFileSync(path.join(dir.path, 'plugins', 'not_a_plugin.js'), 'module.exports = { hello: 1 };\n');
});

afterAll(() => dir.remove());

describe('parseServeArgs', () => {
  it('takes mysqld-style --name=value and --name value, and accumulates lists', () => {
    expect(
      parseServeArgs([
        '--socket=/tmp/x.sock',
        '--port',
        '3307',
        '--connect_timeout=5',
        '--plugin-dir=/p',
        '--plugin-load=a.js;b',
        '--plugin-load-add=auth_socket.so',
        '--account=valerie@localhost:auth_socket:stephanie',
        '--ident-file',
        '/etc/ident.conf',
      ]),
    ).toEqual({
      socketPath: '/tmp/x.sock',
      port: 3307,
      bindAddress: '127.0.0.1',
      connectTimeoutSeconds: 5,
      maxConnections: null,
      serverVersion: null,
      pluginDir: '/p',
      pluginLoad: ['a.js', 'b', 'auth_socket.so'],
      accounts: ['valerie@localhost:auth_socket:stephanie'],
      datadir: null,
      logError: null,
      logFormat: 'text',
      socketMode: null,
      upstream: null,
      upstreamSslMode: null,
      upstreamSslCa: null,
      upstreamSslCert: null,
      upstreamSslKey: null,
      upstreamConnectTimeoutSeconds: null,
      identFile: '/etc/ident.conf',
      workers: 1,
    });
    expect(parseServeArgs(['--workers=auto']).workers).toBe(os.availableParallelism());
    // As mysqld's: --plugin-load replaces the list so far, --plugin-load-add extends it.
    expect(parseServeArgs(['--plugin-load-add=x', '--plugin-load=y']).pluginLoad).toEqual(['y']);
  });

  it('refuses unknown options, bare words, missing values and bad numbers', () => {
    for (const args of [['--bogus=1'], ['serve'], ['--socket'], ['--port=0'], ['--port=70000'], ['--connect-timeout=1.5'], ['--workers=0'], ['--workers=257'], ['--workers=two']]) {
      expect(() => parseServeArgs(args)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
    expect(() => parseServeArgs(['--bogus'])).toThrow(/unknown option --bogus/);
  });

  it('reads account specs, the AS string keeping its colons', () => {
    expect(parseAccountSpec('carol@%:mysql_native_password:*ABC')).toEqual({
      user: 'carol',
      host: '%',
      plugin: 'mysql_native_password',
      authenticationString: '*ABC',
    });
    expect(parseAccountSpec('nobody:auth_socket')).toEqual({ user: 'nobody', host: 'localhost', plugin: 'auth_socket' });
    expect(parseAccountSpec('x@localhost:auth_simple:a:b')).toMatchObject({ authenticationString: 'a:b' });
    expect(() => parseAccountSpec('nobody')).toThrow(/USER@HOST:PLUGIN/);
  });
});

describe('plugin libraries (the catalog loads them as mysqld loads a .so from plugin_dir)', () => {
  const pluginDir = () => path.join(dir.path, 'plugins');
  const plugins = () => new ServerPlugins(pluginDir(), []);

  it('knows the packaged libraries by the manual names, and loads the rest from plugin_dir', () => {
    expect(plugins().loadForRun('auth_socket.so').map((entry) => entry.plugin.name)).toEqual(['auth_socket']);
    expect(plugins().loadForRun('open_sesame.so').map((entry) => entry.library)).toEqual(['open_sesame.so']);
    expect(plugins().loadForRun('open_sesame=open_sesame.js').map((entry) => entry.plugin.name)).toEqual(['open_sesame']);
  });

  it("lets a library outside the project require('auth-socket')", () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-socket-plugins-'));
    try {
      fs.writeFileSync(
        path.join(outside, 'declared.js'),
        "const { CR_OK } = require('auth-socket');\nmodule.exports = { name: 'declared', clientPluginName: null, authenticate: () => CR_OK };\n",
      );
      const [entry] = new ServerPlugins(outside, []).loadForRun('declared.so');
      expect(entry.plugin.name).toBe('declared');
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it("refuses with MySQL's errors: paths and missing files 1126, no such plugin 1127", () => {
    const errno = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as { err?: { errno: number } }).err?.errno;
      }
      return undefined;
    };
    expect(errno(() => plugins().loadForRun('../open_sesame'))).toBe(1126);
    expect(errno(() => plugins().loadForRun('/etc/passwd'))).toBe(1126);
    expect(errno(() => plugins().loadForRun('nope'))).toBe(1126);
    expect(errno(() => new ServerPlugins(null, []).loadForRun('open_sesame'))).toBe(1126);
    expect(errno(() => plugins().loadForRun('not_a_plugin'))).toBe(1127);
    expect(errno(() => plugins().loadForRun('other=open_sesame'))).toBe(1127);
    const once = plugins();
    once.install('open_sesame', 'open_sesame.so');
    expect(errno(() => once.install('open_sesame', 'open_sesame.so'))).toBe(1125);
  });
});

/** The error log's lines, kept for the test to read. */
function recordingLog(lines: string[]): ErrorLog {
  return {
    note: (message) => lines.push(`note: ${message}`),
    login: (connection) => lines.push(`login: ${connection.user}@${connection.host} ${connection.plugin}`),
    refuse: (error) => lines.push(`refused: ${error.errno ?? '-'} ${error.reason}`),
    close: () => {},
  };
}

describe('startServe', () => {
  let running: RunningServer;
  let socketPath: string;
  const lines: string[] = [];

  beforeAll(async () => {
    socketPath = path.join(dir.path, 'serve.sock');
    running = await startServe(
      parseServeArgs([
        `--socket=${socketPath}`,
        `--datadir=${path.join(dir.path, 'data')}`,
        `--plugin-dir=${path.join(dir.path, 'plugins')}`,
        '--plugin-load-add=auth_socket.so;open_sesame',
        `--account=${me}@localhost:auth_socket`,
        '--account=alibaba@localhost:open_sesame',
        '--account=ldap@localhost:authentication_ldap_simple',
      ]),
      recordingLog(lines),
    );
  });

  afterAll(() => running.stop());

  it('serves the mariadb CLI with the declared accounts and the loaded plugin', async () => {
    const run = await runMariadbCli({ endpoint: { socketPath }, user: me, sql: 'SELECT CURRENT_USER(), @@external_user' });
    expect(run).toEqual({ code: 0, stdout: `${me}@localhost\t${me}\n`, stderr: '' });
    const sesame = await runMariadbCli({ endpoint: { socketPath }, user: 'alibaba', sql: 'SELECT USER()' });
    expect(sesame).toEqual({ code: 0, stdout: 'alibaba@localhost\n', stderr: '' });
    expect(lines).toContain('login: alibaba@localhost open_sesame');
  });

  it('answers an account whose plugin was not loaded with 1524, and logs the refusal', async () => {
    const run = await runMariadbCli({ endpoint: { socketPath }, user: 'ldap', sql: 'SELECT 1' });
    expect(run).toEqual({ code: 1, stdout: '', stderr: "ERROR 1524 (HY000): Plugin 'authentication_ldap_simple' is not loaded\n" });
    expect(lines).toContain('refused: 1524 plugin-not-loaded');
    expect(fs.statSync(socketPath).mode & 0o777).toBe(0o666);
  });
});

describe('--max-connections', () => {
  it('counts the socket and the TCP listener together, as mysqld counts every connection', async () => {
    const socketPath = path.join(dir.path, 'limited.sock');
    // Port 0 (any free one) is not an option mysqld takes, so it is set on the parsed options.
    const options = { ...parseServeArgs([`--socket=${socketPath}`, `--datadir=${path.join(dir.path, 'limited')}`, '--max-connections=1']), port: 0 };
    const running = await startServe(options, recordingLog([]));
    const { port } = running.listeners[1].address() as net.AddressInfo;
    const first = async (socket: net.Socket) => new PacketChannel(socket).read();
    const held = [net.connect(socketPath), net.connect({ port, host: '127.0.0.1' })];
    try {
      // One slot, plus MySQL's extra one (for an administrator, decided after login): both greeted.
      for (const socket of held) parseHandshakeV10(await first(socket));
      const third = net.connect(socketPath);
      expect(parseErr(await first(third))).toEqual({ errno: 1040, sqlState: '08004', message: 'Too many connections' });
      third.destroy();
    } finally {
      for (const socket of held) socket.destroy();
      await running.stop();
    }
  });

  it('takes only a whole number', () => {
    expect(parseServeArgs(['--max_connections=7']).maxConnections).toBe(7);
    expect(() => parseServeArgs(['--max-connections=0'])).toThrow(/whole number/);
  });
});

// Never a shared temp directory, where another user could have made it first.
it("puts the default datadir where mysqld's would be for root, in the user's own state directory otherwise", () => {
  if (process.geteuid!() === 0) expect(defaultDatadir()).toBe('/var/lib/auth-socket');
  else expect(defaultDatadir()).toBe(path.join(process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state'), 'auth-socket'));
});

describe('claimSocketPath', () => {
  it('removes a socket file a dead server left, and refuses a live one, a regular file, a missing directory, a path too long', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-socket-stale-'));
    try {
      const stale = path.join(dir, 'stale.sock');
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(stale, resolve));
      await expect(claimSocketPath(stale)).rejects.toMatchObject({ code: 'ERR_SOCKET_IN_USE', message: expect.stringMatching(/already listening/) });
      // Closing a net.Server unlinks its socket; a hard link keeps a socket file behind, as a
      // crashed run would.
      const leftover = path.join(dir, 'leftover.sock');
      fs.linkSync(stale, leftover);
      await new Promise((resolve) => server.close(resolve));
      await claimSocketPath(leftover);
      expect(fs.existsSync(leftover)).toBe(false);

      const precious = path.join(dir, 'not-a-socket');
      fs.writeFileSync(precious, 'keep me');
      await expect(claimSocketPath(precious)).rejects.toMatchObject({ code: 'ERR_SOCKET_PATH' });
      expect(fs.readFileSync(precious, 'utf8')).toBe('keep me');
      await expect(claimSocketPath(path.join(dir, 'absent', 's.sock'))).rejects.toThrow(/does not exist/);
      await expect(claimSocketPath(path.join(dir, 'x'.repeat(120)))).rejects.toThrow(/sun_path/);
      await claimSocketPath(path.join(dir, 'absent.sock')); // nothing there: free
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
