// COM_CHANGE_USER (sql/sql_parse.cc dispatch_command, parse_com_change_user_packet in
// sql/auth/sql_authentication.cc): the command that re-runs authentication inside a session. Its
// builder and parser side by side; the fields are laid out per the session's capability flags.
import { Capability, Command } from './constants';
import { HandshakeResponse41, readConnectAttributes, writeConnectAttributes } from './handshake';
import { malformedPacket, PayloadReader, PayloadWriter } from './payload';

export interface ChangeUser {
  user: string;
  authResponse: Buffer;
  database: string | null;
  /** Present when the packet carries it (it is optional at the end of the packet). */
  characterSet: number | null;
  clientPluginName: string | null;
  connectAttributes: Record<string, string> | null;
}

/** The auth response is length-prefixed (CLIENT_SECURE_CONNECTION): at most 255 bytes. */
export function buildChangeUser(request: ChangeUser, capabilities: number): Buffer {
  const writer = new PayloadWriter().int1(Command.CHANGE_USER).nulString(request.user);
  writer.int1(request.authResponse.length).bytes(request.authResponse).nulString(request.database ?? '');
  writer.int2(request.characterSet ?? 0);
  if (capabilities & Capability.PLUGIN_AUTH) writer.nulString(request.clientPluginName ?? '');
  if (capabilities & Capability.CONNECT_ATTRS) writeConnectAttributes(writer, request.connectAttributes);
  return writer.finish();
}

/** Parses a COM_CHANGE_USER payload (command byte included); a field cut short is malformed. */
export function parseChangeUser(payload: Buffer, capabilities: number): ChangeUser {
  const reader = new PayloadReader(payload, 'COM_CHANGE_USER');
  if (reader.int1() !== Command.CHANGE_USER) throw malformedPacket('COM_CHANGE_USER: wrong command byte');
  const user = reader.nulString();
  // Every 4.1 client sends the length-prefixed form (CLIENT_SECURE_CONNECTION, which the server requires).
  const authResponse = Buffer.from(reader.bytes(reader.int1()));
  const database = reader.nulString();
  const characterSet = reader.remaining > 0 ? reader.int2() : null;
  const clientPluginName = capabilities & Capability.PLUGIN_AUTH && reader.remaining > 0 ? reader.nulString() : null;
  const connectAttributes = capabilities & Capability.CONNECT_ATTRS && reader.remaining > 0 ? readConnectAttributes(reader) : null;
  reader.end();
  return { user, authResponse, database: database === '' ? null : database, characterSet, clientPluginName, connectAttributes };
}

/** The request as the handshake response the server's plugin machinery reads (the session's flags). */
export function changeUserAsResponse(request: ChangeUser, capabilities: number, characterSet: number): HandshakeResponse41 {
  return {
    capabilities,
    maxPacketSize: 0,
    characterSet: request.characterSet ?? characterSet,
    user: request.user,
    authResponse: request.authResponse,
    database: request.database,
    clientPluginName: request.clientPluginName,
    connectAttributes: request.connectAttributes,
  };
}
