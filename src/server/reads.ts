/**
 * Reads and watch requests (ZooKeeper's FinalRequestProcessor for requests that are not txns):
 * answered from the local tree, with the ACL check each opcode makes, in arrival order with the
 * connection's writes.
 */
import { NULL_BUFFER } from "../jute/reader.js";
import type { ACL, Id } from "../jute/records.js";
import { Perms } from "../protocol/constants.js";
import { ErrorCode } from "../protocol/errors.js";
import type { MultiOp, MultiResult } from "../protocol/multi.js";
import { OpCode } from "../protocol/opcodes.js";
import { checkACL, clientInfo, KeeperError } from "./auth.js";
import type { ClientConnection } from "./connection.js";
import type { DataNode, DataTree } from "./data-tree.js";
import { javaHashOrder } from "./java-hash-order.js";

function node(tree: DataTree, path: string): DataNode {
  const found = tree.getNode(path);
  if (found === undefined) throw new KeeperError(ErrorCode.NONODE);
  return found;
}

export function exists(tree: DataTree, cnxn: ClientConnection, path: string, watch: boolean) {
  if (path.includes("\0")) throw new KeeperError(ErrorCode.BADARGUMENTS);
  const stat = tree.exists(path, watch ? cnxn : undefined);
  if (stat === null) throw new KeeperError(ErrorCode.NONODE);
  return { stat };
}

/** `anySaslUser`, here and below: zookeeper.letAnySaslUserDoX, for checkACL. */
export function getData(
  tree: DataTree,
  cnxn: ClientConnection,
  path: string,
  watch: boolean,
  anySaslUser?: string,
) {
  checkACL(node(tree, path).acl, Perms.READ, cnxn.authIds, anySaslUser);
  const result = tree.getData(path, watch ? cnxn : undefined);
  if (result === null) throw new KeeperError(ErrorCode.NONODE);
  return { data: result.data ?? NULL_BUFFER, stat: result.stat };
}

export function getChildren(
  tree: DataTree,
  cnxn: ClientConnection,
  path: string,
  watch: boolean,
  anySaslUser?: string,
) {
  checkACL(node(tree, path).acl, Perms.READ, cnxn.authIds, anySaslUser);
  const result = tree.getChildren(path, watch ? cnxn : undefined);
  if (result === null) throw new KeeperError(ErrorCode.NONODE);
  return result;
}

/**
 * getACL needs READ or ADMIN; without ADMIN the digest ids come back masked ("user:x"), so a
 * reader cannot take the password hashes away (ZooKeeper 3.8).
 */
export function getACL(
  tree: DataTree,
  ids: readonly Id[],
  path: string,
  anySaslUser?: string,
): { acl: ACL[]; stat: ReturnType<DataTree["statOf"]> } {
  const found = node(tree, path);
  checkACL(found.acl, Perms.READ | Perms.ADMIN, ids, anySaslUser);
  const stat = tree.statOf(found);
  try {
    checkACL(found.acl, Perms.ADMIN, ids, anySaslUser);
    return { acl: [...found.acl], stat };
  } catch {
    const masked = found.acl.map((entry) =>
      entry.id.scheme === "digest"
        ? { perms: entry.perms, id: { scheme: "digest", id: entry.id.id.replace(/:.*/s, ":x") } }
        : entry,
    );
    return { acl: masked, stat };
  }
}

export function getAllChildrenNumber(
  tree: DataTree,
  ids: readonly Id[],
  path: string,
  anySaslUser?: string,
): number {
  checkACL(node(tree, path).acl, Perms.READ, ids, anySaslUser);
  return tree.allChildrenNumber(path);
}

/** The session's ephemerals whose path starts with the prefix (a string prefix, as ZooKeeper). */
export function getEphemerals(tree: DataTree, sessionId: bigint, prefix: string): string[] {
  const all = [...tree.ephemeralsOf(sessionId)];
  if (prefix.trim() === "" || prefix.trim() === "/") return all;
  return all.filter((p) => p.startsWith(prefix));
}

export function whoAmI(ids: readonly Id[], saslScheme = false) {
  return { clientInfo: javaHashOrder(ids).map((id) => clientInfo(id, saslScheme)) };
}

/** A multiRead holding a write: the results read before it, which ZooKeeper still sends. */
export class PartialMultiRead extends Error {
  readonly results: MultiResult[];
  constructor(results: MultiResult[]) {
    super("a write inside a multiRead");
    this.results = results;
  }
}

/** multiRead: each read succeeds or fails on its own; only getData and getChildren may be in it. */
export function multiRead(
  tree: DataTree,
  cnxn: ClientConnection,
  ops: readonly MultiOp[],
  anySaslUser?: string,
): MultiResult[] {
  const results: MultiResult[] = [];
  for (const op of ops) {
    if (op.type !== OpCode.getData && op.type !== OpCode.getChildren) {
      throw new PartialMultiRead(results);
    }
    try {
      results.push(
        op.type === OpCode.getData
          ? { type: OpCode.getData, ...getData(tree, cnxn, op.path, op.watch, anySaslUser) }
          : {
              type: OpCode.getChildren,
              children: getChildren(tree, cnxn, op.path, op.watch, anySaslUser).children,
            },
      );
    } catch (error) {
      if (!(error instanceof KeeperError)) throw error;
      results.push({ type: OpCode.error, err: error.code });
    }
  }
  return results;
}
