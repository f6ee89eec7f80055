// A query over a socket that connect() authenticated: proves the session behind it is the one
// the server logged in (CURRENT_USER() and friends).
import { ClientConnection } from '../../lib/client/connect';
import { PacketChannel } from '../../lib/transport/packet-channel';
import { Command } from '../../lib/protocol/constants';
import { isErrPacket, parseErr, serverErrorFrom } from '../../lib/protocol/responses';
import { readTextResultSet } from '../../lib/protocol/result-set';

/** Runs one text query on an authenticated connection; returns its rows. The connection stays open. */
export async function queryRows(connection: ClientConnection, sql: string): Promise<Array<Array<string | null>>> {
  expect(connection.leftover.length).toBe(0); // nothing after the OK, so a fresh channel starts clean
  const channel = new PacketChannel(connection.socket);
  try {
    channel.resetSequence();
    await channel.write(Buffer.concat([Buffer.of(Command.QUERY), Buffer.from(sql, 'utf8')]));
    const first = await channel.read();
    if (isErrPacket(first)) throw serverErrorFrom(parseErr(first));
    const result = await readTextResultSet(first, () => channel.read(), connection.capabilities);
    return result.rows;
  } finally {
    channel.detach();
  }
}
