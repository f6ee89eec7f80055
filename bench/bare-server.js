'use strict';
// The reference for "the event loop itself": a bare Node server on a Unix socket that does the
// least a MySQL login over the wire takes (a fixed HandshakeV10 greeting out, the client's
// HandshakeResponse41 read whole, an OK out, then COM_QUIT or the close awaited) and checks
// nothing: no peer credentials, no account, no parse of the response. What `auth-socket serve`
// does beyond this is the cost of its handshake; this is the cost of Node's sockets.
// The greeting offers what our server's does (lib/server/options.ts SERVER_CAPABILITIES, plugin
// mysql_native_password), so libmariadb sends the same response (connect attributes included).
//   node bench/bare-server.js SOCKET_PATH     prints "listening" once it accepts connections
const fs = require('fs');
const net = require('net');

const CAPABILITIES =
  0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x40 | 0x100 | 0x200 | 0x400 | 0x1000 | 0x2000 | 0x8000 | (1 << 17) | (1 << 19) | (1 << 20) | (1 << 21) | (1 << 24);
const SERVER_STATUS_AUTOCOMMIT = 0x2;
const UTF8MB4_GENERAL_CI = 45;
const COM_QUIT = 0x01;

function packet(sequenceId, payload) {
  const header = Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, payload.length >> 16, sequenceId]);
  return Buffer.concat([header, payload]);
}

// HandshakeV10, the same bytes for every connection (a fixed scramble: nothing is verified).
const GREETING = (() => {
  const fixed = Buffer.alloc(31); // connection id .. the 10 reserved bytes
  fixed.writeUInt32LE(1, 0); // connection id
  fixed.write('abcdefgh', 4); // scramble, first 8 bytes; a 0 filler follows
  fixed.writeUInt16LE(CAPABILITIES & 0xffff, 13);
  fixed[15] = UTF8MB4_GENERAL_CI;
  fixed.writeUInt16LE(SERVER_STATUS_AUTOCOMMIT, 16);
  fixed.writeUInt16LE(CAPABILITIES >>> 16, 18);
  fixed[20] = 21; // scramble length with its NUL: 8 + 13; 10 reserved zero bytes follow
  const payload = Buffer.concat([Buffer.from([10]), Buffer.from('8.0.36-bare\0'), fixed, Buffer.from('ijklmnopqrst\0'), Buffer.from('mysql_native_password\0')]);
  return packet(0, payload);
})();

// OK: no rows, no insert id, autocommit, no warnings.
const OK_PAYLOAD = Buffer.from([0x00, 0, 0, SERVER_STATUS_AUTOCOMMIT, 0, 0, 0]);

function serve(socket) {
  let buffered = Buffer.alloc(0);
  let loggedIn = false;
  socket.on('error', () => {});
  socket.on('data', (data) => {
    buffered = buffered.length === 0 ? data : Buffer.concat([buffered, data]);
    // Whole packets only: a response may come in more than one chunk.
    while (buffered.length >= 4) {
      const length = buffered[0] | (buffered[1] << 8) | (buffered[2] << 16);
      if (buffered.length < 4 + length) return;
      const sequenceId = buffered[3];
      const first = length > 0 ? buffered[4] : -1;
      buffered = buffered.subarray(4 + length);
      if (!loggedIn) {
        loggedIn = true;
        socket.write(packet(sequenceId + 1, OK_PAYLOAD));
      } else {
        // COM_QUIT ends the session as mysqld ends it, by closing; anything else is not served here.
        if (first !== COM_QUIT) socket.write(packet(1, Buffer.from([0xff, 0x23, 0x04, 0x23, ...Buffer.from('42000not served')])));
        socket.end();
        return;
      }
    }
  });
  socket.write(GREETING);
}

const socketPath = process.argv[2];
if (socketPath === undefined) throw new Error('usage: node bench/bare-server.js SOCKET_PATH');
fs.rmSync(socketPath, { force: true });
const server = net.createServer(serve);
// As our server's: a full listen queue must not be what limits 16 clients.
server.listen({ path: socketPath, backlog: 4096 }, () => console.log('listening'));
// Never outlive the bench that started it.
process.stdin.resume();
process.stdin.on('end', () => process.exit());
