// The messages of an authentication plugin's exchange after the first response: the server's
// AuthSwitchRequest (restart with another plugin) and AuthMoreData (a plugin's next packet).
import { malformedPacket, PayloadReader, PayloadWriter } from './payload';

const AUTH_MORE_DATA_HEADER = 0x01;
const AUTH_SWITCH_HEADER = 0xfe;

export interface AuthSwitchRequest {
  pluginName: string;
  pluginData: Buffer;
}

export function buildAuthSwitchRequest(request: AuthSwitchRequest): Buffer {
  return new PayloadWriter().int1(AUTH_SWITCH_HEADER).nulString(request.pluginName).bytes(request.pluginData).finish();
}

export function isAuthSwitchRequest(payload: Buffer): boolean {
  return payload.length > 0 && payload[0] === AUTH_SWITCH_HEADER;
}

export function parseAuthSwitchRequest(payload: Buffer): AuthSwitchRequest {
  const reader = new PayloadReader(payload, 'AuthSwitchRequest');
  if (reader.int1() !== AUTH_SWITCH_HEADER) throw malformedPacket('AuthSwitchRequest: wrong header');
  const pluginName = reader.nulString();
  return { pluginName, pluginData: Buffer.from(reader.rest()) };
}

export function buildAuthMoreData(data: Buffer): Buffer {
  return Buffer.concat([Buffer.of(AUTH_MORE_DATA_HEADER), data]);
}

export function isAuthMoreData(payload: Buffer): boolean {
  return payload.length > 0 && payload[0] === AUTH_MORE_DATA_HEADER;
}

/** The plugin data inside an AuthMoreData packet (the client strips exactly one 0x01). */
export function parseAuthMoreData(payload: Buffer): Buffer {
  if (!isAuthMoreData(payload)) throw malformedPacket('AuthMoreData: wrong header');
  return payload.subarray(1);
}
