// The server-wide counters behind SHOW STATUS and COM_STATISTICS, as mysqld keeps them
// (sql/mysqld.cc: status_vars[], server_start_time, Connection_handler_manager's connection
// counts, aborted_connects), plus what a Node server has and mysqld has not: the event loop's
// delay (perf_hooks.monitorEventLoopDelay) and the process's resident set. Counting is by events
// the server already emits, so the connection path carries no extra work for it.
import net from 'net';
import { IntervalHistogram, monitorEventLoopDelay } from 'perf_hooks';

// The sampling timer's period: a delay shorter than this is not seen. 1 ms is libuv's finest.
const DELAY_RESOLUTION_MS = 1;

export interface StatusValues {
  uptimeSeconds: number;
  /** Seconds since the last FLUSH STATUS, or the start (Uptime_since_flush_status). */
  sinceFlushSeconds: number;
  /** Open connections, those still in their handshake and relayed ones included (Threads_connected). */
  threadsConnected: number;
  /** Connection attempts since the start, refused ones included (Connections). */
  connections: number;
  /** Handshakes that ended without a login (Aborted_connects). */
  abortedConnects: number;
  /** Statements received (Questions). */
  questions: number;
  /** 99th percentile of the event loop's delay since the start or the last FLUSH STATUS, in µs; 0 before a sample. */
  eventLoopDelayP99Us: number;
  eventLoopDelayMaxUs: number;
  rssBytes: number;
}

/**
 * Where SHOW STATUS, FLUSH STATUS and COM_STATISTICS read when a server is one of several
 * processes (serve --workers): the counters of all of them.
 */
export interface StatusSource {
  values(): Promise<StatusValues>;
  flush(): Promise<void>;
}

/** The server's status from its processes' own: counts add up; the event loops' delays and the uptimes are the worst and the longest. */
export function combineStatus(parts: readonly StatusValues[]): StatusValues {
  const sum = (read: (v: StatusValues) => number) => parts.reduce((total, v) => total + read(v), 0);
  const max = (read: (v: StatusValues) => number) => Math.max(0, ...parts.map(read));
  return {
    uptimeSeconds: max((v) => v.uptimeSeconds),
    sinceFlushSeconds: max((v) => v.sinceFlushSeconds),
    threadsConnected: sum((v) => v.threadsConnected),
    connections: sum((v) => v.connections),
    abortedConnects: sum((v) => v.abortedConnects),
    questions: sum((v) => v.questions),
    eventLoopDelayP99Us: max((v) => v.eventLoopDelayP99Us),
    eventLoopDelayMaxUs: max((v) => v.eventLoopDelayMaxUs),
    rssBytes: sum((v) => v.rssBytes),
  };
}

export class ServerStatus {
  private readonly started = Date.now();
  private flushed = this.started;
  private questions = 0;
  private connections = 0;
  private abortedConnects = 0;
  private openConnections: () => number = () => 0;
  // Created on listen, not before: a server that never listens runs no sampling timer.
  private delay: IntervalHistogram | null = null;

  /**
   * Counts `server`'s connections ('connection') and refused handshakes ('refuse'); samples the
   * event loop while it listens. `openConnections` says how many are open now.
   */
  watch(server: net.Server, openConnections: () => number): void {
    this.openConnections = openConnections;
    server.on('connection', () => void this.connections++);
    server.on('refuse', () => void this.abortedConnects++);
    server.on('listening', () => {
      this.delay ??= monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
      this.delay.enable();
    });
    // The timer is unref'd, but a closed server should not keep sampling (tests make hundreds).
    server.on('close', () => this.delay?.disable());
  }

  question(): void {
    this.questions++;
  }

  values(): StatusValues {
    // The histogram is in ns; percentile() of an empty one is 0.
    const delayUs = (ns: number) => (this.delay === null || this.delay.count === 0 ? 0 : Math.round(ns / 1000));
    const now = Date.now();
    return {
      uptimeSeconds: Math.floor((now - this.started) / 1000),
      sinceFlushSeconds: Math.floor((now - this.flushed) / 1000),
      threadsConnected: this.openConnections(),
      connections: this.connections,
      abortedConnects: this.abortedConnects,
      questions: this.questions,
      eventLoopDelayP99Us: delayUs(this.delay?.percentile(99) ?? 0),
      eventLoopDelayMaxUs: delayUs(this.delay?.max ?? 0),
      rssBytes: process.memoryUsage.rss(),
    };
  }

  /**
   * FLUSH STATUS: the delay distribution starts again, as MySQL's refresh_status() starts
   * Max_used_connections again; the counts since the start (Connections, Questions, ...) stay.
   */
  flush(): void {
    this.flushed = Date.now();
    this.delay?.reset();
  }
}
