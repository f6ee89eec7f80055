// The server side of TLS in the connection phase, as sql/auth/sql_authentication.cc runs it: a
// greeting that offers CLIENT_SSL, a client's 32-byte SSLRequest, then the TLS handshake on the
// same socket (do_ssl_handshake), after which the HandshakeResponse41 and everything else travel
// inside TLS with the packet sequence going on. Node's tls does the cryptography.
import net from 'net';
import tls from 'tls';

import { codedError } from '../errors';
import { MemoryBudget, PacketChannel } from '../transport/packet-channel';
import { HandshakeError } from './refusal';

/**
 * The secure context for options.tls (key and cert, or pfx, and whatever else Node's
 * createSecureContext takes), made once per server; null without TLS. Throws
 * ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE (the cause says what tls refused).
 */
export function serverSecureContext(options: tls.SecureContextOptions | undefined): tls.SecureContext | null {
  if (options === undefined) return null;
  if (typeof options !== 'object' || options === null) throw codedError('ERR_INVALID_ARG_TYPE', 'options.tls must be an object (tls.SecureContextOptions)', TypeError);
  if (options.pfx === undefined && (options.key === undefined || options.cert === undefined)) {
    throw codedError('ERR_INVALID_ARG_VALUE', 'options.tls needs key and cert (or pfx): a server without a certificate cannot finish a TLS handshake', TypeError);
  }
  try {
    // TLS 1.0 and 1.1 are gone from MySQL 8.0.28 on; Node's default floor is the same.
    return tls.createSecureContext({ minVersion: 'TLSv1.2', ...options });
  } catch (error) {
    const invalid = codedError('ERR_INVALID_ARG_VALUE', `options.tls: ${(error as Error).message}`, TypeError);
    invalid.cause = error;
    throw invalid;
  }
}

export interface SecuredConnection {
  socket: tls.TLSSocket;
  /** Reads and writes inside TLS, its sequence continuing the SSLRequest's. */
  channel: PacketChannel;
}

function ignoreError(): void {}

/**
 * Runs the server side of the TLS handshake on `socket`, whose channel has just read the
 * SSLRequest. Bytes the client sent right behind it (its ClientHello may share the SSLRequest's
 * TCP segment) go to TLS first. Resolves once the handshake is done; rejects with a HandshakeError
 * (ERR_SSL_CONNECTION, reason 'tls-handshake-failed': nothing can be said to the client in clear
 * any more, so no ERR is sent) and destroys the socket when it fails. `failed` hears of the
 * failure at once, before the socket's close does: the close must not hide why.
 */
export function acceptTls(
  socket: net.Socket,
  channel: PacketChannel,
  secureContext: tls.SecureContext,
  channelOptions: { maxPayloadSize: number; budget?: MemoryBudget },
  failed: (error: HandshakeError) => void,
): { socket: tls.TLSSocket; secured: Promise<SecuredConnection> } {
  const sequenceId = channel.sequenceId;
  const early = channel.detach();
  if (early.length > 0) socket.unshift(early);
  const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
  const secured = new Promise<SecuredConnection>((resolve, reject) => {
    const done = () => {
      secure.off('secure', onSecure);
      secure.off('error', onError);
      secure.off('close', onClose);
      // The handshake's channel listens from here; between its reads an error must not crash us.
      secure.on('error', ignoreError);
    };
    const onSecure = () => {
      done();
      resolve({ socket: secure, channel: new PacketChannel(secure, { ...channelOptions, sequenceId }) });
    };
    const fail = (message: string, cause?: unknown) => {
      done();
      const error = new HandshakeError('ERR_SSL_CONNECTION', null, null, 'tls-handshake-failed', message, { cause });
      failed(error);
      secure.destroy();
      socket.destroy();
      reject(error);
    };
    const onError = (error: Error) => fail(`the TLS handshake failed: ${error.message}`, error);
    const onClose = () => fail('the client went away during the TLS handshake');
    secure.once('secure', onSecure);
    secure.once('error', onError);
    secure.once('close', onClose);
  });
  return { socket: secure, secured };
}

/** The socket the handshake ended on: the TLS socket's handshake-time listener goes (see acceptTls). */
export function releaseTls(socket: net.Socket): void {
  socket.off('error', ignoreError);
}
