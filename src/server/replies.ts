/**
 * The bodies of write replies (from what applying the txn returned), and the operation names
 * the four-letter words show for each opcode (FinalRequestProcessor's lastOp).
 */
import type { Writer } from "../jute/index.js";
import { Create2Response, CreateResponse, SetACLResponse, SetDataResponse } from "../jute/index.js";
import { JuteDecodeError } from "../jute/reader.js";
import { ErrorCode } from "../protocol/errors.js";
import { MultiFormatError, type MultiResult, writeMultiResponse } from "../protocol/multi.js";
import { OpCode } from "../protocol/opcodes.js";
import type { TxnResult } from "./txn.js";

export function isUndecodable(error: unknown): error is Error {
  return error instanceof JuteDecodeError || error instanceof MultiFormatError;
}

export function replyBody(opcode: number, result: TxnResult): ((w: Writer) => void) | undefined {
  switch (opcode) {
    case OpCode.create:
      return (w) => CreateResponse.write(w, { path: result.path ?? "" });
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return result.stat
        ? (w) => Create2Response.write(w, { path: result.path ?? "", stat: result.stat! })
        : undefined;
    case OpCode.setData:
      return result.stat ? (w) => SetDataResponse.write(w, { stat: result.stat! }) : undefined;
    case OpCode.setACL:
      return result.stat ? (w) => SetACLResponse.write(w, { stat: result.stat! }) : undefined;
    case OpCode.multi:
      return (w) => writeMultiResponse(w, (result.multiResult ?? []).map(multiResult));
    default:
      return undefined;
  }
}

function multiResult(sub: TxnResult): MultiResult {
  switch (sub.type) {
    case OpCode.error:
      return { type: OpCode.error, err: sub.err };
    case OpCode.create:
      return { type: OpCode.create, path: sub.path ?? "" };
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return { type: sub.type, path: sub.path ?? "", stat: sub.stat! };
    case OpCode.delete:
      return { type: OpCode.delete };
    case OpCode.setData:
      return { type: OpCode.setData, stat: sub.stat! };
    case OpCode.check:
      return { type: OpCode.check };
    default:
      return { type: OpCode.error, err: ErrorCode.RUNTIMEINCONSISTENCY };
  }
}

const OP_NAMES: Record<number, string> = {
  [OpCode.create]: "CREA",
  [OpCode.create2]: "CREA",
  [OpCode.createContainer]: "CREA",
  [OpCode.createTTL]: "CREA",
  [OpCode.delete]: "DELE",
  [OpCode.setData]: "SETD",
  [OpCode.setACL]: "SETA",
  [OpCode.check]: "CHEC",
  [OpCode.multi]: "MULT",
  [OpCode.reconfig]: "RECO",
  [OpCode.exists]: "EXIS",
  [OpCode.getData]: "GETD",
  [OpCode.getChildren]: "GETC",
  [OpCode.getChildren2]: "GETC",
  [OpCode.getACL]: "GETA",
  [OpCode.getAllChildrenNumber]: "GETACN",
  [OpCode.getEphemerals]: "GETE",
  [OpCode.sync]: "SYNC",
  [OpCode.multiRead]: "MLTR",
  [OpCode.whoAmI]: "HOMI",
  [OpCode.setWatches]: "SETW",
  [OpCode.setWatches2]: "STW2",
  [OpCode.addWatch]: "ADDW",
  [OpCode.checkWatches]: "CHKW",
  [OpCode.removeWatches]: "REMW",
};

export function opName(opcode: number): string {
  return OP_NAMES[opcode] ?? "NA";
}

export function hex(n: bigint): string {
  return `0x${BigInt.asUintN(64, n).toString(16)}`;
}
