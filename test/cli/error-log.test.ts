// The error log's writes: login lines gathered and appended together, the server's notes at once
// and after what was gathered, every line whole, nothing lost on a normal exit.
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

import { openErrorLog } from '../../lib/cli/error-log';
import type { AuthenticatedConnection } from '../../lib/server/connection';
import { waitFor } from '../helpers/serve-process';

const connection = (user: string, pid: number) =>
  ({
    user,
    host: 'localhost',
    account: { user, host: 'localhost' },
    plugin: 'auth_socket',
    externalUser: user,
    peer: { pid, uid: 1000, gid: 1000 },
    identMapLine: null,
  }) as unknown as AuthenticatedConnection;

describe('openErrorLog', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-socket-log-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gathers login lines into one later append; a note goes out at once, after them', async () => {
    const file = path.join(dir, 'error.log');
    const log = openErrorLog(file, 'text');
    try {
      log.login(connection('valerie', 11));
      log.login(connection('stephanie', 12));
      // Not written by the call itself: no system call per login.
      expect(fs.readFileSync(file, 'utf8')).toBe('');
      await waitFor(() => fs.readFileSync(file, 'utf8').split('\n').length === 3, 'both login lines');
      log.login(connection('valerie', 13));
      log.note('shutting down');
      const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(lines.map((line) => /pid=(\d+)|\] (shutting down)/.exec(line)?.slice(1).find(Boolean))).toEqual(['11', '12', '13', 'shutting down']);
      expect(lines[0]).toMatch(/^\S+Z \[Note\] Access granted for user 'valerie'@'localhost' user="valerie" host="localhost" account="valerie@localhost" plugin="auth_socket" osUser="valerie" uid=1000 pid=11 result="OK"$/);
    } finally {
      log.close();
    }
  });

  it('writes what was gathered when the process exits before the next append', () => {
    const file = path.join(dir, 'exit.log');
    const script = `
      const { openErrorLog } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'cli', 'error-log.js'))});
      const log = openErrorLog(${JSON.stringify(file)}, 'json');
      log.login(${JSON.stringify(connection('valerie', 21))});
      process.exit(0);`;
    execFileSync(process.execPath, ['-e', script]);
    const [line, ...more] = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(more).toEqual([]);
    expect(JSON.parse(line)).toMatchObject({ event: 'login', user: 'valerie', pid: 21, result: 'OK' });
  });
});
