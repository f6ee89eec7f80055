// The connection phase's opening messages, each one's builder beside its parser: the server's
// HandshakeV10 greeting, the client's SSLRequest and HandshakeResponse41 (sql/auth/
// sql_authentication.cc on the server side, sql-common/client.cc on the client side).
import { codedError } from '../errors';
import { Capability } from './constants';
import { malformedPacket, PayloadReader, PayloadWriter } from './payload';

const HANDSHAKE_V10 = 10;
const SSL_REQUEST_LENGTH = 32;

export interface HandshakeV10 {
  serverVersion: string;
  connectionId: number;
  /** The scramble (auth-plugin-data) without MySQL's trailing NUL. */
  authPluginData: Buffer;
  capabilities: number;
  characterSet: number;
  statusFlags: number;
  /** The plugin the scramble was made for; null when the server lacks CLIENT_PLUGIN_AUTH. */
  authPluginName: string | null;
}

export function buildHandshakeV10(greeting: HandshakeV10): Buffer {
  const data = greeting.authPluginData;
  if (data.length < 8) throw codedError('ERR_INVALID_ARG_VALUE', 'authPluginData needs at least 8 bytes', RangeError);
  const caps = greeting.capabilities >>> 0;
  const pluginAuth = (caps & Capability.PLUGIN_AUTH) !== 0;
  const part2 = data.subarray(8);
  const writer = new PayloadWriter()
    .int1(HANDSHAKE_V10)
    .nulString(greeting.serverVersion)
    .int4(greeting.connectionId)
    .bytes(data.subarray(0, 8))
    .int1(0)
    .int2(caps & 0xffff)
    .int1(greeting.characterSet)
    .int2(greeting.statusFlags)
    .int2(caps >>> 16)
    // Length of the whole scramble including its NUL: what clients use to size part 2.
    .int1(pluginAuth ? data.length + 1 : 0)
    .zeros(10);
  if (caps & Capability.SECURE_CONNECTION) {
    // Part 2 is at least 13 bytes including the NUL (old clients read exactly 13).
    writer.bytes(part2).zeros(Math.max(13 - part2.length, 1));
  }
  if (pluginAuth) writer.nulString(greeting.authPluginName ?? '');
  return writer.finish();
}

export function parseHandshakeV10(payload: Buffer): HandshakeV10 {
  const reader = new PayloadReader(payload, 'HandshakeV10');
  const version = reader.int1();
  if (version !== HANDSHAKE_V10) throw malformedPacket(`HandshakeV10: protocol version ${version}`);
  const serverVersion = reader.nulString();
  const connectionId = reader.int4();
  const part1 = reader.bytes(8);
  reader.int1(); // filler
  let capabilities = reader.int2();
  if (reader.remaining === 0) {
    return { serverVersion, connectionId, authPluginData: part1, capabilities, characterSet: 0, statusFlags: 0, authPluginName: null };
  }
  const characterSet = reader.int1();
  const statusFlags = reader.int2();
  capabilities = (capabilities | (reader.int2() << 16)) >>> 0;
  const authDataLength = reader.int1();
  reader.bytes(10); // reserved (MariaDB keeps extended capabilities in the last 4)
  let authPluginData = part1;
  if (capabilities & Capability.SECURE_CONNECTION) {
    const part2 = reader.bytes(Math.max(13, authDataLength - 8));
    // The scramble ends at its NUL terminator (mysql_native_password: 20 bytes + NUL).
    const nul = part2.indexOf(0);
    authPluginData = Buffer.concat([part1, nul < 0 ? part2 : part2.subarray(0, nul)]);
  }
  let authPluginName: string | null = null;
  if (capabilities & Capability.PLUGIN_AUTH) {
    // Some servers omit the final NUL.
    authPluginName = reader.remaining > 0 && payload[payload.length - 1] === 0 ? reader.nulString() : reader.restString();
  }
  return { serverVersion, connectionId, authPluginData, capabilities, characterSet, statusFlags, authPluginName };
}

export interface HandshakeResponse41 {
  /** The client's capability flags as sent (they decide the layout of the rest). */
  capabilities: number;
  maxPacketSize: number;
  characterSet: number;
  user: string;
  authResponse: Buffer;
  /** Present when CLIENT_CONNECT_WITH_DB is set. */
  database: string | null;
  /** Present when CLIENT_PLUGIN_AUTH is set. */
  clientPluginName: string | null;
  /** Present when CLIENT_CONNECT_ATTRS is set. */
  connectAttributes: Record<string, string> | null;
}

/** True when a client's first packet is an SSLRequest (32 bytes, CLIENT_SSL) rather than a full response. */
export function isSslRequest(payload: Buffer): boolean {
  return payload.length === SSL_REQUEST_LENGTH && (payload.readUInt32LE(0) & Capability.SSL) !== 0;
}

export function buildSslRequest(capabilities: number, maxPacketSize: number, characterSet: number): Buffer {
  return new PayloadWriter()
    .int4(capabilities | Capability.SSL)
    .int4(maxPacketSize)
    .int1(characterSet)
    .zeros(23)
    .finish();
}

export function buildHandshakeResponse41(response: HandshakeResponse41): Buffer {
  const caps = response.capabilities >>> 0;
  const writer = new PayloadWriter()
    .int4(caps)
    .int4(response.maxPacketSize)
    .int1(response.characterSet)
    .zeros(23)
    .nulString(response.user);
  if (caps & Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA) {
    writer.lenencBytes(response.authResponse);
  } else {
    if (response.authResponse.length > 0xff) {
      throw codedError('ERR_INVALID_ARG_VALUE', 'auth response over 255 bytes needs CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA', RangeError);
    }
    writer.int1(response.authResponse.length).bytes(response.authResponse);
  }
  if (caps & Capability.CONNECT_WITH_DB) writer.nulString(response.database ?? '');
  if (caps & Capability.PLUGIN_AUTH) writer.nulString(response.clientPluginName ?? '');
  if (caps & Capability.CONNECT_ATTRS) writeConnectAttributes(writer, response.connectAttributes);
  return writer.finish();
}

/** Connect attributes as both the response and COM_CHANGE_USER carry them: lenenc pairs inside a lenenc block. */
export function writeConnectAttributes(writer: PayloadWriter, connectAttributes: Record<string, string> | null): void {
  const attributes = new PayloadWriter();
  for (const [key, value] of Object.entries(connectAttributes ?? {})) attributes.lenencBytes(key).lenencBytes(value);
  writer.lenencBytes(attributes.finish());
}

export function readConnectAttributes(reader: PayloadReader): Record<string, string> {
  const attributes = new PayloadReader(reader.lenencBytes(), 'connect attributes');
  // No prototype: a key such as __proto__ stays a plain key.
  const connectAttributes = Object.create(null) as Record<string, string>;
  while (attributes.remaining > 0) {
    const key = attributes.lenencString();
    connectAttributes[key] = attributes.lenencString();
  }
  return connectAttributes;
}

/**
 * Parses a HandshakeResponse41 laid out per the client's own flags. Fields after the auth response
 * may be missing entirely at the end of the packet (MySQL tolerates that); a field that starts
 * but does not finish is malformed. Pre-4.1 responses and SSLRequests are refused here.
 */
export function parseHandshakeResponse41(payload: Buffer): HandshakeResponse41 {
  if (isSslRequest(payload)) throw malformedPacket('HandshakeResponse41: SSLRequest, but TLS was not offered');
  const reader = new PayloadReader(payload, 'HandshakeResponse41');
  const capabilities = reader.int4();
  if (!(capabilities & Capability.PROTOCOL_41)) throw malformedPacket('HandshakeResponse41: client lacks CLIENT_PROTOCOL_41');
  const maxPacketSize = reader.int4();
  const characterSet = reader.int1();
  reader.bytes(23); // filler
  const user = reader.nulString();
  // MySQL reads a 1-byte length whenever the lenenc form is not announced.
  const authResponse =
    capabilities & Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA ? reader.lenencBytes() : reader.bytes(reader.int1());
  const database = capabilities & Capability.CONNECT_WITH_DB && reader.remaining > 0 ? reader.nulString() : null;
  const clientPluginName = capabilities & Capability.PLUGIN_AUTH && reader.remaining > 0 ? reader.nulString() : null;
  const connectAttributes = capabilities & Capability.CONNECT_ATTRS && reader.remaining > 0 ? readConnectAttributes(reader) : null;
  reader.end();
  return {
    capabilities,
    maxPacketSize,
    characterSet,
    user,
    authResponse: Buffer.from(authResponse),
    database,
    clientPluginName,
    connectAttributes,
  };
}
