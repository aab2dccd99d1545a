/**
 * Transactions: what a write becomes once the server has checked it, and the only thing the data
 * tree applies. The shapes follow zookeeper.jute's txn records (CreateTxn, DeleteTxn, ...) and
 * carry the opcode ZooKeeper logs them under, so that the txn log (storage/) can write them in
 * ZooKeeper's own format without another mapping.
 */
import type { ACL } from "../jute/records.js";
import type { OpCode } from "../protocol/opcodes.js";

/** TxnHeader: who asked (session, cxid), the zxid the txn got, and the leader's wall time. */
export interface TxnHeader {
  readonly clientId: bigint;
  readonly cxid: number;
  readonly zxid: bigint;
  readonly time: bigint;
  readonly type: number;
}

export type Txn =
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
  | { readonly type: typeof OpCode.multi; readonly txns: readonly Txn[] };

/** What applying one txn did: ZooKeeper's ProcessTxnResult. */
export interface TxnResult {
  readonly type: number;
  readonly zxid: bigint;
  /** 0, or the error a txn met at apply time (a multi reports its first failing op's). */
  err: number;
  path?: string;
  stat?: import("../jute/records.js").Stat;
  multiResult?: TxnResult[];
}

/** The ephemeralOwner markers of ZooKeeper's EphemeralType for containers and TTL nodes. */
export const CONTAINER_EPHEMERAL_OWNER = -0x8000000000000000n;
const EXTENDED_MASK = -0x100000000000000n; // 0xFF00000000000000 as a signed long
const TTL_MASK = 0xffffffffffn;

export function ttlEphemeralOwner(ttl: bigint): bigint {
  return EXTENDED_MASK | ttl;
}

export type EphemeralKind = "void" | "normal" | "container" | "ttl";

/** EphemeralType.get: what an ephemeralOwner value means. */
export function ephemeralKind(owner: bigint): EphemeralKind {
  if (owner === 0n) return "void";
  if (owner > 0n) return "normal";
  if (owner === CONTAINER_EPHEMERAL_OWNER) return "container";
  return (owner & EXTENDED_MASK) === EXTENDED_MASK ? "ttl" : "void";
}

export function ttlOf(owner: bigint): bigint {
  return owner & TTL_MASK;
}

export const MAX_TTL = TTL_MASK;
