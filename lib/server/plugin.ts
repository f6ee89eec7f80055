// What a server authentication plugin is, shaped like MySQL's st_mysql_auth
// (include/mysql/plugin_auth.h): its descriptor, the VIO it talks through and the
// MYSQL_SERVER_AUTH_INFO it reads and fills. The plugins themselves live in plugins/.
import { CrCode, PluginVio } from '../auth/vio';
import type { IdentMap, IdentMapLine } from '../peer/ident-map';
import { PasswordUsed } from '../protocol/mysql-errors';

/** MySQL's MYSQL_SERVER_AUTH_INFO, as a plugin sees and fills it. */
export interface ServerAuthInfo {
  /** The user name the client asked for; null until the handshake response is parsed. */
  userName: string | null;
  /** The account's authentication string (mysql.user.authentication_string). */
  authString: string;
  /** Whom the connection is authenticated as; starts as userName. */
  authenticatedAs: string;
  /** Set by the plugin: the external identity, shown as @@external_user (auth_socket: OS user). */
  externalUser: string | null;
  /** Set by the plugin: chooses between 1045 YES/NO and 1698 on refusal. */
  passwordUsed: PasswordUsed;
  /** 'localhost' for Unix-socket peers, the IP address for TCP. */
  hostOrIp: string;
  /** Not in MySQL: why the plugin refused, for the rejection's `reason` (set before returning). */
  refusalReason?: string;
  /**
   * Not in MySQL: aborted when the handshake ends (connect timeout, the client leaving, or the
   * decision made). A plugin that waits on something of its own stops then; the server no longer
   * waits for it and its VIO is closed. Read it from `info` itself: it is made when first read
   * (most logins never need one), so a copy of `info` ({...info}) does not carry it.
   */
  readonly signal: AbortSignal;
  /**
   * Not in MySQL: the server's ident map (`ident-file`) as it was when this login began, handed
   * to the plugin like the account's string (a reload never changes it under a login); null when
   * the server has none. auth_socket_map reads it.
   */
  identMap: IdentMap | null;
  /** Not in MySQL: set by a plugin that accepted through a line of the ident map, for the log. */
  identMapLine?: IdentMapLine;
}

/** The VIO a server plugin gets: MySQL's MPVIO, whose scramble is the one sent in the greeting. */
export abstract class ServerPluginVio extends PluginVio {
  /** The 20 random bytes of this connection (MySQL's mpvio->scramble, without the NUL). */
  abstract readonly scramble: Buffer;
}

export interface ServerAuthPlugin {
  /** The name accounts refer to (IDENTIFIED WITH name). */
  name: string;
  /** The client plugin it needs; null accepts any client plugin (no AuthSwitchRequest). */
  clientPluginName: string | null;
  /** What SHOW PLUGINS and INFORMATION_SCHEMA.PLUGINS show of it (st_mysql_plugin's members). */
  version?: string;
  author?: string;
  description?: string;
  license?: string;
  /** Authenticates one connection; returns a CR_* code (CR_OK or CR_OK_HANDSHAKE_COMPLETE to accept). */
  authenticate(vio: ServerPluginVio, info: ServerAuthInfo): CrCode | Promise<CrCode>;
}
