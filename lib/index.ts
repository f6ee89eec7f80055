// auth-socket: MySQL's auth_socket peer-credential authentication, and its plugin model, for Node.
export { authenticateSocket, matchOsUser } from './authenticate';
export type { AuthSocketAccount, AuthSocketReason, AuthSocketResult } from './authenticate';
export type { AuthSocketErrorCode, CodedError } from './errors';
export { peerCredentialGuard, peerOf, PeerCredentialGuard } from './guard';
export type { GuardPolicy, Peer, Refusal, RefusalReason } from './guard';
export { getPeerCredentials, socketFd, socketPair, socketProtocol, VioProtocol } from './peer-credentials';
export type { PeerCredentials, PeerCredentialsOptions } from './peer-credentials';
export {
  lookupGroup,
  lookupGroupByName,
  lookupGroupByNameSync,
  lookupGroupSync,
  lookupUser,
  lookupUserByName,
  lookupUserByNameSync,
  lookupUserSync,
} from './users';
export type { GroupRecord, UserRecord } from './users';
export { DEFAULT_MAX_PAYLOAD_SIZE, encodePacket, MAX_PHYSICAL_PAYLOAD, PacketDecoder } from './packets';
export type { EncodedPacket, MysqlPacket, PacketDecodeError, PacketDecoderOptions, PacketErrorCode } from './packets';
export { PacketChannel } from './packet-channel';
export type { PacketChannelErrorCode, PacketChannelOptions } from './packet-channel';
export * from './protocol';
export * from './server-errors';
export {
  CR_AUTH_HANDSHAKE,
  CR_AUTH_PLUGIN_ERROR,
  CR_AUTH_USER_CREDENTIALS,
  CR_ERROR,
  CR_OK,
  CR_OK_HANDSHAKE_COMPLETE,
  PluginVio,
  vioInfoOf,
} from './vio';
export type { CrCode, VioInfo } from './vio';
export { Accounts } from './accounts';
export type { Account, AccountSpec } from './accounts';
export {
  authSimpleServerPlugin,
  authSocketPlugin,
  builtinServerPlugins,
  mysqlNativePasswordPlugin,
  ServerPluginVio,
} from './server-plugins';
export type { ServerAuthInfo, ServerAuthPlugin } from './server-plugins';
export { acceptConnection, createServer, HandshakeError, SERVER_CAPABILITIES } from './server';
export type { AuthenticatedConnection, AuthServer, HandshakeErrorCode, ServerOptions } from './server';
export { serveSession } from './session';
export {
  declareClientPlugin,
  MAX_PLUGIN_NAME_LENGTH,
  MYSQL_CLIENT_AUTHENTICATION_PLUGIN,
  MYSQL_CLIENT_AUTHENTICATION_PLUGIN_INTERFACE_VERSION,
} from './client-plugin';
export type { ClientAuthPlugin, ClientPluginDescriptor, ConnectionPluginOptions, MysqlHandle, PluginErrorBuffer } from './client-plugin';
export {
  builtinClientPlugins,
  CR_AUTH_PLUGIN_CANNOT_LOAD,
  DEFAULT_PLUGIN_DIR,
  findClientPlugin,
  loadClientPlugin,
  pluginDirectory,
  pluginGetOption,
  pluginOptions,
  registerClientPlugin,
  unloadClientPlugin,
} from './client-registry';
export type { LoadClientPluginOptions, PluginError } from './client-registry';
export { authSimple } from './client-plugins/auth-simple';
export { cachingSha2Password } from './client-plugins/caching-sha2-password';
export { mysqlClearPassword } from './client-plugins/clear-password';
export { dialog } from './client-plugins/dialog';
export { clientEd25519, ed25519PasswordPublicKey } from './client-plugins/ed25519';
export { mysqlNativePassword } from './client-plugins/native-password';
export { cachingSha2PasswordHash, scrambleCachingSha2Password, verifyCachingSha2Password } from './caching-sha2';
export { cachingSha2PasswordPlugin, createCachingSha2PasswordPlugin } from './caching-sha2-server';
export type { CachingSha2PasswordPluginOptions } from './caching-sha2-server';
export { connect, DEFAULT_CONNECT_TIMEOUT } from './client';
export type { ClientConnection, ConnectError, ConnectOptions } from './client';
export { toMysql2AuthPlugins } from './mysql2-adapter';
export type { Mysql2AuthPlugin, Mysql2ConnectionLike } from './mysql2-adapter';
