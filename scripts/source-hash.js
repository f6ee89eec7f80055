#!/usr/bin/env node
'use strict';
// SHA-256 over binding.gyp and the addon's sources under native/ (fuzz harnesses excluded: they
// are not linked into the addon). Compiled into the addon so a test can prove that the committed
// prebuild was built from the sources beside it.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

function sourceFiles(root) {
  const out = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'fuzz') walk(full);
      } else if (/\.(cc|h)$/.test(entry.name)) {
        out.push(path.relative(root, full).split(path.sep).join('/'));
      }
    }
  };
  walk(path.join(root, 'native'));
  out.push('binding.gyp');
  return out.sort();
}

function sourceHash(root) {
  const hash = crypto.createHash('sha256');
  for (const rel of sourceFiles(root)) {
    hash.update(rel + '\0');
    hash.update(fs.readFileSync(path.join(root, rel)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

module.exports = { sourceHash };
if (require.main === module) process.stdout.write(sourceHash(path.join(__dirname, '..')));
