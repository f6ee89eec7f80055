// The server plugins every server has without loading anything, as mysqld has its built-in ones
// (caching_sha2_password, with its RSA keys, is added by the server's plugin table itself).
import { ServerAuthPlugin } from '../plugin';
import { authSimpleServerPlugin } from './auth-simple';
import { authSocketPlugin } from './auth-socket';
import { mysqlNativePasswordPlugin } from './native-password';

export const builtinServerPlugins: readonly ServerAuthPlugin[] = [authSocketPlugin, mysqlNativePasswordPlugin, authSimpleServerPlugin];
