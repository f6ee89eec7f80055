// The built command, as an operator runs it: `auth-socket serve --defaults-file=FILE` listening
// where the file (overridden by the command line) says, the real mariadb CLI logging in through
// it, and `--help` exiting 0. Needs dist/ (`npm test` and `npm run build` make it).
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import path from 'path';

import { lookupUserSync } from '../../lib/peer/users';
import { runMariadbCli } from '../helpers/clients';
import { tempDir, TempDir } from '../helpers/sockets';

const MAIN = path.join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
const me = lookupUserSync(process.getuid!())!.name;

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): { child: ChildProcess; exit: Promise<Exit> } {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (data) => (stdout += data));
  child.stderr!.on('data', (data) => (stderr += data));
  const exit = new Promise<Exit>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  return { child, exit };
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (data) => {
      seen += data;
      if (seen.includes('\n')) resolve(seen.slice(0, seen.indexOf('\n')));
    });
    child.once('close', (code) => reject(new Error(`serve exited ${code} before listening`)));
  });
}

let dir: TempDir;

beforeEach(() => {
  dir = tempDir();
});

afterEach(() => dir.remove());

it('serves the mariadb CLI from --defaults-file, the command line winning over the file', async () => {
  const fromFile = path.join(dir.path, 'file.sock');
  const fromCommandLine = path.join(dir.path, 'cli.sock');
  const file = path.join(dir.path, 'my.cnf');
  fs.writeFileSync(
    file,
    [
      '[mysqld]',
      `socket = "${fromFile}"   # the command line moves it`,
      'plugin-load-add = auth_socket.so',
      'connect_timeout = 10',
      'max_connections = 5',
      `datadir = ${path.join(dir.path, 'data')}`,
      'loose-innodb_buffer_pool_size = 1G',
      '[auth-socket]',
      'socket-mode = 0660',
      `account = ${me}@localhost:auth_socket`,
    ].join('\n'),
  );
  const { child, exit } = cli(['serve', `--defaults-file=${file}`, `--socket=${fromCommandLine}`]);
  try {
    expect(await firstLine(child)).toBe(`auth-socket serve: listening on ${fromCommandLine}`);
    expect(fs.existsSync(fromFile)).toBe(false);
    expect(fs.statSync(fromCommandLine).mode & 0o777).toBe(0o660);
    const run = await runMariadbCli({ endpoint: { socketPath: fromCommandLine }, user: me, sql: 'select current_user()' });
    expect(run).toEqual({ code: 0, stdout: `${me}@localhost\n`, stderr: '' });
  } finally {
    child.kill('SIGTERM');
  }
  expect((await exit).code).toBe(0);
});

it('exits 2 naming the file and line of a bad option, before listening', async () => {
  const file = path.join(dir.path, 'bad.cnf');
  fs.writeFileSync(file, '[mysqld]\nport = 3306\nmax_connections = lots\n');
  const { code, stdout, stderr } = await cli(['serve', `--defaults-file=${file}`]).exit;
  expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
  expect(stderr).toBe(`max_connections: must be a whole number from 1 to 100000, not 'lots' (${file}:3)\n`);
});

it('--help prints the usage and exits 0', async () => {
  const { code, stdout, stderr } = await cli(['serve', '--port=1', '--help']).exit;
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout).toMatch(/^usage: auth-socket serve \[--defaults-file=FILE\]/);
});
