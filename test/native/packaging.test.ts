// The package as users get it: the committed prebuild matches native/, the root entry works from
// require and import, and the loader finds the addon.
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';

import { native } from '../../lib/native';

const root = path.join(__dirname, '..', '..');
const { sourceHash } = require(path.join(root, 'scripts', 'source-hash.js'));
const prebuild = path.join(root, 'prebuilds', 'linux-x64', 'auth_socket.node');

describe('packaging', () => {
  it('commits a linux-x64 prebuild built from the current native/ sources', () => {
    expect(fs.existsSync(prebuild)).toBe(true);
    const prebuilt = require(prebuild);
    expect(prebuilt.sourceHash).toBe(sourceHash(root));
  });

  it('loads an addon built from the current sources (PREBUILDS_ONLY=1 forces the prebuild)', () => {
    expect(native.sourceHash).toBe(sourceHash(root));
    if (process.env.PREBUILDS_ONLY) {
      expect(require('node-gyp-build').resolve(root)).toBe(prebuild);
    }
  });

  it('names the addon auth_socket.node, like the manual names auth_socket.so', () => {
    expect(path.basename(require('node-gyp-build').resolve(root))).toBe('auth_socket.node');
  });

  // The compiled package (npm test builds dist/ first) through its own name, as users load it.
  const built = fs.existsSync(path.join(root, 'dist', 'index.js'));
  (built ? it : it.skip)('works from require and from import with the same named exports', () => {
    const script = (kind: 'require' | 'import') =>
      kind === 'require'
        ? "const m = require('auth-socket'); console.log(typeof m.getPeerCredentials, typeof m.authenticateSocket, typeof m.peerCredentialGuard)"
        : "import { getPeerCredentials, authenticateSocket, peerCredentialGuard } from 'auth-socket'; console.log(typeof getPeerCredentials, typeof authenticateSocket, typeof peerCredentialGuard)";
    for (const kind of ['require', 'import'] as const) {
      const args = kind === 'import' ? ['--input-type=module', '-e', script(kind)] : ['-e', script(kind)];
      expect(execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim()).toBe('function function function');
    }
  });

  it('declares what npm needs to install it without compiling', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.scripts.install).toBe('node-gyp-build');
    expect(pkg.types).toBe('dist/index.d.ts');
    expect(pkg.files).toEqual(expect.arrayContaining(['dist/', 'prebuilds/', 'native/', 'binding.gyp']));
    expect(pkg.engines.node).toBeDefined();
    expect(pkg.dependencies['node-gyp-build']).toBeDefined();
  });
});
