// A statement's failure as MySQL reports it: the ERR packet (from the one error table) that the
// session sends for it. Thrown by the catalog and the statement handlers alike.
import { mysqlError, MYSQL_ERRORS, ServerErrorName } from '../protocol/mysql-errors';
import { ErrPacket } from '../protocol/responses';

export class SqlError extends Error {
  readonly code: string;

  constructor(readonly err: ErrPacket, code: string) {
    super(err.message);
    this.name = 'SqlError';
    this.code = code;
  }
}

/** The SqlError for `name`, its message filled with `args`. */
export function sqlError(name: ServerErrorName, ...args: Array<string | number>): SqlError {
  return new SqlError(mysqlError(name, ...args.map(String)), MYSQL_ERRORS[name].code);
}
