// Connection ids, MySQL's thread ids (sql/mysqld.cc: the global thread id counter), unique
// among the server's live connections: 1, 2, 3... in a server of one process; worker i of n
// (serve --workers) takes i+1, i+1+n, ... so that ids stay unique across the workers.
let firstConnectionId = 1;
let connectionIdStep = 1;
let lastConnectionId = 0;

/** Makes this process's connection ids those of worker `index` (from 0) of `count`. */
export function shareConnectionIds(index: number, count: number): void {
  firstConnectionId = index + 1;
  connectionIdStep = count;
  lastConnectionId = index + 1 - count;
}

/** The next id, wrapping past MySQL's 32 bits. */
export function nextConnectionId(): number {
  lastConnectionId += connectionIdStep;
  if (lastConnectionId > 0xffffffff) lastConnectionId = firstConnectionId;
  return lastConnectionId;
}
