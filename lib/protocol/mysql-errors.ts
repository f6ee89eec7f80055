// The one table of the MySQL errors this package sends or reads: each with its number, SQLSTATE
// and message format, as MySQL's share/messages_to_clients.txt (server, ER_*) and
// libmysql/errmsg.cc (client library, CR_*) give them, and the `code` our API reports it under.
// The server builds every ERR packet from here; the client takes its error numbers from here.
import type { ErrPacket } from './responses';

interface MysqlError {
  errno: number;
  sqlState: string;
  /** MySQL's format; each %s takes the next argument, %-.Ns at most N characters of it. */
  format: string;
  /** The `code` of the JavaScript error that reports it (client errors: that of what failed). */
  code?: string;
}

export const MYSQL_ERRORS = {
  ER_CON_COUNT_ERROR: { errno: 1040, sqlState: '08004', format: 'Too many connections', code: 'ERR_TOO_MANY_CONNECTIONS' },
  ER_OUT_OF_RESOURCES: {
    errno: 1041,
    sqlState: 'HY000',
    format:
      "Out of memory; check if mysqld or some other process uses all available memory; if not, you may have to use 'ulimit' to allow mysqld to use more memory or you can add more swap space",
    code: 'ERR_OUT_OF_RESOURCES',
  },
  ER_NET_PACKET_TOO_LARGE: { errno: 1153, sqlState: '08S01', format: "Got a packet bigger than 'max_allowed_packet' bytes", code: 'ERR_PACKET_TOO_LARGE' },
  // What a proxy answers a login with when its upstream failed, the client library's 2003 or 2026
  // text inside: libmariadb reads a 2003 or 2026 from a server as a malformed packet. MySQL's
  // FEDERATED format cuts at 64 characters; the upstream's reason needs more.
  ER_CONNECT_TO_FOREIGN_DATA_SOURCE: { errno: 1429, sqlState: 'HY000', format: 'Unable to connect to foreign data source: %-.192s', code: 'ERR_UPSTREAM_UNREACHABLE' },
  ER_UNKNOWN_COM_ERROR: { errno: 1047, sqlState: '08S01', format: 'Unknown command', code: 'ERR_UNKNOWN_COMMAND' },
  ER_HANDSHAKE_ERROR: { errno: 1043, sqlState: '08S01', format: 'Bad handshake', code: 'ERR_BAD_HANDSHAKE' },
  ER_ACCESS_DENIED_ERROR: {
    errno: 1045,
    sqlState: '28000',
    format: "Access denied for user '%-.48s'@'%-.64s' (using password: %s)",
    code: 'ERR_ACCESS_DENIED',
  },
  ER_NOT_SUPPORTED_YET: { errno: 1235, sqlState: '42000', format: "This version of MySQL doesn't yet support '%s'", code: 'ERR_NOT_SUPPORTED_YET' },
  ER_NOT_SUPPORTED_AUTH_MODE: {
    errno: 1251,
    sqlState: '08004',
    format: 'Client does not support authentication protocol requested by server; consider upgrading MySQL client',
    code: 'ERR_AUTH_MODE_NOT_SUPPORTED',
  },
  ER_PLUGIN_IS_NOT_LOADED: { errno: 1524, sqlState: 'HY000', format: "Plugin '%-.192s' is not loaded", code: 'ERR_PLUGIN_NOT_LOADED' },
  // Statements (sql/sql_parse.cc, sql/auth/sql_user.cc, sql/sql_plugin.cc).
  ER_LOCK_WAIT_TIMEOUT: { errno: 1205, sqlState: 'HY000', format: 'Lock wait timeout exceeded; try restarting transaction', code: 'ERR_LOCK_WAIT_TIMEOUT' },
  // MariaDB's: what a statement past its time bound gets.
  ER_STATEMENT_TIMEOUT: { errno: 1969, sqlState: '70100', format: 'Query execution was interrupted (max_statement_time exceeded)', code: 'ERR_STATEMENT_TIMEOUT' },
  ER_SERVER_SHUTDOWN: { errno: 1053, sqlState: '08S01', format: 'Server shutdown in progress', code: 'ERR_SERVER_SHUTDOWN' },
  ER_PARSE_ERROR: { errno: 1064, sqlState: '42000', format: "%s near '%-.80s' at line %s", code: 'ERR_PARSE' },
  ER_ERROR_ON_WRITE: { errno: 1026, sqlState: 'HY000', format: "Error writing file '%s' (errno: %s)", code: 'ERR_WRITE' },
  ER_EMPTY_QUERY: { errno: 1065, sqlState: '42000', format: 'Query was empty', code: 'ERR_EMPTY_QUERY' },
  ER_UDF_EXISTS: { errno: 1125, sqlState: 'HY000', format: "Function '%-.192s' already exists", code: 'ERR_PLUGIN_EXISTS' },
  ER_CANT_OPEN_LIBRARY: { errno: 1126, sqlState: 'HY000', format: "Can't open shared library '%-.192s' (errno: %s, %-.128s)", code: 'ERR_PLUGIN_LIBRARY' },
  ER_CANT_FIND_DL_ENTRY: { errno: 1127, sqlState: 'HY000', format: "Can't find symbol '%-.128s' in library", code: 'ERR_PLUGIN_SYMBOL' },
  ER_NONEXISTING_GRANT: {
    errno: 1141,
    sqlState: '42000',
    format: "There is no such grant defined for user '%-.48s' on host '%-.64s'",
    code: 'ERR_NO_SUCH_GRANT',
  },
  ER_BAD_FIELD_ERROR: { errno: 1054, sqlState: '42S22', format: "Unknown column '%-.192s' in '%-.192s'", code: 'ERR_BAD_FIELD' },
  ER_NO_TABLES_USED: { errno: 1096, sqlState: 'HY000', format: 'No tables used', code: 'ERR_NO_TABLES' },
  ER_NO_SUCH_TABLE: { errno: 1146, sqlState: '42S02', format: "Table '%-.192s.%-.192s' doesn't exist", code: 'ERR_NO_SUCH_TABLE' },
  ER_UNKNOWN_SYSTEM_VARIABLE: { errno: 1193, sqlState: 'HY000', format: "Unknown system variable '%-.64s'", code: 'ERR_UNKNOWN_VARIABLE' },
  ER_SPECIFIC_ACCESS_DENIED_ERROR: {
    errno: 1227,
    sqlState: '42000',
    format: 'Access denied; you need (at least one of) the %s privilege(s) for this operation',
    code: 'ERR_PRIVILEGE',
  },
  ER_SP_DOES_NOT_EXIST: { errno: 1305, sqlState: '42000', format: '%s %-.192s does not exist', code: 'ERR_DOES_NOT_EXIST' },
  ER_CANT_CREATE_USER_WITH_GRANT: { errno: 1410, sqlState: '42000', format: 'You are not allowed to create a user with GRANT', code: 'ERR_GRANT_NO_USER' },
  ER_PLUGIN_DELETE_BUILTIN: { errno: 1619, sqlState: 'HY000', format: 'Built-in plugins cannot be deleted', code: 'ERR_PLUGIN_BUILTIN' },
  ER_CANNOT_USER: { errno: 1396, sqlState: 'HY000', format: 'Operation %s failed for %.256s', code: 'ERR_CANNOT_USER' },
  ER_INVALID_JSON_TEXT: { errno: 3140, sqlState: '22032', format: 'Invalid JSON text: "%s" at position %s in value for column \'%s\'.', code: 'ERR_INVALID_JSON' },
  ER_JSON_DOCUMENT_TOO_DEEP: { errno: 3157, sqlState: '22032', format: 'The JSON document exceeds the maximum depth.', code: 'ERR_JSON_TOO_DEEP' },
  ER_INVALID_USER_ATTRIBUTE_JSON: { errno: 3982, sqlState: 'HY000', format: 'The user attribute must be a valid JSON object', code: 'ERR_INVALID_USER_ATTRIBUTE' },
  ER_ACCESS_DENIED_NO_PASSWORD_ERROR: { errno: 1698, sqlState: '28000', format: "Access denied for user '%-.48s'@'%-.64s'", code: 'ERR_ACCESS_DENIED' },
  // Client library errors: no server sends them; the client reports them with SQLSTATE HY000.
  CR_UNKNOWN_ERROR: { errno: 2000, sqlState: 'HY000', format: 'Unknown MySQL error' },
  CR_SERVER_LOST: { errno: 2013, sqlState: 'HY000', format: 'Lost connection to server at %s' },
  CR_MALFORMED_PACKET: { errno: 2027, sqlState: 'HY000', format: 'Malformed packet' },
  CR_CONN_HOST_ERROR: { errno: 2003, sqlState: 'HY000', format: "Can't connect to MySQL server on '%-.100s' (%s)", code: 'ERR_UPSTREAM_UNREACHABLE' },
  CR_SSL_CONNECTION_ERROR: { errno: 2026, sqlState: 'HY000', format: 'SSL connection error: %-.100s', code: 'ERR_SSL_CONNECTION' },
  CR_AUTH_PLUGIN_CANNOT_LOAD: {
    errno: 2059,
    sqlState: 'HY000',
    format: "Authentication plugin '%s' cannot be loaded: %s",
  },
} as const satisfies Record<string, MysqlError>;

export type MysqlErrorName = keyof typeof MYSQL_ERRORS;
/** The errors a server sends: each reported under its own `code`. */
export type ServerErrorName = { [K in MysqlErrorName]: (typeof MYSQL_ERRORS)[K] extends { code: string } ? K : never }[MysqlErrorName];

/** The ERR packet for `name`, its format filled with `args` in order. */
export function mysqlError(name: MysqlErrorName, ...args: string[]): ErrPacket {
  const { errno, sqlState, format } = MYSQL_ERRORS[name];
  let next = 0;
  // MySQL's precision counts characters, not bytes.
  const fill = (_: string, precision: string | undefined) => {
    const arg = args[next++] ?? '';
    return precision === undefined ? arg : [...arg].slice(0, Number(precision)).join('');
  };
  return { errno, sqlState, message: format.replace(/%-?(?:\.(\d+))?s/g, fill) };
}

export const ER_CON_COUNT_ERROR = MYSQL_ERRORS.ER_CON_COUNT_ERROR.errno;
export const ER_OUT_OF_RESOURCES = MYSQL_ERRORS.ER_OUT_OF_RESOURCES.errno;
export const ER_HANDSHAKE_ERROR = MYSQL_ERRORS.ER_HANDSHAKE_ERROR.errno;
export const ER_ACCESS_DENIED_ERROR = MYSQL_ERRORS.ER_ACCESS_DENIED_ERROR.errno;
export const ER_NOT_SUPPORTED_AUTH_MODE = MYSQL_ERRORS.ER_NOT_SUPPORTED_AUTH_MODE.errno;
export const ER_NOT_SUPPORTED_YET = MYSQL_ERRORS.ER_NOT_SUPPORTED_YET.errno;
export const ER_PLUGIN_IS_NOT_LOADED = MYSQL_ERRORS.ER_PLUGIN_IS_NOT_LOADED.errno;
export const ER_ACCESS_DENIED_NO_PASSWORD_ERROR = MYSQL_ERRORS.ER_ACCESS_DENIED_NO_PASSWORD_ERROR.errno;

/** MySQL's password_used values (PASSWORD_USED_NO etc.): they choose between 1045 and 1698. */
export const PASSWORD_USED_NO = 0;
export const PASSWORD_USED_YES = 1;
export const PASSWORD_USED_NO_MENTION = 2;
export type PasswordUsed = 0 | 1 | 2;

/**
 * MySQL's login_failed_error(): 1698 when the plugin never mentioned a password (auth_socket),
 * otherwise 1045 saying whether the client sent one. User and host are quoted as they are.
 */
export function accessDenied(user: string, host: string, passwordUsed: PasswordUsed): ErrPacket {
  if (passwordUsed === PASSWORD_USED_NO_MENTION) return mysqlError('ER_ACCESS_DENIED_NO_PASSWORD_ERROR', user, host);
  return mysqlError('ER_ACCESS_DENIED_ERROR', user, host, passwordUsed === PASSWORD_USED_YES ? 'YES' : 'NO');
}

export const badHandshake = (): ErrPacket => mysqlError('ER_HANDSHAKE_ERROR');
export const authModeNotSupported = (): ErrPacket => mysqlError('ER_NOT_SUPPORTED_AUTH_MODE');
export const pluginNotLoaded = (plugin: string): ErrPacket => mysqlError('ER_PLUGIN_IS_NOT_LOADED', plugin);
export const notSupportedYet = (what: string): ErrPacket => mysqlError('ER_NOT_SUPPORTED_YET', what);
export const tooManyConnections = (): ErrPacket => mysqlError('ER_CON_COUNT_ERROR');
export const outOfResources = (): ErrPacket => mysqlError('ER_OUT_OF_RESOURCES');
