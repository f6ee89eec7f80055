// MySQL's plugin VIO (include/mysql/plugin_auth_common.h): what an authentication plugin, server or
// client side, sees of the connection. The server and client handshakes each supply a subclass
// that knows where the plugin's packets travel (greeting, AuthSwitchRequest, AuthMoreData, ...).
import net from 'net';
import tls from 'tls';

import { codedError } from '../errors';
import { socketFd, socketProtocol, VioProtocol } from '../peer/credentials';

export { VioProtocol };

// Plugin return codes, with MySQL's names and values.
export const CR_OK = -1;
export const CR_OK_HANDSHAKE_COMPLETE = -2;
export const CR_ERROR = 0;
export const CR_AUTH_USER_CREDENTIALS = 1;
export const CR_AUTH_HANDSHAKE = 2;
export const CR_AUTH_PLUGIN_ERROR = 3;

export type CrCode = -2 | -1 | 0 | 1 | 2 | 3;

export interface VioInfo {
  protocol: VioProtocol;
  /** The connection's fd (-1 when it has none). */
  socket: number;
  isTlsEstablished: boolean;
}

/** The transport of `socket`, decided natively from its fd (AF_UNIX -> SOCKET); INVALID once gone. */
export function vioInfoOf(socket: net.Socket): VioInfo {
  const isTlsEstablished = socket instanceof tls.TLSSocket && socket.encrypted === true;
  // A TLS socket reads through its parent's handle: the transport is the parent's.
  const transport = (socket as unknown as { _parent?: net.Socket })._parent ?? socket;
  try {
    // By socket, not fd: the transport check is then made once per handle (a server asks for it
    // more than once per connection, and getPeerCredentials reuses it).
    return { protocol: socketProtocol(transport), socket: socketFd(transport), isTlsEstablished };
  } catch {
    return { protocol: VioProtocol.INVALID, socket: -1, isTlsEstablished };
  }
}

export abstract class PluginVio {
  #socket: net.Socket | null;

  constructor(socket: net.Socket) {
    this.#socket = socket;
  }

  /** The connection; ERR_VIO_CLOSED once the handshake that made this VIO is over. */
  get socket(): net.Socket {
    if (this.#socket === null) throw codedError('ERR_VIO_CLOSED', 'the handshake is over; its VIO is closed');
    return this.#socket;
  }

  /** Drops the connection: a plugin that outlives its handshake then holds nothing of it. */
  protected release(): void {
    this.#socket = null;
  }

  /** The next packet from the other side; rejects when the connection fails or closes. */
  abstract readPacket(): Promise<Buffer>;

  /** Sends one packet to the other side. */
  abstract writePacket(data: Buffer): Promise<void>;

  info(): VioInfo {
    return this.#socket === null ? { protocol: VioProtocol.INVALID, socket: -1, isTlsEstablished: false } : vioInfoOf(this.#socket);
  }
}
