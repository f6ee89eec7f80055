// What the server bounds before anyone has logged in. MySQL's max_connections with its one extra
// slot for an administrator (sql/conn_handler/connection_handler_manager.cc: connections past the
// limit get ER_CON_COUNT_ERROR; the last slot goes only to CONNECTION_ADMIN / SUPER accounts) and
// its back_log (the listen queue). Beside them, what MySQL has no name for: a total of the bytes
// that connections still in their handshake may hold, so many slow partial handshakes cannot
// grow the server without bound.
import net from 'net';

import { codedError } from '../errors';

/** The listen queue when listen() names none (MySQL's back_log); the kernel caps it at somaxconn. */
export const DEFAULT_BACKLOG = 4096;

/**
 * Counts live connections against max_connections. take() answers, for a new connection, whether
 * it may go on ('open'), may go on only as an administrator ('reserved': the one extra slot), or
 * must be refused ('full'); the slot comes back when the socket closes.
 */
export class ConnectionSlots {
  private live = 0;

  constructor(private readonly max: number) {}

  take(socket: net.Socket): 'open' | 'reserved' | 'full' {
    this.live++;
    socket.once('close', () => this.live--);
    if (this.live <= this.max) return 'open';
    return this.live === this.max + 1 ? 'reserved' : 'full';
  }
}

/** A shared allowance of bytes: take() refuses what would go past the total; give() returns bytes. */
export class ByteBudget {
  private used = 0;

  constructor(readonly total: number) {}

  take(bytes: number): boolean {
    if (this.used + bytes > this.total) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}

/**
 * Makes `server.listen()` use `backlog` when the call names none. Node's default (511) filled
 * under a connect flood and legitimate connects failed with EAGAIN; the kernel caps the value at
 * net.core.somaxconn anyway.
 */
export function defaultBacklog(server: net.Server, backlog: number): void {
  const listen = server.listen as (this: net.Server, ...args: unknown[]) => net.Server;
  server.listen = function (this: net.Server, ...args: unknown[]) {
    const callback = typeof args[args.length - 1] === 'function' ? [args.pop()] : [];
    const [first, ...rest] = args;
    if (typeof first === 'object' && first !== null && !(first instanceof net.Server) && !('_handle' in first)) {
      return listen.call(this, { backlog, ...first }, ...callback);
    }
    if (typeof first === 'string') return listen.call(this, first, rest[0] ?? backlog, ...callback);
    if (typeof first === 'number' || first === undefined) {
      const host = typeof rest[0] === 'string' ? (rest.shift() as string) : undefined;
      return listen.call(this, { port: first ?? 0, host, backlog: rest[0] ?? backlog }, ...callback);
    }
    return listen.call(this, first, ...rest, ...callback);
  } as net.Server['listen'];
}

export function checkLimit(value: number | undefined, fallback: number, max: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0 || value > max) {
    throw codedError('ERR_INVALID_ARG_VALUE', `${what} must be an integer from 1 to ${max}`, TypeError);
  }
  return value;
}
