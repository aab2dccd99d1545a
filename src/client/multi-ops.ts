/**
 * Converts between the caller's multi/multiRead ops and results and the wire's (chroot applied,
 * create modes mapped to opcodes), and builds the error of a failed multi.
 */

import { CreateMode } from "../protocol/constants.js";
import { ErrorCode, errorFromCode, type ZooKeeperError } from "../protocol/errors.js";
import type { MultiOp, MultiResult } from "../protocol/multi.js";
import { OpCode } from "../protocol/opcodes.js";
import { OPEN_ACL_UNSAFE } from "./acl.js";
import { createOpcode, toData, ttlOf, validateCreate } from "./create.js";
import { prependChroot, stripChroot, validatePath } from "./paths.js";
import type { Op, OpResult, ReadOp, ReadOpResult } from "./types.js";

export function toMultiOp(op: Op, chroot: string): MultiOp {
  const path = prependChroot(chroot, op.path);
  switch (op.type) {
    case "create": {
      const mode = op.mode ?? CreateMode.PERSISTENT;
      validateCreate(op.path, mode, op.ttlMs);
      const type = createOpcode(mode, true);
      const fields = {
        path,
        data: toData(op.data),
        acl: [...(op.acl ?? OPEN_ACL_UNSAFE)],
        flags: mode,
      };
      if (type === OpCode.createTTL) return { type, ...fields, ttl: ttlOf(op.ttlMs) };
      return { type: type as typeof OpCode.create2 | typeof OpCode.createContainer, ...fields };
    }
    case "delete":
      validatePath(op.path);
      return { type: OpCode.delete, path, version: op.version ?? -1 };
    case "setData":
      validatePath(op.path);
      return { type: OpCode.setData, path, data: toData(op.data), version: op.version ?? -1 };
    case "check":
      validatePath(op.path);
      return { type: OpCode.check, path, version: op.version };
  }
}

export function fromMultiResult(result: MultiResult, chroot: string): OpResult {
  switch (result.type) {
    case OpCode.create:
      // ZooKeeper 3.8 answers a create2 inside a multi with a plain create result (no Stat).
      return { type: "create", path: stripChroot(chroot, result.path), stat: undefined };
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer:
      return { type: "create", path: stripChroot(chroot, result.path), stat: result.stat };
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type: "delete" };
    case OpCode.setData:
      return { type: "setData", stat: result.stat };
    case OpCode.check:
      return { type: "check" };
    case OpCode.error:
      return { type: "error", err: result.err };
    default:
      throw new Error(`unexpected multi result type ${result.type}`);
  }
}

/**
 * The error for a multi whose op `index` failed: the failing op's class, naming its path, with
 * every op's result attached (ops before it report 0, ops after it RUNTIMEINCONSISTENCY).
 */
export function multiError(
  ops: readonly Op[],
  results: readonly OpResult[],
): ZooKeeperError | undefined {
  const index = results.findIndex((r) => r.type === "error" && r.err !== ErrorCode.OK);
  if (index === -1) return undefined;
  const failed = results[index] as { type: "error"; err: number };
  const error = errorFromCode(failed.err, ops[index]?.path);
  error.opIndex = index;
  error.results = results;
  error.message = `${error.message} (multi op ${index})`;
  return error;
}

export function toReadOp(op: ReadOp, chroot: string): MultiOp {
  validatePath(op.path);
  const type = op.type === "getData" ? OpCode.getData : OpCode.getChildren;
  return { type, path: prependChroot(chroot, op.path), watch: false };
}

export function fromReadResult(result: MultiResult): ReadOpResult {
  switch (result.type) {
    case OpCode.getData:
      return { type: "getData", data: result.data, stat: result.stat };
    case OpCode.getChildren:
      return { type: "getChildren", children: result.children };
    case OpCode.error:
      return { type: "error", err: result.err };
    default:
      throw new Error(`unexpected multiRead result type ${result.type}`);
  }
}
