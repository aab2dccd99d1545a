/**
 * ZooKeeper's error codes (KeeperException.Code, 3.8) with their own names, one error class per
 * code, and one registry that client and server share: `errorFromCode(code, path)` builds the
 * class for a code that came off the wire.
 */
export const ErrorCode = {
  OK: 0,
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  UNKNOWNSESSION: -12,
  NEWCONFIGNOQUORUM: -13,
  RECONFIGINPROGRESS: -14,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121,
  REQUESTTIMEOUT: -122,
  RECONFIGDISABLED: -123,
  SESSIONCLOSEDREQUIRESASLAUTH: -124,
  QUOTAEXCEEDED: -125,
  THROTTLEDOP: -127,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCode = (typeof ErrorCode)[ErrorCodeName];

const codeNames = new Map<number, ErrorCodeName>(
  Object.entries(ErrorCode).map(([name, code]) => [code, name as ErrorCodeName]),
);

export function errorCodeName(code: number): ErrorCodeName | undefined {
  return codeNames.get(code);
}

/** The base of every error a ZooKeeper server can answer with (and of connection loss). */
export class ZooKeeperError extends Error {
  override name = "ZooKeeperError";
  /** ZooKeeper's numeric code, e.g. -101 for NONODE. */
  readonly code: number;
  /** The path of the request that failed, when there was one. */
  readonly path: string | undefined;
  /** For a failed multi: the index of the op that failed, and every op's result. */
  opIndex?: number;
  results?: readonly unknown[];

  constructor(code: number, path?: string, options?: ErrorOptions & { message?: string }) {
    const name = errorCodeName(code) ?? `UNKNOWN(${code})`;
    super(options?.message ?? (path === undefined ? name : `${name} for ${path}`), options);
    this.code = code;
    this.path = path;
  }
}

// One class per code, so callers can `catch (e) { if (e instanceof NoNodeError) ... }`.
// Each sets its own name; the registry below maps codes back to classes.
type ErrorClass = new (path?: string, options?: ErrorOptions) => ZooKeeperError;

function define(code: ErrorCode, name: string): ErrorClass {
  const cls = class extends ZooKeeperError {
    constructor(path?: string, options?: ErrorOptions) {
      super(code, path, options);
      this.name = name;
    }
  };
  Object.defineProperty(cls, "name", { value: name });
  return cls;
}

export const SystemError = define(ErrorCode.SYSTEMERROR, "SystemError");
export const RuntimeInconsistencyError = define(
  ErrorCode.RUNTIMEINCONSISTENCY,
  "RuntimeInconsistencyError",
);
export const DataInconsistencyError = define(ErrorCode.DATAINCONSISTENCY, "DataInconsistencyError");
export const ConnectionLossError = define(ErrorCode.CONNECTIONLOSS, "ConnectionLossError");
export const MarshallingError = define(ErrorCode.MARSHALLINGERROR, "MarshallingError");
export const UnimplementedError = define(ErrorCode.UNIMPLEMENTED, "UnimplementedError");
export const OperationTimeoutError = define(ErrorCode.OPERATIONTIMEOUT, "OperationTimeoutError");
export const BadArgumentsError = define(ErrorCode.BADARGUMENTS, "BadArgumentsError");
export const UnknownSessionError = define(ErrorCode.UNKNOWNSESSION, "UnknownSessionError");
export const NewConfigNoQuorumError = define(ErrorCode.NEWCONFIGNOQUORUM, "NewConfigNoQuorumError");
export const ReconfigInProgressError = define(
  ErrorCode.RECONFIGINPROGRESS,
  "ReconfigInProgressError",
);
export const APIError = define(ErrorCode.APIERROR, "APIError");
export const NoNodeError = define(ErrorCode.NONODE, "NoNodeError");
export const NoAuthError = define(ErrorCode.NOAUTH, "NoAuthError");
export const BadVersionError = define(ErrorCode.BADVERSION, "BadVersionError");
export const NoChildrenForEphemeralsError = define(
  ErrorCode.NOCHILDRENFOREPHEMERALS,
  "NoChildrenForEphemeralsError",
);
export const NodeExistsError = define(ErrorCode.NODEEXISTS, "NodeExistsError");
export const NotEmptyError = define(ErrorCode.NOTEMPTY, "NotEmptyError");
export const SessionExpiredError = define(ErrorCode.SESSIONEXPIRED, "SessionExpiredError");
export const InvalidCallbackError = define(ErrorCode.INVALIDCALLBACK, "InvalidCallbackError");
export const InvalidACLError = define(ErrorCode.INVALIDACL, "InvalidACLError");
export const AuthFailedError = define(ErrorCode.AUTHFAILED, "AuthFailedError");
export const SessionMovedError = define(ErrorCode.SESSIONMOVED, "SessionMovedError");
export const NotReadOnlyError = define(ErrorCode.NOTREADONLY, "NotReadOnlyError");
export const EphemeralOnLocalSessionError = define(
  ErrorCode.EPHEMERALONLOCALSESSION,
  "EphemeralOnLocalSessionError",
);
export const NoWatcherError = define(ErrorCode.NOWATCHER, "NoWatcherError");
export const RequestTimeoutError = define(ErrorCode.REQUESTTIMEOUT, "RequestTimeoutError");
export const ReconfigDisabledError = define(ErrorCode.RECONFIGDISABLED, "ReconfigDisabledError");
export const SessionClosedRequireSaslAuthError = define(
  ErrorCode.SESSIONCLOSEDREQUIRESASLAUTH,
  "SessionClosedRequireSaslAuthError",
);
export const QuotaExceededError = define(ErrorCode.QUOTAEXCEEDED, "QuotaExceededError");
export const ThrottledOpError = define(ErrorCode.THROTTLEDOP, "ThrottledOpError");

const registry = new Map<number, ErrorClass>([
  [ErrorCode.SYSTEMERROR, SystemError],
  [ErrorCode.RUNTIMEINCONSISTENCY, RuntimeInconsistencyError],
  [ErrorCode.DATAINCONSISTENCY, DataInconsistencyError],
  [ErrorCode.CONNECTIONLOSS, ConnectionLossError],
  [ErrorCode.MARSHALLINGERROR, MarshallingError],
  [ErrorCode.UNIMPLEMENTED, UnimplementedError],
  [ErrorCode.OPERATIONTIMEOUT, OperationTimeoutError],
  [ErrorCode.BADARGUMENTS, BadArgumentsError],
  [ErrorCode.UNKNOWNSESSION, UnknownSessionError],
  [ErrorCode.NEWCONFIGNOQUORUM, NewConfigNoQuorumError],
  [ErrorCode.RECONFIGINPROGRESS, ReconfigInProgressError],
  [ErrorCode.APIERROR, APIError],
  [ErrorCode.NONODE, NoNodeError],
  [ErrorCode.NOAUTH, NoAuthError],
  [ErrorCode.BADVERSION, BadVersionError],
  [ErrorCode.NOCHILDRENFOREPHEMERALS, NoChildrenForEphemeralsError],
  [ErrorCode.NODEEXISTS, NodeExistsError],
  [ErrorCode.NOTEMPTY, NotEmptyError],
  [ErrorCode.SESSIONEXPIRED, SessionExpiredError],
  [ErrorCode.INVALIDCALLBACK, InvalidCallbackError],
  [ErrorCode.INVALIDACL, InvalidACLError],
  [ErrorCode.AUTHFAILED, AuthFailedError],
  [ErrorCode.SESSIONMOVED, SessionMovedError],
  [ErrorCode.NOTREADONLY, NotReadOnlyError],
  [ErrorCode.EPHEMERALONLOCALSESSION, EphemeralOnLocalSessionError],
  [ErrorCode.NOWATCHER, NoWatcherError],
  [ErrorCode.REQUESTTIMEOUT, RequestTimeoutError],
  [ErrorCode.RECONFIGDISABLED, ReconfigDisabledError],
  [ErrorCode.SESSIONCLOSEDREQUIRESASLAUTH, SessionClosedRequireSaslAuthError],
  [ErrorCode.QUOTAEXCEEDED, QuotaExceededError],
  [ErrorCode.THROTTLEDOP, ThrottledOpError],
]);

/** The error class instance for a code off the wire; unknown codes get the base class. */
export function errorFromCode(code: number, path?: string, options?: ErrorOptions): ZooKeeperError {
  const cls = registry.get(code);
  return cls ? new cls(path, options) : new ZooKeeperError(code, path, options);
}

/** Errors after which the same request may succeed if retried (kazoo's RETRY_EXCEPTIONS). */
export function isRetriable(error: unknown): boolean {
  return (
    error instanceof ZooKeeperError &&
    (error.code === ErrorCode.CONNECTIONLOSS ||
      error.code === ErrorCode.OPERATIONTIMEOUT ||
      error.code === ErrorCode.SESSIONMOVED ||
      error.code === ErrorCode.THROTTLEDOP)
  );
}

/** A caller's mistake caught before anything is sent (bad path, bad option). */
export class InvalidArgumentError extends Error {
  override readonly name = "InvalidArgumentError";
}

/** An operation on a client that was closed. */
export class ClosedError extends Error {
  override readonly name = "ClosedError";
}
