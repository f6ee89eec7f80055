// COM_CHANGE_USER's codec against bytes laid out by hand from the protocol's description.
import { buildChangeUser, changeUserAsResponse, parseChangeUser } from '../../lib/protocol/change-user';
import { Capability } from '../../lib/protocol/constants';

const FLAGS = Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH | Capability.CONNECT_ATTRS;

// 0x11, user\0, len+auth, db\0, charset(2), plugin\0, lenenc attrs
const bytes = Buffer.concat([
  Buffer.of(0x11),
  Buffer.from('valerie\0'),
  Buffer.of(3, 0xaa, 0xbb, 0xcc),
  Buffer.from('shop\0'),
  Buffer.of(45, 0),
  Buffer.from('auth_socket\0'),
  Buffer.of(8, 3, ...Buffer.from('k_1'), 3, ...Buffer.from('v_1')),
]);

test('parses every field of a full packet', () => {
  expect(parseChangeUser(bytes, FLAGS)).toEqual({
    user: 'valerie',
    authResponse: Buffer.of(0xaa, 0xbb, 0xcc),
    database: 'shop',
    characterSet: 45,
    clientPluginName: 'auth_socket',
    connectAttributes: Object.assign(Object.create(null), { k_1: 'v_1' }),
  });
});

test('the builder lays the same bytes out', () => {
  expect(buildChangeUser(parseChangeUser(bytes, FLAGS), FLAGS).equals(bytes)).toBe(true);
});

test('optional trailing fields may be absent; an empty database is none', () => {
  const short = Buffer.concat([Buffer.of(0x11), Buffer.from('root\0'), Buffer.of(0), Buffer.from('\0')]);
  expect(parseChangeUser(short, FLAGS)).toMatchObject({ user: 'root', database: null, characterSet: null, clientPluginName: null, connectAttributes: null });
});

test.each([
  ['a wrong command byte', Buffer.concat([Buffer.of(0x03), bytes.subarray(1)])],
  ['an auth response cut short', Buffer.concat([Buffer.of(0x11), Buffer.from('u\0'), Buffer.of(20, 1, 2)])],
  ['a user name without its NUL', Buffer.concat([Buffer.of(0x11), Buffer.from('valerie')])],
  ['bytes after the attributes', Buffer.concat([bytes, Buffer.of(1)])],
])('%s is malformed', (_what, payload) => {
  expect(() => parseChangeUser(payload, FLAGS)).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_PACKET' }));
});

test('as a handshake response: the session flags, its character set unless the packet names one', () => {
  const request = parseChangeUser(Buffer.concat([Buffer.of(0x11), Buffer.from('root\0'), Buffer.of(0), Buffer.from('\0')]), FLAGS);
  expect(changeUserAsResponse(request, FLAGS, 33)).toMatchObject({ capabilities: FLAGS, characterSet: 33, user: 'root', database: null });
});
