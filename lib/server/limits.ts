// What the server bounds before anyone has logged in. MySQL's max_connections with its one extra
// slot for an administrator (sql/conn_handler/connection_handler_manager.cc: connections past the
// limit get ER_CON_COUNT_ERROR; the last slot goes only to CONNECTION_ADMIN / SUPER accounts) and
// its back_log (the listen queue). Beside them, what MySQL has no name for: a total of the bytes
// that connections still in their handshake may hold, so many slow partial handshakes cannot
// grow the server without bound.
import net from 'net';


/** The listen queue when listen() names none (MySQL's back_log); the kernel caps it at somaxconn. */
export const DEFAULT_BACKLOG = 4096;

/**
 * Counts live connections against max_connections. take() answers, for a new connection, whether
 * it may go on ('open', counted until its socket closes), may go on only as an administrator
 * ('reserved': the one extra slot, counted likewise), or must be refused ('full', not counted).
 */
export class ConnectionSlots {
  private live = 0;

  constructor(private readonly max: number) {}

  /** Connections counted now (SHOW STATUS's Threads_connected). */
  get open(): number {
    return this.live;
  }

  take(socket: net.Socket): 'open' | 'reserved' | 'full' {
    // As MySQL's check_and_incr_conn_count: a refused connection is never counted, so a flood of
    // them cannot keep the administrator's slot taken.
    if (this.live > this.max) return 'full';
    this.live++;
    socket.once('close', () => this.live--);
    return this.live <= this.max ? 'open' : 'reserved';
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
 * net.core.somaxconn anyway. The arguments are read as Node's net.js reads them: a positional
 * backlog is the second or third argument when it is a number; an options object may carry one;
 * fd and handle forms take one only positionally.
 */
export function defaultBacklog(server: net.Server, backlog: number): void {
  const listen = server.listen as (this: net.Server, ...args: unknown[]) => net.Server;
  const isBacklog = (value: unknown) => typeof value !== 'function' && typeof value !== 'boolean' && Number(value) >= 0;
  server.listen = function (this: net.Server, ...args: unknown[]) {
    const [first, ...rest] = args;
    const callback = typeof args[args.length - 1] === 'function' ? [args[args.length - 1]] : [];
    const named = (args.length > 1 && isBacklog(args[1])) || (args.length > 2 && isBacklog(args[2]));
    if (named) return listen.apply(this, args);
    if (typeof first === 'object' && first !== null) {
      const options = first as net.ListenOptions & { fd?: number; _handle?: unknown };
      if (options.fd !== undefined || options._handle !== undefined || !('path' in options || 'port' in options)) {
        return listen.call(this, first, backlog, ...rest);
      }
      return listen.call(this, { ...options, backlog: options.backlog || backlog }, ...rest);
    }
    // A string that is not a number is a pipe (Unix socket) path.
    if (typeof first === 'string' && !(Number(first) >= 0)) return listen.call(this, first, backlog, ...rest);
    const host = typeof rest[0] === 'string' ? rest[0] : undefined;
    return listen.call(this, { port: first ?? 0, host, backlog }, ...callback);
  } as net.Server['listen'];
}
