'use strict';
// npm run bench: every bench in this folder, one after the other, each printing its ratios
// against a reference measured in the same run.
const { execFileSync } = require('child_process');
const path = require('path');

for (const bench of ['peercred.bench.js', 'handshakes.bench.js', 'handshakes-c.bench.js', 'proxy.bench.js']) {
  console.log(`\n== ${bench}`);
  execFileSync(process.execPath, [path.join(__dirname, bench)], { stdio: 'inherit' });
}
