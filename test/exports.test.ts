// The package root's export list, values and types, pinned: a change to the public API must be
// deliberate (edit the list here in the same commit). Read with the TypeScript checker from
// lib/index.ts, so `export *` and type-only exports count too.
import path from 'path';

import ts from 'typescript';

const PINNED = [
    'Account', 'AccountSpec', 'Accounts', 'Admission', 'AdmissionContext', 'AdmitHook',
    'AuthMethod', 'AuthMethodSpec', 'AuthServer', 'AuthSocketAccount', 'AuthSocketErrorCode',
    'AuthSocketReason', 'AuthSocketResult', 'AuthSwitchRequest', 'AuthenticateSocketOptions',
    'AuthenticatedConnection', 'BINARY_CHARSET', 'CR_AUTH_HANDSHAKE', 'CR_AUTH_PLUGIN_CANNOT_LOAD',
    'CR_AUTH_PLUGIN_ERROR', 'CR_AUTH_USER_CREDENTIALS', 'CR_ERROR', 'CR_OK',
    'CR_OK_HANDSHAKE_COMPLETE', 'CachingSha2PasswordPluginOptions', 'Capability',
    'ClientAuthPlugin', 'ClientConnection', 'ClientPluginDescriptor', 'CodedError',
    'ColumnDefinition', 'ColumnFlag', 'ColumnType', 'Command', 'ConnectError', 'ConnectOptions',
    'ConnectionPluginOptions', 'CrCode', 'DEFAULT_CONNECT_TIMEOUT', 'DEFAULT_MAX_PAYLOAD_SIZE',
    'DEFAULT_PLUGIN_DIR', 'ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
    'ER_CON_COUNT_ERROR', 'ER_HANDSHAKE_ERROR', 'ER_NOT_SUPPORTED_AUTH_MODE',
    'ER_NOT_SUPPORTED_YET', 'ER_OUT_OF_RESOURCES', 'ER_PLUGIN_IS_NOT_LOADED', 'EncodedPacket',
    'EofPacket', 'ErrPacket', 'GroupRecord', 'GuardPolicy', 'HandshakeError', 'HandshakeErrorCode',
    'HandshakeResponse41', 'HandshakeV10', 'IdentMap', 'IdentMapError', 'IdentMapLine',
    'LoadClientPluginOptions', 'MAX_PHYSICAL_PAYLOAD', 'MAX_PLUGIN_NAME_LENGTH',
    'MYSQL_CLIENT_AUTHENTICATION_PLUGIN', 'MYSQL_CLIENT_AUTHENTICATION_PLUGIN_INTERFACE_VERSION',
    'MYSQL_ERRMSG_SIZE', 'MapPeer', 'Mysql2AuthPlugin', 'Mysql2ConnectionLike', 'MysqlHandle',
    'MysqlPacket', 'OkPacket', 'PASSWORD_USED_NO', 'PASSWORD_USED_NO_MENTION', 'PASSWORD_USED_YES',
    'PacketChannel', 'PacketChannelErrorCode', 'PacketChannelOptions', 'PacketDecodeError',
    'PacketDecoder', 'PacketDecoderOptions', 'PacketErrorCode', 'PasswordUsed', 'Pattern',
    'PayloadReader', 'PayloadWriter', 'Peer', 'PeerCredentialGuard', 'PeerCredentials',
    'PeerCredentialsOptions', 'PeerProcess', 'PluginError', 'PluginErrorBuffer', 'PluginVio',
    'ProxyOptions', 'ProxyServer', 'Refusal', 'RefusalReason', 'SERVER_CAPABILITIES',
    'ServerAuthInfo', 'ServerAuthPlugin', 'ServerOptions', 'ServerPluginVio', 'ServerStatus',
    'SslMode', 'SslOptions', 'TextResultSet', 'UpstreamOptions', 'UserCacheOptions', 'UserLookup',
    'UserRecord', 'VioInfo', 'VioProtocol', 'acceptConnection', 'accessDenied',
    'authModeNotSupported', 'authSimple', 'authSimpleServerPlugin', 'authSocketMapPlugin',
    'authSocketPlugin', 'authenticateSocket', 'badHandshake', 'buildAuthMoreData',
    'buildAuthSwitchRequest', 'buildColumnCount', 'buildColumnDefinition', 'buildEof', 'buildErr',
    'buildHandshakeResponse41', 'buildHandshakeV10', 'buildOk', 'buildSslRequest',
    'buildTextResultSet', 'buildTextRow', 'builtinClientPlugins', 'builtinServerPlugins',
    'cachedUserLookup', 'cachingSha2Password', 'cachingSha2PasswordHash',
    'cachingSha2PasswordPlugin', 'clientEd25519', 'connect', 'createCachingSha2PasswordPlugin',
    'createProxy', 'createServer', 'declareClientPlugin', 'dialog', 'ed25519PasswordPublicKey',
    'encodePacket', 'findClientPlugin', 'getPeerCredentials', 'getPeerProcess', 'isAuthMoreData',
    'isAuthSwitchRequest', 'isEofPacket', 'isErrPacket', 'isOkPacket', 'isSslRequest',
    'loadClientPlugin', 'loadIdentMap', 'lookupGroup', 'lookupGroupByName', 'lookupGroupByNameSync',
    'lookupGroupSync', 'lookupUser', 'lookupUserByName', 'lookupUserByNameSync', 'lookupUserSync',
    'malformedPacket', 'mapAccounts', 'mapPermits', 'matchOsUser', 'mysqlClearPassword',
    'mysqlNativePassword', 'mysqlNativePasswordPlugin', 'notSupportedYet', 'outOfResources',
    'overflowGid', 'overflowUid', 'parseAuthMoreData', 'parseAuthSwitchRequest', 'parseColumnCount',
    'parseColumnDefinition', 'parseEof', 'parseErr', 'parseHandshakeResponse41',
    'parseHandshakeV10', 'parseIdentMap', 'parseOk', 'parseTextRow', 'peerCredentialGuard',
    'peerOf', 'pluginDirectory', 'pluginGetOption', 'pluginNotLoaded', 'pluginOptions',
    'readTextResultSet', 'registerClientPlugin', 'scrambleCachingSha2Password', 'serveSession',
    'serverErrorFrom', 'socketFd', 'socketPair', 'socketProtocol', 'toMysql2AuthPlugins',
    'tooManyConnections', 'unitOfCgroup', 'unixSocketPlugin', 'unloadClientPlugin',
    'verifyCachingSha2Password', 'vioInfoOf',
];

it('the package root exports exactly the pinned names', () => {
  const file = path.join(__dirname, '..', 'lib', 'index.ts');
  const program = ts.createProgram([file], { strict: true, esModuleInterop: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const names = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)!)!).map((symbol) => symbol.getName());
  expect(names.sort()).toEqual(PINNED);
});
