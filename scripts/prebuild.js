#!/usr/bin/env node
'use strict';
// `npm run prebuild`: prebuildify --napi --strip, but only when the committed prebuild was not
// built from the current native/ sources. npm also runs this script as the pre-hook of
// `npm run build` (and so of `npm ci`'s prepare): there it must not compile, and under CI a stale
// prebuild is an error to fix in the commit, not something to rebuild quietly.
const { spawnSync } = require('child_process');
const path = require('path');

const { sourceHash } = require('./source-hash');

const root = path.join(__dirname, '..');
const prebuilt = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'auth_socket.node');

function prebuiltHash() {
  try {
    return require(prebuilt).sourceHash;
  } catch {
    return null;
  }
}

const wanted = sourceHash(root);
const have = prebuiltHash();
if (have === wanted && !process.argv.includes('--force')) {
  console.log(`prebuild up to date (${wanted.slice(0, 12)})`);
  process.exit(0);
}
if (process.env.CI && have !== null) {
  console.error(`prebuilds/ is stale: built from ${have.slice(0, 12)}, native/ is ${wanted.slice(0, 12)}. Run npm run prebuild and commit.`);
  process.exit(1);
}
const bin = path.join(root, 'node_modules', '.bin', 'prebuildify');
const run = spawnSync(bin, ['--napi', '--strip', '--name', 'auth_socket'], { cwd: root, stdio: 'inherit' });
process.exit(run.status === null ? 1 : run.status);
