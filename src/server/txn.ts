/**
 * Transactions: what a write becomes once the server has checked it, and the only thing the data
 * tree applies. The shapes follow zookeeper.jute's txn records (CreateTxn, DeleteTxn, ...) and
 * carry the opcode ZooKeeper logs them under, so that the txn log (storage/) can write them in
 * ZooKeeper's own format without another mapping.
 */
import type { Stat } from "../jute/records.js";

/**
 * TxnHeader (who asked: session and cxid; the zxid the txn got; the leader's wall time) and the
 * txns themselves are declared once, by storage/, in the shapes zookeeper.jute gives them in
 * the log; the server builds and applies those same shapes.
 */
export type { LoggedTxn as Txn, LoggedTxnHeader as TxnHeader } from "../storage/txn-codec.js";

/** What applying one txn did: ZooKeeper's ProcessTxnResult. */
export interface TxnResult {
  readonly type: number;
  readonly zxid: bigint;
  /** 0, or the error a txn met at apply time (a multi reports its first failing op's). */
  err: number;
  path?: string;
  stat?: Stat;
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
