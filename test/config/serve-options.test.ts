// The serve command's options: --defaults-file's [mysqld] and [auth-socket] groups, then the
// command line over them; `-`/`_`, loose-, repeatable lists, and errors naming option and source.
import fs from 'fs';
import os from 'os';
import path from 'path';

import { DEFAULT_SERVE_SOCKET, isHelpRequest, parseServeArgs, SERVE_USAGE } from '../../lib/config/serve-options';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-socket-serve-options-'));
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function cnf(text: string, name = 'my.cnf'): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

const withFile = (text: string, ...args: string[]) => parseServeArgs([`--defaults-file=${cnf(text)}`, ...args]);

describe('from --defaults-file', () => {
  it('reads every option of [mysqld] and [auth-socket], ignoring other groups', () => {
    const options = withFile(
      [
        '[client]',
        'socket=/not/for/us.sock',
        'port=1',
        '[mysqld]',
        'socket = "/run/auth socket/mysqld.sock"  # quoted, with a space',
        'port=3307',
        'bind_address=::1',
        'datadir=/var/lib/auth-socket',
        'plugin_dir=/opt/plugins',
        'plugin-load=auth_socket.so',
        'plugin-load-add=open_sesame',
        'plugin_load_add=ed25519;auth_simple',
        'connect_timeout=5',
        'max-connections=151',
        'log_error=/var/log/auth-socket.err',
        '[auth-socket]',
        'socket-mode=0660',
        'log-format=json',
        'server_version=8.0.36-auth-socket',
        'account=valerie@localhost:auth_socket:stephanie',
        'account=carol@%:mysql_native_password:*ABC',
        'upstream=db.example.internal:3307',
        'upstream-ssl-mode=verify_identity',
        'upstream_ssl_ca=/etc/ca.pem',
        'upstream-ssl-cert=/etc/client.pem',
        'upstream-ssl-key=/etc/client-key.pem',
        'upstream-connect-timeout=4',
        'ident_file=/etc/auth-socket/ident.conf',
        'workers=3',
      ].join('\n'),
    );
    expect(options).toEqual({
      socketPath: '/run/auth socket/mysqld.sock',
      port: 3307,
      bindAddress: '::1',
      connectTimeoutSeconds: 5,
      maxConnections: 151,
      serverVersion: '8.0.36-auth-socket',
      pluginDir: '/opt/plugins',
      pluginLoad: ['auth_socket.so', 'open_sesame', 'ed25519', 'auth_simple'],
      accounts: ['valerie@localhost:auth_socket:stephanie', 'carol@%:mysql_native_password:*ABC'],
      datadir: '/var/lib/auth-socket',
      logError: '/var/log/auth-socket.err',
      logFormat: 'json',
      socketMode: 0o660,
      upstream: { host: 'db.example.internal', port: 3307 },
      upstreamSslMode: 'VERIFY_IDENTITY',
      upstreamSslCa: '/etc/ca.pem',
      upstreamSslCert: '/etc/client.pem',
      upstreamSslKey: '/etc/client-key.pem',
      upstreamConnectTimeoutSeconds: 4,
      identFile: '/etc/auth-socket/ident.conf',
      workers: 3,
    });
  });

  it.each([
    ['/run/mysqld/mysqld.sock', { socketPath: '/run/mysqld/mysqld.sock' }],
    ['db', { host: 'db', port: 3306 }],
    ['10.0.0.5:3310', { host: '10.0.0.5', port: 3310 }],
    ['[::1]:3311', { host: '::1', port: 3311 }],
    ['[fd00::5]', { host: 'fd00::5', port: 3306 }],
  ])('upstream=%s', (value, expected) => {
    expect(withFile(`[auth-socket]\nupstream=${value}\n`).upstream).toEqual(expected);
  });

  it.each([
    ['upstream=db:0', /upstream: must be a whole number from 1 to 65535/],
    ['upstream=db:x', /upstream: must be HOST\[:PORT\] or an absolute socket path/],
    ['upstream=::1', /upstream: must be HOST\[:PORT\]/],
    ['upstream-ssl-mode=VERIFY', /upstream-ssl-mode: must be one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY/],
  ])('%s is refused, naming the line', (line, message) => {
    expect(() => withFile(`[auth-socket]\n${line}\n`)).toThrow(message);
    expect(() => withFile(`[auth-socket]\n${line}\n`)).toThrow(/my\.cnf:2\)/);
  });

  it('keeps upstream options out of [mysqld], where a real mysqld would choke on them', () => {
    expect(() => withFile('[mysqld]\nupstream=db\n')).toThrow(/upstream is not a mysqld option: put it in \[auth-socket\]/);
  });

  it('lets a later line win for single values, and plugin-load reset the list as mysqld does', () => {
    const options = withFile('[mysqld]\nport=1\nplugin-load-add=a\nplugin-load=b\nplugin-load-add=c\n[auth-socket]\nport=2\n');
    expect(options.port).toBe(2);
    expect(options.pluginLoad).toEqual(['b', 'c']);
  });

  it('follows !include and !includedir', () => {
    cnf('[mysqld]\nplugin-load-add=from-a\n', 'conf.d/a.cnf');
    cnf('[auth-socket]\naccount=b@localhost:auth_socket\n', 'conf.d/b.cnf');
    const options = withFile(`[mysqld]\n!includedir ${path.join(dir, 'conf.d')}\nport=9\n`);
    expect(options).toMatchObject({ port: 9, pluginLoad: ['from-a'], accounts: ['b@localhost:auth_socket'] });
  });

  it('keeps the defaults when the file sets nothing', () => {
    expect(withFile('# nothing here\n[client]\nuser=x\n')).toMatchObject({
      socketPath: DEFAULT_SERVE_SOCKET,
      port: null,
      bindAddress: '127.0.0.1',
      socketMode: null,
      datadir: null,
    });
  });

  it('passes an unknown loose- option, and a known one works under loose-', () => {
    expect(withFile('[mysqld]\nloose-innodb_buffer_pool_size=1G\nloose_some-flag\nloose-port=7\n').port).toBe(7);
    expect(parseServeArgs(['--loose-whatever', '--loose-port=8', '--loose_nothing=1']).port).toBe(8);
  });

  it('refuses an unknown option, naming the file and line', () => {
    const file = cnf('[mysqld]\n\nskip-networking\n');
    expect(() => parseServeArgs([`--defaults-file=${file}`])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: `unknown option skip-networking (${file}:3)` }),
    );
  });

  it('refuses a bad value, naming the option and its file:line', () => {
    const cases: Array<[string, RegExp]> = [
      ['port=0', /^port: must be a whole number from 1 to 65535, not '0' \(.*my\.cnf:2\)$/],
      ['connect_timeout=1.5', /^connect_timeout: must be a whole number/],
      ['max-connections=-1', /^max-connections: must be a whole number/],
      ['socket', /^socket needs a value \(.*my\.cnf:2\)$/],
      ['socket=', /^socket: must not be empty/],
      ['log-error', /^log-error needs a value/],
    ];
    for (const [line, message] of cases) expect(() => withFile(`[mysqld]\n${line}\n`)).toThrow(message);
    expect(() => withFile('[auth-socket]\nsocket-mode=999\n')).toThrow(/^socket-mode: must be an octal mode such as 0660, not '999' \(.*my\.cnf:2\)$/);
    expect(() => withFile('[auth-socket]\naccount=nobody\n')).toThrow(/^account: an account is USER@HOST:PLUGIN.*not 'nobody' \(.*my\.cnf:2\)$/);
  });

  it('keeps our own options out of [mysqld], so a real mysqld can read the same file', () => {
    for (const line of ['socket-mode=0660', 'account=a@localhost:auth_socket', 'server-version=1']) {
      expect(() => withFile(`[mysqld]\n${line}\n`)).toThrow(/is not a mysqld option: put it in \[auth-socket\] \(.*my\.cnf:2\)/);
    }
  });

  it('refuses a missing --defaults-file, and one without a value', () => {
    const missing = path.join(dir, 'absent.cnf');
    expect(() => parseServeArgs([`--defaults-file=${missing}`])).toThrow(`Could not open required defaults file: ${missing}`);
    expect(() => parseServeArgs(['--defaults-file'])).toThrow(/--defaults-file needs a value/);
  });

  it('passes a file syntax error on with its file:line', () => {
    const file = cnf('port=1\n');
    expect(() => parseServeArgs([`--defaults-file=${file}`])).toThrow(`Found option without preceding group in config file ${file} at line 1`);
  });
});

describe('the command line', () => {
  it('wins over the file wherever --defaults-file stands, and adds to its lists', () => {
    const file = cnf('[mysqld]\nport=3307\nsocket=/file.sock\nplugin-load-add=a\n[auth-socket]\naccount=f@localhost:auth_socket\n');
    const options = parseServeArgs(['--port=3308', `--defaults-file=${file}`, '--plugin-load-add', 'b', '--account=c@localhost:auth_socket']);
    expect(options).toMatchObject({
      port: 3308,
      socketPath: '/file.sock',
      pluginLoad: ['a', 'b'],
      accounts: ['f@localhost:auth_socket', 'c@localhost:auth_socket'],
    });
    expect(parseServeArgs([`--defaults-file=${file}`, '--plugin-load=z']).pluginLoad).toEqual(['z']);
  });

  it('takes the new options, with - and _ alike', () => {
    expect(parseServeArgs(['--datadir=/d', '--log_error=/e.err', '--socket_mode=777'])).toMatchObject({
      datadir: '/d',
      logError: '/e.err',
      socketMode: 0o777,
    });
    expect(parseServeArgs(['--socket-mode', '0600']).socketMode).toBe(0o600);
    for (const mode of ['0o666', '66', '08', '01777', 'rw']) {
      expect(() => parseServeArgs([`--socket-mode=${mode}`])).toThrow(/--socket-mode: must be an octal mode/);
    }
  });

  it('names the option in its errors and adds the usage', () => {
    expect(() => parseServeArgs(['--nope=1'])).toThrow(`unknown option --nope\n${SERVE_USAGE}`);
    expect(() => parseServeArgs(['--port=x'])).toThrow(/^--port: must be a whole number from 1 to 65535, not 'x'\nusage:/);
    expect(() => parseServeArgs(['-P', '3306'])).toThrow(/^unexpected argument: -P/);
  });
});

describe('--help', () => {
  it('is asked for by --help or -? anywhere, and the usage names every option', () => {
    expect(isHelpRequest(['--port=1', '--help'])).toBe(true);
    expect(isHelpRequest(['-?'])).toBe(true);
    expect(isHelpRequest(['--port=1'])).toBe(false);
    const names = ['defaults-file', 'socket', 'socket-mode', 'port', 'bind-address', 'connect-timeout', 'max-connections'];
    names.push('server-version', 'plugin-dir', 'plugin-load', 'plugin-load-add', 'datadir', 'log-error', 'account', 'help');
    for (const name of names) expect(SERVE_USAGE).toContain(`--${name}`);
  });
});
