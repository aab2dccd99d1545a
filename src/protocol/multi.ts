/**
 * The framing of multi (14) and multiRead (22), both ways:
 *
 *   request  := (MultiHeader{type, done=false, err=-1} op-record)* MultiHeader{-1, true, -1}
 *   response := (MultiHeader{type, done=false, err} result-record)* MultiHeader{-1, true, -1}
 *
 * A failed op's result has type -1 (OpCode.error) and an ErrorResponse{err} body. In a failed
 * multi the ops before the failing one report err 0, the failing one its code, and the ones after
 * it RUNTIMEINCONSISTENCY.
 */
import {
  type ACL,
  CheckVersionRequest,
  Create2Response,
  CreateRequest,
  CreateResponse,
  CreateTTLRequest,
  DeleteRequest,
  ErrorResponse,
  GetChildrenRequest,
  GetChildrenResponse,
  GetDataRequest,
  GetDataResponse,
  MultiHeader,
  type Reader,
  SetDataRequest,
  SetDataResponse,
  type Stat,
  type Writer,
} from "../jute/index.js";
import { OpCode } from "./opcodes.js";

/** One op of a multi or multiRead as it travels: opcode plus its request record. */
export type MultiOp =
  | {
      type: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer;
      path: string;
      data: Buffer;
      acl: ACL[];
      flags: number;
    }
  | {
      type: typeof OpCode.createTTL;
      path: string;
      data: Buffer;
      acl: ACL[];
      flags: number;
      ttl: bigint;
    }
  | { type: typeof OpCode.delete | typeof OpCode.deleteContainer; path: string; version: number }
  | { type: typeof OpCode.setData; path: string; data: Buffer; version: number }
  | { type: typeof OpCode.check; path: string; version: number }
  | { type: typeof OpCode.getChildren | typeof OpCode.getData; path: string; watch: boolean };

/** One result of a multi or multiRead as it travels. */
export type MultiResult =
  | { type: typeof OpCode.create; path: string }
  | {
      type: typeof OpCode.create2 | typeof OpCode.createTTL | typeof OpCode.createContainer;
      path: string;
      stat: Stat;
    }
  | { type: typeof OpCode.delete | typeof OpCode.deleteContainer | typeof OpCode.check }
  | { type: typeof OpCode.setData; stat: Stat }
  | { type: typeof OpCode.getChildren; children: string[] }
  | { type: typeof OpCode.getData; data: Buffer; stat: Stat }
  | { type: typeof OpCode.error; err: number };

const END = { type: -1, done: true, err: -1 };

export function writeMultiRequest(w: Writer, ops: readonly MultiOp[]): void {
  for (const op of ops) {
    MultiHeader.write(w, { type: op.type, done: false, err: -1 });
    switch (op.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
        CreateRequest.write(w, op);
        break;
      case OpCode.createTTL:
        CreateTTLRequest.write(w, op);
        break;
      case OpCode.delete:
      case OpCode.deleteContainer:
        DeleteRequest.write(w, op);
        break;
      case OpCode.setData:
        SetDataRequest.write(w, op);
        break;
      case OpCode.check:
        CheckVersionRequest.write(w, op);
        break;
      case OpCode.getChildren:
        GetChildrenRequest.write(w, op);
        break;
      case OpCode.getData:
        GetDataRequest.write(w, op);
        break;
    }
  }
  MultiHeader.write(w, END);
}

/** Reads ops until the done header; throws MultiFormatError on an opcode a multi cannot hold. */
export function readMultiRequest(r: Reader): MultiOp[] {
  const ops: MultiOp[] = [];
  for (let header = MultiHeader.read(r); !header.done; header = MultiHeader.read(r)) {
    ops.push(readOp(r, header.type));
  }
  return ops;
}

function readOp(r: Reader, type: number): MultiOp {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return { type, ...CreateRequest.read(r) };
    case OpCode.createTTL:
      return { type, ...CreateTTLRequest.read(r) };
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type, ...DeleteRequest.read(r) };
    case OpCode.setData:
      return { type, ...SetDataRequest.read(r) };
    case OpCode.check:
      return { type, ...CheckVersionRequest.read(r) };
    case OpCode.getChildren:
    case OpCode.getData:
      return { type, ...GetDataRequest.read(r) };
    default:
      throw new MultiFormatError(`opcode ${type} cannot be part of a multi`);
  }
}

export class MultiFormatError extends Error {
  override readonly name = "MultiFormatError";
}

export function writeMultiResponse(w: Writer, results: readonly MultiResult[]): void {
  for (const result of results) {
    const err = result.type === OpCode.error ? result.err : 0;
    MultiHeader.write(w, { type: result.type, done: false, err });
    switch (result.type) {
      case OpCode.create:
        CreateResponse.write(w, result);
        break;
      case OpCode.create2:
      case OpCode.createTTL:
      case OpCode.createContainer:
        Create2Response.write(w, result);
        break;
      case OpCode.setData:
        SetDataResponse.write(w, result);
        break;
      case OpCode.getChildren:
        GetChildrenResponse.write(w, result);
        break;
      case OpCode.getData:
        GetDataResponse.write(w, result);
        break;
      case OpCode.error:
        ErrorResponse.write(w, result);
        break;
    }
  }
  MultiHeader.write(w, END);
}

export function readMultiResponse(r: Reader): MultiResult[] {
  const results: MultiResult[] = [];
  for (let header = MultiHeader.read(r); !header.done; header = MultiHeader.read(r)) {
    results.push(readResult(r, header.type));
  }
  return results;
}

function readResult(r: Reader, type: number): MultiResult {
  switch (type) {
    case OpCode.create:
      return { type, ...CreateResponse.read(r) };
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer:
      return { type, ...Create2Response.read(r) };
    case OpCode.delete:
    case OpCode.deleteContainer:
    case OpCode.check:
      return { type };
    case OpCode.setData:
      return { type, ...SetDataResponse.read(r) };
    case OpCode.getChildren:
      return { type, ...GetChildrenResponse.read(r) };
    case OpCode.getData:
      return { type, ...GetDataResponse.read(r) };
    case OpCode.error:
      return { type, ...ErrorResponse.read(r) };
    default:
      throw new MultiFormatError(`opcode ${type} cannot be a multi result`);
  }
}
