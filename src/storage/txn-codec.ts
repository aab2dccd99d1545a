/**
 * One transaction-log entry as ZooKeeper 3.8 marshals it (Util.marshallTxnEntry): the TxnHeader
 * record, then the txn record for the header's type, then a TxnDigest when the server keeps
 * digests (zookeeper.digest.enabled, on by default in 3.8). Reading follows
 * SerializeUtils.deserializeTxn: the record is chosen by the header's type, a create without
 * parentCVersion is a CreateTxnV0 (parentCVersion -1), and the digest is optional (read when bytes
 * remain, as ZooKeeper reads it and treats EOF as "no digest").
 *
 * The txn shapes are declared here, after zookeeper.jute, and only here: the server's `Txn`
 * (server/txn.ts) is this `LoggedTxn`, so what the server applies is what the log writes.
 */
import type { ACL, Infer, TxnDigest } from "../jute/index.js";
import {
  CheckVersionTxn,
  CloseSessionTxn,
  CreateContainerTxn,
  CreateSessionTxn,
  CreateTTLTxn,
  CreateTxn,
  CreateTxnV0,
  DeleteTxn,
  ErrorTxn,
  MultiTxn,
  NULL_BUFFER,
  Reader,
  SetACLTxn,
  SetDataTxn,
  TxnDigest as TxnDigestRecord,
  TxnHeader as TxnHeaderRecord,
  Writer,
} from "../jute/index.js";
import { OpCode } from "../protocol/opcodes.js";

export type LoggedTxnHeader = Infer<typeof TxnHeaderRecord>;
export type LoggedTxnDigest = Infer<typeof TxnDigest>;

/** A logged txn, by opcode: the record zookeeper.jute gives that opcode in the log. */
export type LoggedTxn =
  | {
      readonly type: typeof OpCode.create | typeof OpCode.create2;
      readonly path: string;
      readonly data: Buffer | null;
      readonly acl: readonly ACL[];
      readonly ephemeral: boolean;
      readonly parentCVersion: number;
    }
  | {
      readonly type: typeof OpCode.createContainer;
      readonly path: string;
      readonly data: Buffer | null;
      readonly acl: readonly ACL[];
      readonly parentCVersion: number;
    }
  | {
      readonly type: typeof OpCode.createTTL;
      readonly path: string;
      readonly data: Buffer | null;
      readonly acl: readonly ACL[];
      readonly parentCVersion: number;
      readonly ttl: bigint;
    }
  | { readonly type: typeof OpCode.delete | typeof OpCode.deleteContainer; readonly path: string }
  | {
      readonly type: typeof OpCode.setData;
      readonly path: string;
      readonly data: Buffer | null;
      readonly version: number;
    }
  | {
      readonly type: typeof OpCode.setACL;
      readonly path: string;
      readonly acl: readonly ACL[];
      readonly version: number;
    }
  | { readonly type: typeof OpCode.check; readonly path: string; readonly version: number }
  | { readonly type: typeof OpCode.createSession; readonly timeOut: number }
  | { readonly type: typeof OpCode.closeSession; readonly paths2Delete: readonly string[] }
  | { readonly type: typeof OpCode.error; readonly err: number }
  | { readonly type: typeof OpCode.multi; readonly txns: readonly LoggedTxn[] };

export interface TxnEntry {
  readonly header: LoggedTxnHeader;
  readonly txn: LoggedTxn;
  readonly digest?: LoggedTxnDigest;
}

/** A log entry that does not decode: its bytes are not a txn ZooKeeper would have written. */
export class TxnDecodeError extends Error {
  override name = "TxnDecodeError";
}

const toData = (data: Buffer): Buffer | null => (data === NULL_BUFFER ? null : data);
const fromData = (data: Buffer | null): Buffer => data ?? NULL_BUFFER;

/** Writes the txn's record (not its header): what a log entry and a multi's sub-txn carry. */
function writeTxnRecord(writer: Writer, txn: LoggedTxn): void {
  switch (txn.type) {
    case OpCode.create:
    case OpCode.create2:
      CreateTxn.write(writer, {
        path: txn.path,
        data: fromData(txn.data),
        acl: [...txn.acl],
        ephemeral: txn.ephemeral,
        parentCVersion: txn.parentCVersion,
      });
      return;
    case OpCode.createContainer:
      CreateContainerTxn.write(writer, {
        path: txn.path,
        data: fromData(txn.data),
        acl: [...txn.acl],
        parentCVersion: txn.parentCVersion,
      });
      return;
    case OpCode.createTTL:
      CreateTTLTxn.write(writer, {
        path: txn.path,
        data: fromData(txn.data),
        acl: [...txn.acl],
        parentCVersion: txn.parentCVersion,
        ttl: txn.ttl,
      });
      return;
    case OpCode.delete:
    case OpCode.deleteContainer:
      DeleteTxn.write(writer, { path: txn.path });
      return;
    case OpCode.setData:
      SetDataTxn.write(writer, {
        path: txn.path,
        data: fromData(txn.data),
        version: txn.version,
      });
      return;
    case OpCode.setACL:
      SetACLTxn.write(writer, { path: txn.path, acl: [...txn.acl], version: txn.version });
      return;
    case OpCode.check:
      CheckVersionTxn.write(writer, { path: txn.path, version: txn.version });
      return;
    case OpCode.createSession:
      CreateSessionTxn.write(writer, { timeOut: txn.timeOut });
      return;
    case OpCode.closeSession:
      CloseSessionTxn.write(writer, { paths2Delete: [...txn.paths2Delete] });
      return;
    case OpCode.error:
      ErrorTxn.write(writer, { err: txn.err });
      return;
    case OpCode.multi:
      MultiTxn.write(writer, {
        txns: txn.txns.map((sub) => {
          const inner = new Writer(256);
          writeTxnRecord(inner, sub);
          return { type: sub.type, data: inner.take() };
        }),
      });
      return;
  }
}

/** Reads the record for `type` (SerializeUtils.deserializeTxn's table, plus check for multis). */
function readTxnRecord(bytes: Buffer, start: number, type: number): [LoggedTxn, number] {
  const reader = new Reader(bytes, start);
  if (type === OpCode.create) {
    try {
      return [readTxnBody(reader, type), reader.offset];
    } catch {
      // A CreateTxnV0 (no parentCVersion) runs out of bytes: ZooKeeper retries it as V0 and
      // marks the parent's cversion -1 for fix-up. Only a plain create may be V0.
      const again = new Reader(bytes, start);
      const v0 = CreateTxnV0.read(again);
      return [{ type, ...v0, data: toData(v0.data), parentCVersion: -1 }, again.offset];
    }
  }
  return [readTxnBody(reader, type), reader.offset];
}

function readTxnBody(reader: Reader, type: number): LoggedTxn {
  switch (type) {
    case OpCode.create:
    case OpCode.create2: {
      const r = CreateTxn.read(reader);
      return { type, ...r, data: toData(r.data) };
    }
    case OpCode.createContainer: {
      const r = CreateContainerTxn.read(reader);
      return { type, ...r, data: toData(r.data) };
    }
    case OpCode.createTTL: {
      const r = CreateTTLTxn.read(reader);
      return { type, ...r, data: toData(r.data) };
    }
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type, ...DeleteTxn.read(reader) };
    case OpCode.setData: {
      const r = SetDataTxn.read(reader);
      return { type, ...r, data: toData(r.data) };
    }
    case OpCode.setACL:
      return { type, ...SetACLTxn.read(reader) };
    case OpCode.check:
      return { type, ...CheckVersionTxn.read(reader) };
    case OpCode.createSession:
      return { type, ...CreateSessionTxn.read(reader) };
    case OpCode.closeSession:
      // ZooKeeper before 3.6 (or with zookeeper.closeSessionTxn.enabled=false) logs no body.
      if (reader.remaining === 0) return { type, paths2Delete: [] };
      return { type, ...CloseSessionTxn.read(reader) };
    case OpCode.error:
      return { type, ...ErrorTxn.read(reader) };
    case OpCode.multi:
      return {
        type,
        txns: MultiTxn.read(reader).txns.map((sub) => {
          const [txn, next] = readTxnRecord(sub.data, 0, sub.type);
          if (next !== sub.data.length) {
            throw new TxnDecodeError(`multi sub-txn of type ${sub.type} has trailing bytes`);
          }
          return txn;
        }),
      };
    default:
      throw new TxnDecodeError(`unsupported txn type ${type}`);
  }
}

/**
 * Util.marshallTxnEntry: header, txn record, then the digest if given. The header's type must
 * be the txn's (ZooKeeper picks the record from the header when reading).
 */
export function serializeTxn(
  header: LoggedTxnHeader,
  txn: LoggedTxn,
  digest?: LoggedTxnDigest,
): Buffer {
  if (header.type !== txn.type) {
    throw new TxnDecodeError(`header type ${header.type} but txn type ${txn.type}`);
  }
  const writer = new Writer(256);
  TxnHeaderRecord.write(writer, header);
  writeTxnRecord(writer, txn);
  if (digest !== undefined) TxnDigestRecord.write(writer, digest);
  return writer.take();
}

/** SerializeUtils.deserializeTxn: header, the record for its type, the digest if present. */
export function deserializeTxn(bytes: Buffer): TxnEntry {
  const headerReader = new Reader(bytes);
  const header = TxnHeaderRecord.read(headerReader);
  const [txn, next] = readTxnRecord(bytes, headerReader.offset, header.type);
  if (next === bytes.length) return { header, txn };
  const reader = new Reader(bytes, next);
  const digest = TxnDigestRecord.read(reader);
  if (reader.remaining !== 0) {
    throw new TxnDecodeError(`${reader.remaining} bytes after the txn digest`);
  }
  return { header, txn, digest };
}
