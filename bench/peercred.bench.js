'use strict';
// ns per getPeerCredentials() call next to a plain C loop of getsockopt(SO_PEERCRED) built by
// this bench, and koffi's FFI getsockopt where koffi is installed: one run, same machine, ratios.
// Then, for scale, what getPeerProcess() (pidfd, /proc reads, verification, close) costs a call:
// it is what the guard's process rules add per connection. Run after `npm run build`:
// node bench/peercred.bench.js
const { execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');

const { getPeerCredentials, socketPair } = require('../dist');
const { getPeerProcess } = require('../dist/peer/process');

const ITERATIONS = 2_000_000;
const PROCESS_ITERATIONS = 20_000;
const ROUNDS = 5;
const workDir = path.join(__dirname, '.work');

const C_LOOP = `
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
int main(int argc, char **argv) {
  long n = atol(argv[1]);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
  struct ucred cred;
  unsigned long sink = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) {
    socklen_t len = sizeof cred;
    if (getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return 1;
    sink += cred.uid;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("%.2f %lu\\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n, sink);
  return 0;
}
`;

function buildCLoop() {
  fs.mkdirSync(workDir, { recursive: true });
  const source = path.join(workDir, 'peercred-loop.c');
  const binary = path.join(workDir, 'peercred-loop');
  fs.writeFileSync(source, C_LOOP);
  execFileSync('cc', ['-O2', '-o', binary, source]);
  return () => Number(execFileSync(binary, [String(ITERATIONS)], { encoding: 'utf8' }).split(' ')[0]);
}

function timeLoop(call) {
  for (let i = 0; i < 100_000; i++) call(); // warm up the JIT
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) call();
  return Number(process.hrtime.bigint() - start) / ITERATIONS;
}

function koffiLoop(fd) {
  let koffi;
  try {
    koffi = require('koffi');
  } catch {
    return null;
  }
  const libc = koffi.load('libc.so.6');
  const getsockopt = libc.func('int getsockopt(int fd, int level, int name, void *value, void *len)');
  const SOL_SOCKET = 1;
  const SO_PEERCRED = 17;
  const cred = Buffer.alloc(12);
  const len = Buffer.alloc(4);
  return () => {
    len.writeUInt32LE(12);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, len) !== 0) throw new Error('getsockopt failed');
    return cred.readUInt32LE(4);
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function main() {
  const cLoop = buildCLoop();
  const [a, b] = socketPair();
  const socket = new net.Socket({ fd: a });
  const viaSocket = () => getPeerCredentials(socket).uid;
  const viaFd = () => getPeerCredentials(a).uid;
  const viaKoffi = koffiLoop(a);

  // Interleave the legs round by round so drift on a shared machine hits each alike.
  const results = { c: [], socket: [], fd: [], koffi: [] };
  for (let round = 0; round < ROUNDS; round++) {
    results.c.push(cLoop());
    results.socket.push(timeLoop(viaSocket));
    results.fd.push(timeLoop(viaFd));
    if (viaKoffi) results.koffi.push(timeLoop(viaKoffi));
  }
  socket.destroy();
  fs.closeSync(b);

  const c = median(results.c);
  const row = (name, ns) => console.log(`${name.padEnd(52)} ${ns.toFixed(1).padStart(8)} ns/call   ${(ns / c).toFixed(2)}x C`);
  console.log(`getPeerCredentials: median of ${ROUNDS} rounds x ${ITERATIONS.toLocaleString('en')} calls`);
  row('C loop, getsockopt(SO_PEERCRED)', c);
  row('getPeerCredentials(net.Socket)', median(results.socket));
  row('getPeerCredentials(fd) (AF_UNIX check every call)', median(results.fd));
  if (viaKoffi) row('koffi FFI getsockopt(SO_PEERCRED)', median(results.koffi));
  else console.log('koffi not installed: FFI leg skipped');
  const ratio = median(results.socket) / c;
  console.log(`ratio getPeerCredentials(net.Socket) / C: ${ratio.toFixed(2)} (target <= 1.5)`);
  processLeg();
}

// getPeerProcess on a connection to ourselves: pin, read /proc/PID/cgroup, verify, close.
function processLeg() {
  const [a, b] = socketPair();
  let pinned;
  try {
    getPeerProcess(a).close();
    pinned = true;
  } catch (error) {
    console.log(`getPeerProcess not measured: ${error.code}`);
  }
  if (pinned) {
    for (let i = 0; i < 1000; i++) getPeerProcess(a).close();
    const start = process.hrtime.bigint();
    for (let i = 0; i < PROCESS_ITERATIONS; i++) getPeerProcess(a).close();
    const ns = Number(process.hrtime.bigint() - start) / PROCESS_ITERATIONS;
    console.log(`getPeerProcess(fd) + close(), ${PROCESS_ITERATIONS.toLocaleString('en')} calls`.padEnd(52), `${(ns / 1000).toFixed(1).padStart(8)} us/call`);
  }
  fs.closeSync(a);
  fs.closeSync(b);
}

main();
