// Errors raised on the JS side carry a `code` like the native ones, so callers branch on one field.

export type AuthSocketErrorCode =
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_INVALID_ARG_VALUE'
  | 'ERR_SOCKET_DESTROYED'
  | 'ERR_NOT_UNIX_SOCKET'
  | 'ERR_NO_PEER_CREDENTIALS'
  | 'ERR_PEER_CREDENTIALS_UNSUPPORTED'
  | 'ERR_PEER_PID_UNAVAILABLE'
  | 'ERR_PIDFD_UNSUPPORTED'
  | 'ERR_PEER_EXITED'
  | 'ERR_PEER_PID_REUSED'
  | 'ERR_PEER_CGROUP_CHANGED'
  | 'ERR_PEER_CGROUP_INVALID'
  | 'ERR_PROCFS_FOREIGN'
  | 'ERR_PIDFD_CLOSED'
  | 'ERR_IDENT_MAP_SYNTAX'
  | 'ERR_IDENT_MAP_UNSAFE'
  | 'ERR_IDENT_MAP_GROUPS'
  | 'ERR_IDENT_MAP_OVERFLOW_GROUP'
  | 'EBADF'
  | 'ENOTSOCK';

export interface CodedError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
}

export function codedError(code: string, message: string, ErrorType: ErrorConstructor = Error): CodedError {
  const error = new ErrorType(message) as CodedError;
  error.code = code;
  return error;
}

export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && typeof (error as CodedError).code === 'string'
    ? (error as CodedError).code
    : undefined;
}
