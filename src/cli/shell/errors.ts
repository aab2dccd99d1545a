/**
 * What goes wrong in the shell, and how zkCli words it. A failed command prints one line and
 * sets the exit status: 1 for what the server or the connection refused, 2 for a command typed
 * wrong (bad flags, a missing argument, a bad ACL or path), as every zkts command uses 2 for
 * bad arguments.
 */
import {
  ClosedError,
  ErrorCode,
  errorCodeName,
  InvalidArgumentError,
  ZooKeeperError,
} from "../../index.js";

/** A command typed wrong: one line, exit status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A command that needs a session when there is none (zkCli: "Not connected"). */
export class NotConnectedError extends Error {
  override readonly name = "NotConnectedError";
  constructor(reason?: string) {
    super(reason === undefined ? "Not connected" : `Not connected: ${reason}`);
  }
}

/** A command that failed in a way zkCli words itself (e.g. "Command index out of range"). */
export class CommandError extends Error {
  override readonly name = "CommandError";
}

/** KeeperException.Code's getCodeMessage, for the codes CliWrapperException does not reword. */
const CODE_MESSAGES: Partial<Record<number, string>> = {
  [ErrorCode.SYSTEMERROR]: "SystemError",
  [ErrorCode.RUNTIMEINCONSISTENCY]: "RuntimeInconsistency",
  [ErrorCode.DATAINCONSISTENCY]: "DataInconsistency",
  [ErrorCode.CONNECTIONLOSS]: "ConnectionLoss",
  [ErrorCode.MARSHALLINGERROR]: "MarshallingError",
  [ErrorCode.UNIMPLEMENTED]: "Unimplemented",
  [ErrorCode.OPERATIONTIMEOUT]: "OperationTimeout",
  [ErrorCode.UNKNOWNSESSION]: "Unknown session",
  [ErrorCode.APIERROR]: "APIError",
  [ErrorCode.SESSIONEXPIRED]: "Session expired",
  [ErrorCode.AUTHFAILED]: "AuthFailed",
  [ErrorCode.SESSIONMOVED]: "Session moved",
  [ErrorCode.EPHEMERALONLOCALSESSION]: "Ephemeral node on local session",
  [ErrorCode.NOWATCHER]: "No such watcher",
  [ErrorCode.REQUESTTIMEOUT]: "Request timeout",
  [ErrorCode.RECONFIGDISABLED]: "Reconfig is disabled",
  [ErrorCode.QUOTAEXCEEDED]: "Quota has exceeded",
  [ErrorCode.THROTTLEDOP]: "Op throttled due to high load",
};

/** CliWrapperException's wording of a server error. */
function keeperMessage(error: ZooKeeperError): string {
  const path = error.path ?? "null";
  switch (error.code) {
    case ErrorCode.NONODE:
      return `Node does not exist: ${path}`;
    case ErrorCode.NOCHILDRENFOREPHEMERALS:
      return `Ephemerals cannot have children: ${path}`;
    case ErrorCode.NODEEXISTS:
      return `Node already exists: ${path}`;
    case ErrorCode.NOTEMPTY:
      return `Node not empty: ${path}`;
    case ErrorCode.NOTREADONLY:
      return `Not a read-only call: ${path}`;
    case ErrorCode.INVALIDACL:
      return `Acl is not valid : ${path}`;
    case ErrorCode.NOAUTH:
      return `Insufficient permission : ${path}`;
    case ErrorCode.BADARGUMENTS:
      return `Arguments are not valid : ${path}`;
    case ErrorCode.BADVERSION:
      return `version No is not valid : ${path}`;
  }
  const what = CODE_MESSAGES[error.code] ?? errorCodeName(error.code) ?? `Unknown(${error.code})`;
  return `KeeperErrorCode = ${what}${error.path === undefined ? "" : ` for ${error.path}`}`;
}

export interface Failure {
  readonly message: string;
  /** The shell's exit status for it: 1 refused or failed, 2 typed wrong. */
  readonly status: 1 | 2;
  /** ZooKeeper's code name (NONODE, ...) when the server answered with an error. */
  readonly code?: string;
  readonly path?: string;
}

/** Any error a command throws, as the one line the shell prints. Never a stack trace. */
export function describeFailure(error: unknown): Failure {
  if (error instanceof ZooKeeperError) {
    return {
      message: keeperMessage(error),
      status: 1,
      code: errorCodeName(error.code) ?? String(error.code),
      ...(error.path !== undefined && { path: error.path }),
    };
  }
  if (error instanceof InvalidArgumentError)
    return { message: pathMessage(error.message), status: 2 };
  if (error instanceof UsageError) return { message: firstLine(error.message), status: 2 };
  if (error instanceof ClosedError) return { message: "Not connected", status: 1 };
  if (error instanceof Error) return { message: firstLine(error.message), status: 1 };
  return { message: firstLine(String(error)), status: 1 };
}

/** PathUtils' wording of a bad path (zkCli prints it), from the client's InvalidArgumentError. */
function pathMessage(message: string): string {
  const match = /^invalid path "(.*)": (.*)$/s.exec(message);
  if (!match) return firstLine(message);
  const [, path, reason] = match;
  if (reason === "path must start with /") return "Path must start with / character";
  if (reason === "path must not end with /") return "Path must not end with / character";
  if (reason === "path must not be empty") return "Path length must be > 0";
  return firstLine(`Invalid path string "${path}" caused by ${reason}`);
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? "";
}
