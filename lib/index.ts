// auth-socket: MySQL's auth_socket peer-credential authentication, and its plugin model, for Node.
export { authenticateSocket, matchOsUser } from './peer/authenticate';
export type { AuthenticateSocketOptions, AuthSocketAccount, AuthSocketReason, AuthSocketResult } from './peer/authenticate';
export { loadIdentMap, mapAccounts, mapPermits, parseIdentMap } from './peer/ident-map';
export type { IdentMap, IdentMapError, IdentMapLine, MapPeer } from './peer/ident-map';
export { getPeerProcess, overflowGid, overflowUid, unitOfCgroup } from './peer/process';
export type { PeerProcess } from './peer/process';
export type { AuthSocketErrorCode, CodedError } from './errors';
export { peerCredentialGuard, peerOf, PeerCredentialGuard } from './peer/guard';
export type { GuardPolicy, Pattern, Peer, Refusal, RefusalReason } from './peer/guard';
export { getPeerCredentials, socketFd, socketPair, socketProtocol, VioProtocol } from './peer/credentials';
export type { PeerCredentials, PeerCredentialsOptions } from './peer/credentials';
export { cachedUserLookup } from './peer/user-cache';
export type { UserCacheOptions, UserLookup } from './peer/user-cache';
export { lookupGroup, lookupGroupByName, lookupGroupByNameSync, lookupGroupSync, lookupUser, lookupUserByName, lookupUserByNameSync, lookupUserSync } from './peer/users';
export type { GroupRecord, UserRecord } from './peer/users';
export { DEFAULT_MAX_PAYLOAD_SIZE, encodePacket, MAX_PHYSICAL_PAYLOAD, PacketDecoder } from './protocol/framing';
export type { EncodedPacket, MysqlPacket, PacketDecodeError, PacketDecoderOptions, PacketErrorCode } from './protocol/framing';
export { PacketChannel } from './transport/packet-channel';
export type { PacketChannelErrorCode, PacketChannelOptions } from './transport/packet-channel';
export { BINARY_CHARSET, Capability, ColumnFlag, ColumnType, Command, ServerStatus } from './protocol/constants';
export { PayloadReader, PayloadWriter, malformedPacket } from './protocol/payload';
export { buildHandshakeResponse41, buildHandshakeV10, buildSslRequest, isSslRequest, parseHandshakeResponse41, parseHandshakeV10 } from './protocol/handshake';
export type { HandshakeResponse41, HandshakeV10 } from './protocol/handshake';
export { buildAuthMoreData, buildAuthSwitchRequest, isAuthMoreData, isAuthSwitchRequest, parseAuthMoreData, parseAuthSwitchRequest } from './protocol/auth-exchange';
export type { AuthSwitchRequest } from './protocol/auth-exchange';
export { MYSQL_ERRMSG_SIZE, buildEof, buildErr, buildOk, isEofPacket, isErrPacket, isOkPacket, parseEof, parseErr, parseOk, serverErrorFrom } from './protocol/responses';
export type { EofPacket, ErrPacket, OkPacket } from './protocol/responses';
export { buildColumnCount, buildColumnDefinition, buildTextResultSet, buildTextRow, parseColumnCount, parseColumnDefinition, parseTextRow, readTextResultSet } from './protocol/result-set';
export type { ColumnDefinition, TextResultSet } from './protocol/result-set';
export {
  accessDenied,
  authModeNotSupported,
  badHandshake,
  ER_ACCESS_DENIED_ERROR,
  ER_ACCESS_DENIED_NO_PASSWORD_ERROR,
  ER_CON_COUNT_ERROR,
  ER_HANDSHAKE_ERROR,
  ER_NOT_SUPPORTED_AUTH_MODE,
  ER_NOT_SUPPORTED_YET,
  ER_OUT_OF_RESOURCES,
  ER_PLUGIN_IS_NOT_LOADED,
  notSupportedYet,
  outOfResources,
  PASSWORD_USED_NO,
  PASSWORD_USED_NO_MENTION,
  PASSWORD_USED_YES,
  pluginNotLoaded,
  tooManyConnections,
} from './protocol/mysql-errors';
export type { PasswordUsed } from './protocol/mysql-errors';
export { CR_AUTH_HANDSHAKE, CR_AUTH_PLUGIN_ERROR, CR_AUTH_USER_CREDENTIALS, CR_ERROR, CR_OK, CR_OK_HANDSHAKE_COMPLETE, PluginVio, vioInfoOf } from './auth/vio';
export type { CrCode, VioInfo } from './auth/vio';
export { Accounts } from './server/catalog/accounts';
export type { Account, AccountSpec, AuthMethod, AuthMethodSpec } from './server/catalog/accounts';
export { ServerPluginVio } from './server/plugin';
export { authSimpleServerPlugin } from './server/plugins/auth-simple';
export { authSocketPlugin } from './server/plugins/auth-socket';
export { authSocketMapPlugin } from './server/plugins/auth-socket-map';
export { unixSocketPlugin } from './server/plugins/unix-socket';
export { builtinServerPlugins } from './server/plugins/builtin';
export { mysqlNativePasswordPlugin } from './server/plugins/native-password';
export type { ServerAuthInfo, ServerAuthPlugin } from './server/plugin';
export { acceptConnection } from './server/handshake';
export { SERVER_CAPABILITIES } from './server/options';
export { createServer } from './server/listener';
export { HandshakeError } from './server/refusal';
export type { Admission, AdmissionContext, AdmitHook, AuthenticatedConnection } from './server/connection';
export type { AuthServer } from './server/listener';
export type { ServerOptions } from './server/options';
export type { HandshakeErrorCode } from './server/refusal';
export { serveSession } from './server/session/session';
export { declareClientPlugin, MAX_PLUGIN_NAME_LENGTH, MYSQL_CLIENT_AUTHENTICATION_PLUGIN, MYSQL_CLIENT_AUTHENTICATION_PLUGIN_INTERFACE_VERSION } from './client/plugin';
export type { ClientAuthPlugin, ClientPluginDescriptor, ConnectionPluginOptions, MysqlHandle, PluginErrorBuffer } from './client/plugin';
export { builtinClientPlugins, CR_AUTH_PLUGIN_CANNOT_LOAD, DEFAULT_PLUGIN_DIR, findClientPlugin, loadClientPlugin, pluginDirectory, pluginGetOption, pluginOptions, registerClientPlugin, unloadClientPlugin } from './client/registry';
export type { LoadClientPluginOptions, PluginError } from './client/registry';
export { authSimple } from './client/plugins/auth-simple';
export { cachingSha2Password } from './client/plugins/caching-sha2-password';
export { mysqlClearPassword } from './client/plugins/clear-password';
export { dialog } from './client/plugins/dialog';
export { clientEd25519, ed25519PasswordPublicKey } from './client/plugins/ed25519';
export { mysqlNativePassword } from './client/plugins/native-password';
export { cachingSha2PasswordHash, scrambleCachingSha2Password, verifyCachingSha2Password } from './auth/caching-sha2';
export { cachingSha2PasswordPlugin, createCachingSha2PasswordPlugin } from './server/plugins/caching-sha2-password';
export type { CachingSha2PasswordPluginOptions } from './server/plugins/caching-sha2-password';
export { connect, DEFAULT_CONNECT_TIMEOUT } from './client/connect';
export type { ClientConnection, ConnectError, ConnectOptions, SslMode, SslOptions } from './client/connect';
export { toMysql2AuthPlugins } from './client/mysql2-adapter';
export type { Mysql2AuthPlugin, Mysql2ConnectionLike } from './client/mysql2-adapter';
export { createProxy } from './proxy/proxy';
export type { ProxyOptions, ProxyServer } from './proxy/proxy';
export type { UpstreamOptions } from './proxy/upstream';
