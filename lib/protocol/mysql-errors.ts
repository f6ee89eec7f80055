// The errors a MySQL server sends during connection and for what this server does not support,
// with MySQL's own numbers, SQLSTATEs and message texts (share/messages_to_clients.txt).
import { ErrPacket } from './messages';

export const ER_CON_COUNT_ERROR = 1040;
export const ER_OUT_OF_RESOURCES = 1041;
export const ER_HANDSHAKE_ERROR = 1043;
export const ER_ACCESS_DENIED_ERROR = 1045;
export const ER_NOT_SUPPORTED_AUTH_MODE = 1251;
export const ER_NOT_SUPPORTED_YET = 1235;
export const ER_PLUGIN_IS_NOT_LOADED = 1524;
export const ER_ACCESS_DENIED_NO_PASSWORD_ERROR = 1698;

/** MySQL's password_used values (PASSWORD_USED_NO etc.). */
export const PASSWORD_USED_NO = 0;
export const PASSWORD_USED_YES = 1;
export const PASSWORD_USED_NO_MENTION = 2;
export type PasswordUsed = 0 | 1 | 2;

// MySQL quotes user and host in messages with single quotes, as they are.
function account(user: string, host: string): string {
  return `'${user}'@'${host}'`;
}

/**
 * MySQL's login_failed_error(): 1698 when the plugin never mentioned a password (auth_socket),
 * otherwise 1045 saying whether the client sent one.
 */
export function accessDenied(user: string, host: string, passwordUsed: PasswordUsed): ErrPacket {
  if (passwordUsed === PASSWORD_USED_NO_MENTION) {
    return { errno: ER_ACCESS_DENIED_NO_PASSWORD_ERROR, sqlState: '28000', message: `Access denied for user ${account(user, host)}` };
  }
  const using = passwordUsed === PASSWORD_USED_YES ? 'YES' : 'NO';
  return {
    errno: ER_ACCESS_DENIED_ERROR,
    sqlState: '28000',
    message: `Access denied for user ${account(user, host)} (using password: ${using})`,
  };
}

export function badHandshake(): ErrPacket {
  return { errno: ER_HANDSHAKE_ERROR, sqlState: '08S01', message: 'Bad handshake' };
}

export function authModeNotSupported(): ErrPacket {
  return {
    errno: ER_NOT_SUPPORTED_AUTH_MODE,
    sqlState: '08004',
    message: 'Client does not support authentication protocol requested by server; consider upgrading MySQL client',
  };
}

export function pluginNotLoaded(plugin: string): ErrPacket {
  return { errno: ER_PLUGIN_IS_NOT_LOADED, sqlState: 'HY000', message: `Plugin '${plugin}' is not loaded` };
}

export function notSupportedYet(what: string): ErrPacket {
  return { errno: ER_NOT_SUPPORTED_YET, sqlState: '42000', message: `This version of MySQL doesn't yet support '${what}'` };
}

export function tooManyConnections(): ErrPacket {
  return { errno: ER_CON_COUNT_ERROR, sqlState: '08004', message: 'Too many connections' };
}

export function outOfResources(): ErrPacket {
  return {
    errno: ER_OUT_OF_RESOURCES,
    sqlState: 'HY000',
    message:
      "Out of memory; check if mysqld or some other process uses all available memory; if not, you may have to use 'ulimit' to allow mysqld to use more memory or you can add more swap space",
  };
}
