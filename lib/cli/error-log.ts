// The error log (mysqld's log_error): a line per authentication decision — OS user, uid, pid,
// the account asked for, its plugin, the result and the reason (and, for a login an ident map
// admitted, the map and its line as file:line), never a password — and the
// server's own notes. MySQL's text lines by default; JSON lines (--log-format=json) for log
// shippers. The lines of logins and refusals are gathered for at most FLUSH_MS and go out in one
// append of whole lines (as MySQL's audit log buffers them, audit_log_strategy=ASYNCHRONOUS): a
// login costs no system call of its own (the append was ~6% of a login under load), a crash
// never leaves half a line, and every exit but SIGKILL writes what is gathered. The server's own
// notes go out at once, after what was gathered. Two line formats and a file descriptor need no
// logging library.
import fs from 'fs';

import type { AuthenticatedConnection } from '../server/connection';
import type { HandshakeError, LoginAttempt } from '../server/refusal';

export interface ErrorLog {
  /** A server message; at MySQL's Note level unless `level` says Warning or ERROR. */
  note(message: string, level?: 'Note' | 'Warning' | 'ERROR'): void;
  login(connection: AuthenticatedConnection): void;
  refuse(error: HandshakeError): void;
  close(): void;
}

// At most this long between a line and its write: what a SIGKILL can lose.
const FLUSH_MS = 10;

type Fields = Record<string, string | number | null>;

// A client-chosen name in a message must not start a line of its own in the log.
const CONTROL = /[\x00-\x1f\x7f]/;
const escapeControls = (text: string) =>
  CONTROL.test(text) ? text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`) : text;

// ` key="value"` for each field that is not null (a line per login: a loop, not entries/filter/map).
function textFields(fields: Fields): string {
  let text = '';
  for (const key in fields) {
    const value = fields[key];
    if (value !== null) text += ` ${key}=${typeof value === 'number' ? value : JSON.stringify(value)}`;
  }
  return text;
}

// The lines of one millisecond share their time, formatted once.
let lastMs = -1;
let lastTime = '';
function timestamp(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastTime = new Date(ms).toISOString();
  }
  return lastTime;
}

/** The log to `file` (appended, created mode 0600: it names accounts and peers), or stderr. */
export function openErrorLog(file: string | null, format: 'text' | 'json'): ErrorLog {
  const fd = file === null ? 2 : fs.openSync(file, 'a', 0o600);
  let pending: string[] = [];
  let closed = false;
  let failed = false;
  const flush = () => {
    if (pending.length === 0 || closed) return;
    let bytes = Buffer.from(pending.join(''));
    pending = [];
    try {
      // A pipe or a full disk may take part of it: the rest follows, so no line is cut.
      while (bytes.length > 0) bytes = bytes.subarray(fs.writeSync(fd, bytes));
    } catch (error) {
      // The log must never stop the server: its failure is told once, on stderr.
      if (!failed) process.stderr.write(`auth-socket: the error log cannot be written: ${(error as Error).message}\n`);
      failed = true;
    }
  };
  // A start that fails, or any exit, still writes what was logged in its last turn.
  process.on('exit', flush);
  const write = (level: string, event: string, message: string, fields: Fields) => {
    const time = timestamp();
    const line =
      format === 'json'
        ? JSON.stringify({ time, level, event, message, ...fields })
        : `${time} [${level}] ${escapeControls(message)}${textFields(fields)}`;
    if (closed) return;
    if (pending.length === 0) setTimeout(flush, FLUSH_MS);
    pending.push(`${line}\n`);
  };
  const peerFields = (attempt: Pick<LoginAttempt, 'osUser' | 'peer'>): Fields => ({
    osUser: attempt.osUser,
    uid: attempt.peer?.uid ?? null,
    pid: attempt.peer?.pid ?? null,
  });
  return {
    // The server's own notes are rare and read as they happen (start, SIGHUP, shutdown): out at once.
    note: (message, level = 'Note') => {
      write(level, 'note', message, {});
      flush();
    },
    login: (c) =>
      write('Note', 'login', `Access granted for user '${c.user}'@'${c.host}'`, {
        user: c.user,
        host: c.host,
        account: `${c.account.user}@${c.account.host}`,
        plugin: c.plugin,
        ...peerFields({ osUser: c.externalUser, peer: c.peer }),
        map: c.identMapLine?.map ?? null,
        mapLine: c.identMapLine === null ? null : `${c.identMapLine.file}:${c.identMapLine.line}`,
        result: 'OK',
      }),
    refuse: (error) => {
      const attempt = error.attempt;
      write('Warning', 'refuse', error.message, {
        user: attempt?.user ?? null,
        host: attempt?.host ?? null,
        plugin: attempt?.plugin ?? null,
        ...peerFields({ osUser: attempt?.osUser ?? null, peer: attempt?.peer ?? null }),
        result: 'refused',
        errno: error.errno,
        reason: error.reason,
      });
    },
    close: () => {
      flush();
      closed = true;
      process.off('exit', flush);
      if (fd !== 2) fs.closeSync(fd);
    },
  };
}
