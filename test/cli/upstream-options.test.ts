// serve's upstream settings: PEM files read at start (a missing one stops the start, naming it),
// and upstream-ssl-* without upstream refused rather than silently ignored.
import fs from 'fs';
import os from 'os';
import path from 'path';

import { upstreamOptions } from '../../lib/cli/serve';
import { parseServeArgs } from '../../lib/config/serve-options';

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upstream-options-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('no upstream: none', () => {
  expect(upstreamOptions(parseServeArgs([]))).toBeNull();
});

test('the PEM files are read, the mode, address and timeout carried over', () => {
  const ca = path.join(dir, 'ca.pem');
  fs.writeFileSync(ca, 'CA PEM');
  const options = upstreamOptions(parseServeArgs(['--upstream=db:3310', '--upstream-ssl-mode=VERIFY_CA', `--upstream-ssl-ca=${ca}`, '--upstream-connect-timeout=3']));
  expect(options).toEqual({ host: 'db', port: 3310, sslMode: 'VERIFY_CA', ssl: { ca: Buffer.from('CA PEM'), cert: undefined, key: undefined }, connectTimeout: 3000 });
});

test('a PEM file that cannot be read stops the start, naming the option', () => {
  const missing = path.join(dir, 'missing.pem');
  expect(() => upstreamOptions(parseServeArgs(['--upstream=db', `--upstream-ssl-key=${missing}`]))).toThrow(
    expect.objectContaining({ code: 'ERR_UPSTREAM_SSL_FILE', message: expect.stringContaining(`upstream-ssl-key=${missing}: ENOENT`) }),
  );
});

test.each([['--upstream-ssl-mode=REQUIRED'], ['--upstream-ssl-ca=/x.pem']])('%s without upstream is refused', (arg) => {
  expect(() => upstreamOptions(parseServeArgs([arg]))).toThrow(/is set but upstream is not/);
});
