// The server plugins every server has without loading anything, as mysqld has its built-in ones
// (caching_sha2_password, with its RSA keys, is added by the server's plugin table itself).
import { ServerAuthPlugin } from '../plugin';
import { authSimpleServerPlugin } from './auth-simple';
import { authSocketPlugin } from './auth-socket';
import { authSocketMapPlugin } from './auth-socket-map';
import { mysqlNativePasswordPlugin } from './native-password';
import { unixSocketPlugin } from './unix-socket';

export const builtinServerPlugins: readonly ServerAuthPlugin[] = [authSocketPlugin, mysqlNativePasswordPlugin, authSimpleServerPlugin, unixSocketPlugin, authSocketMapPlugin];
