/**
 * The data tree: every znode with its data, ACL and persisted Stat, the ephemerals of each
 * session, and the data and child watches. `apply(header, txn)` is the only way it changes, and
 * it is deterministic: time enters only as the TxnHeader's, so replicas (and a replayed log)
 * that apply the same txns end with the same tree and fire the same watches.
 *
 * As in ZooKeeper, a node's persisted cversion counts its child creations; clients see
 * cversion × 2 − numChildren (creations plus deletions).
 */
import type { ACL, Stat } from "../jute/records.js";
import { writeLongAt } from "../jute/writer.js";
import { ErrorCode } from "../protocol/errors.js";
import { OpCode } from "../protocol/opcodes.js";
import { crc32, crc32Range, crc32Utf8 } from "../storage/crc32.js";
import type { SnapshotNodeBytes } from "../storage/snapshot.js";
import { byBucket, javaHashSetCloneOrder } from "./java-hash-order.js";
import { PathIndex } from "./path-index.js";
import { LIMIT_NODE, QUOTA_ROOT, QuotaPaths, STAT_NODE, StatsTrack, statPath } from "./quota.js";
import {
  CONTAINER_EPHEMERAL_OWNER,
  ephemeralKind,
  type Txn,
  type TxnHeader,
  type TxnResult,
  ttlEphemeralOwner,
} from "./txn.js";
import { parentOf, type Watcher, WatchManager } from "./watch-manager.js";

/** The Stat fields a server keeps (StatPersisted); dataLength and numChildren are derived. */
export interface StatPersisted {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  pzxid: bigint;
}

export interface DataNode {
  data: Buffer | null;
  /** Shared between nodes with equal ACLs (interned), as ZooKeeper's ACL cache shares them. */
  acl: readonly ACL[];
  readonly stat: StatPersisted;
  /**
   * Each child by its name, so that a snapshot walks node objects rather than looking every path
   * up. NO_CHILDREN (shared, never changed) until the first child arrives: most znodes are leaves.
   */
  children: Map<string, DataNode>;
  /**
   * The size of the Java HashSet ZooKeeper would keep the children in (8 at the first child,
   * doubled past three quarters full, never shrunk): it decides the order getChildren lists
   * them in, which clients can see.
   */
  childTable: number;
  /** getChildren's answer, kept until the children change (ordering them costs a sort). */
  childOrder: string[] | null;
  /** Its share of the tree digest, as last added (see nodeDigest). */
  digest: number;
}

/** The children of every leaf. Never add to it: createNode gives the parent its own Map first. */
const NO_CHILDREN: Map<string, DataNode> = new Map();
/** A leaf's child order, shared. */
const NO_CHILD_NAMES: readonly string[] = Object.freeze([]);
const NO_CHILD_NODES: readonly DataNode[] = Object.freeze([]);

/** The child nodes of `node` by `names`, in that order. */
function childrenIn(node: DataNode, names: readonly string[]): DataNode[] {
  const children = new Array<DataNode>(names.length);
  for (let i = 0; i < names.length; i++) {
    children[i] = node.children.get(names[i] as string) as DataNode;
  }
  return children;
}

export const OPEN_ACL: readonly ACL[] = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const READ_ACL: readonly ACL[] = [{ perms: 1, id: { scheme: "world", id: "anyone" } }];

/** Znodes the server keeps for itself; they cannot be deleted (ZKDatabase.isSpecialPath). */
export const SPECIAL_PATHS: ReadonlySet<string> = new Set([
  "/",
  "/zookeeper",
  "/zookeeper/quota",
  "/zookeeper/config",
]);

/** Thrown inside apply for an error ZooKeeper reports in ProcessTxnResult.err. */
class ApplyError extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`apply error ${code}`);
    this.code = code;
  }
}

function emptyStat(): StatPersisted {
  return {
    czxid: 0n,
    mzxid: 0n,
    ctime: 0n,
    mtime: 0n,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0n,
    pzxid: 0n,
  };
}

/** A node as it was when a snapshot began. */
interface FrozenNode {
  readonly data: Buffer | null;
  readonly acl: readonly ACL[];
  readonly stat: StatPersisted;
  /** Child names in the order ZooKeeper's snapshot would list them... */
  readonly names: readonly string[];
  /** ...and the child nodes by those names then (a deleted one included). */
  readonly children: readonly DataNode[];
}

/** One node of a snapshot, ACL by its snapshot id. */
export interface SnapshotNodeView {
  readonly path: string;
  /** `path` is prefix + name: the parent's path and "/", then the node's name ("/" and "" at the root). */
  readonly prefix: string;
  readonly name: string;
  readonly data: Buffer | null;
  readonly acl: readonly ACL[];
  readonly aclId: bigint;
  readonly stat: StatPersisted;
}

/** A point-in-time view of the tree for a snapshot; writes go on while it is walked. */
export interface SnapshotView {
  readonly zxid: bigint;
  /** The tree digest at `zxid`. */
  readonly digest: bigint;
  readonly sessions: ReadonlyMap<bigint, number>;
  readonly acls: ReadonlyMap<bigint, readonly ACL[]>;
  /** Nodes parent first (ZooKeeper's pre-order), root as "/". */
  readonly nodes: Iterable<SnapshotNodeView>;
  /** Ends copy-on-write; call when the snapshot is written (or abandoned). */
  release(): void;
}

export class DataTree {
  /** Every node by path, through the children maps (see path-index.ts). */
  private paths: PathIndex<DataNode>;
  /** Nodes in the tree, the root and /zookeeper's included. */
  private count = 0;
  /** Each session's ephemerals in creation order, and the most it ever had (see ephemeralsOf). */
  private readonly ephemerals = new Map<bigint, { paths: Set<string>; maxSize: number }>();
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();
  readonly dataWatches = new WatchManager();
  /**
   * Every distinct ACL list, shared by the nodes that have it, with the id snapshots give it
   * (ZooKeeper's ReferenceCountedACLCache; unlike it, entries are never dropped while running).
   */
  private readonly aclCache = new Map<string, readonly ACL[]>();
  private readonly aclIds = new Map<readonly ACL[], bigint>();
  /** The shared list intern returned last. */
  private lastInterned: readonly ACL[] | undefined;
  readonly childWatches = new WatchManager();
  /** Live sessions and their timeouts, as the applied txns left them (sessionsWithTimeouts). */
  readonly sessions = new Map<bigint, number>();
  lastProcessedZxid = 0n;
  /** The tree digest is digestSum + digestDelta (see addDigest). */
  private digestSum = 0n;
  private digestDelta = 0;
  private digestOps = 0;
  /** Σ path length (UTF-16 units) + data bytes over the nodes: see approximateDataSize. */
  private dataBytes = 0;
  /** The paths under a quota (their zookeeper_limits nodes exist): see quota.ts. */
  readonly quotas = new QuotaPaths();
  /**
   * Pre-images of the nodes changed since the snapshot under way began (copy on write), by node:
   * the walk reaches nodes through their parents, never by path.
   */
  private frozen: Map<DataNode, FrozenNode> | undefined;

  constructor() {
    const node = (children: [string, DataNode][], acl: readonly ACL[] = OPEN_ACL): DataNode => ({
      data: Buffer.alloc(0),
      acl: this.intern(acl),
      stat: emptyStat(),
      children: children.length > 0 ? new Map(children) : NO_CHILDREN,
      childTable: children.length > 0 ? 8 : 0,
      childOrder: null,
      digest: 0,
    });
    const quota = node([]);
    // The config node is readable by all and changed only by reconfig (ZOOKEEPER-2014); its
    // ACL was set with version -1, which is why ZooKeeper shows aversion -1 for it.
    const config = node([], READ_ACL);
    config.stat.aversion = -1;
    const zookeeper = node([
      ["quota", quota],
      ["config", config],
    ]);
    const root = node([["zookeeper", zookeeper]]);
    this.paths = new PathIndex(root);
    const initial: [string, DataNode][] = [
      ["/", root],
      ["/zookeeper", zookeeper],
      ["/zookeeper/quota", quota],
      ["/zookeeper/config", config],
    ];
    for (const [path, node] of initial) {
      this.addDigest(path, node);
      this.dataBytes += path.length + (node.data?.length ?? 0);
    }
    this.count = initial.length;
  }

  /**
   * DataTree.approximateDataSize, kept as the tree changes rather than walked for each mntr:
   * path length (in UTF-16 units, Java's String.length) plus data bytes over ZooKeeper's node
   * map, which holds the root twice ("" and "/").
   */
  get approximateDataSize(): number {
    return this.dataBytes + (this.paths.root.data?.length ?? 0);
  }

  /**
   * ZooKeeper's tree digest (DataTree.getTreeDigest): the sum of every node's digest, a Java
   * long. Snapshots carry it, so a server loading one can check the tree it rebuilt.
   */
  get digest(): bigint {
    this.foldDigest();
    return BigInt.asIntN(64, this.digestSum);
  }

  /**
   * Node digests are below 2^32, so 2^20 of them added or taken away stay exact in a double:
   * they go into digestDelta, and into the bigint sum that often rather than once per change.
   */
  private addDigest(path: string, node: DataNode): void {
    node.digest = nodeDigest(path, node);
    this.digestDelta += node.digest;
    if (++this.digestOps === 1 << 20) this.foldDigest();
  }

  private removeDigest(node: DataNode): void {
    this.digestDelta -= node.digest;
    if (++this.digestOps === 1 << 20) this.foldDigest();
  }

  private foldDigest(): void {
    this.digestSum += BigInt(this.digestDelta);
    this.digestDelta = 0;
    this.digestOps = 0;
  }

  get nodeCount(): number {
    return this.count;
  }

  /** The node at `path`; "" is the root too, as in ZooKeeper's own node table. */
  getNode(path: string): DataNode | undefined {
    return this.paths.get(path);
  }

  /** The Stat a client sees for a node (DataNode.copyStat). */
  statOf(node: DataNode): Stat {
    const s = node.stat;
    const kind = ephemeralKind(s.ephemeralOwner);
    return {
      czxid: s.czxid,
      mzxid: s.mzxid,
      ctime: s.ctime,
      mtime: s.mtime,
      version: s.version,
      cversion: s.cversion * 2 - node.children.size,
      aversion: s.aversion,
      ephemeralOwner: kind === "normal" ? s.ephemeralOwner : 0n,
      dataLength: node.data === null ? 0 : node.data.length,
      numChildren: node.children.size,
      pzxid: s.pzxid,
    };
  }

  // ---- reads (they may leave watches) ----

  /** exists: leaves the watch even when the node is missing, so that it fires on create. */
  exists(path: string, watcher?: Watcher): Stat | null {
    if (watcher) this.dataWatches.add(path, watcher);
    const node = this.getNode(path);
    return node ? this.statOf(node) : null;
  }

  getData(path: string, watcher?: Watcher): { data: Buffer | null; stat: Stat } | null {
    const node = this.getNode(path);
    if (!node) return null;
    const stat = this.statOf(node);
    if (watcher) this.dataWatches.add(path, watcher);
    return { data: node.data, stat };
  }

  getChildren(path: string, watcher?: Watcher): { children: string[]; stat: Stat } | null {
    const node = this.getNode(path);
    if (!node) return null;
    const result = { children: [...this.childOrderOf(node)], stat: this.statOf(node) };
    if (watcher) this.childWatches.add(path, watcher);
    return result;
  }

  /** Every descendant of `path`, not counting itself. */
  allChildrenNumber(path: string): number {
    const node = this.paths.get(path);
    if (!node) return 0;
    let count = 0;
    for (const child of node.children.keys()) {
      count += 1 + this.allChildrenNumber(childPath(path, child));
    }
    return count;
  }

  /** A session's ephemerals in the order ZooKeeper walks them (a Java HashSet's order). */
  ephemeralsOf(sessionId: bigint): string[] {
    const mine = this.ephemerals.get(sessionId);
    return mine ? javaHashSetCloneOrder([...mine.paths], mine.maxSize) : [];
  }

  /**
   * Every session that has owned an ephemeral, with the ones it owns now (possibly none: as in
   * ZooKeeper, a session's set stays until the session ends).
   */
  sessionsWithEphemerals(): Map<bigint, string[]> {
    const all = new Map<bigint, string[]>();
    for (const sessionId of this.ephemerals.keys())
      all.set(sessionId, this.ephemeralsOf(sessionId));
    return all;
  }

  // ---- watches ----

  /**
   * Both tables take the watch, whatever its mode, as in ZooKeeper 3.8's DataTree.addWatch (so
   * zk_watch_count counts a recursive watch twice, and removeWatches or checkWatches of type
   * Children find it); the child table never fires NodeChildrenChanged to a recursive watcher.
   */
  addWatch(path: string, watcher: Watcher, mode: "persistent" | "persistentRecursive"): void {
    this.dataWatches.add(path, watcher, mode);
    this.childWatches.add(path, watcher, mode);
  }

  /**
   * setWatches after a reconnect: a watch whose node changed after `relativeZxid` fires at once
   * (the change the client missed); the others are registered again.
   */
  setWatches(
    relativeZxid: bigint,
    lists: {
      dataWatches: readonly string[];
      existWatches: readonly string[];
      childWatches: readonly string[];
      persistentWatches?: readonly string[];
      persistentRecursiveWatches?: readonly string[];
    },
    watcher: Watcher,
  ): void {
    for (const path of lists.dataWatches) {
      const node = this.paths.get(path);
      if (!node) watcher.process("NodeDeleted", path);
      else if (node.stat.mzxid > relativeZxid) watcher.process("NodeDataChanged", path);
      else this.dataWatches.add(path, watcher);
    }
    for (const path of lists.existWatches) {
      if (this.paths.get(path) !== undefined) watcher.process("NodeCreated", path);
      else this.dataWatches.add(path, watcher);
    }
    for (const path of lists.childWatches) {
      const node = this.paths.get(path);
      if (!node) watcher.process("NodeDeleted", path);
      else if (node.stat.pzxid > relativeZxid) watcher.process("NodeChildrenChanged", path);
      else this.childWatches.add(path, watcher);
    }
    for (const path of lists.persistentWatches ?? []) this.addWatch(path, watcher, "persistent");
    for (const path of lists.persistentRecursiveWatches ?? []) {
      this.addWatch(path, watcher, "persistentRecursive");
    }
  }

  /** removeWatches by WatcherType number (1 children, 2 data, 3 any). */
  removeWatch(path: string, type: number, watcher: Watcher): boolean {
    if (type === 1) return this.childWatches.remove(path, watcher);
    if (type === 2) return this.dataWatches.remove(path, watcher);
    const child = this.childWatches.remove(path, watcher);
    const data = this.dataWatches.remove(path, watcher);
    return child || data;
  }

  containsWatch(path: string, type: number, watcher: Watcher): boolean {
    if (type === 1) return this.childWatches.contains(path, watcher);
    if (type === 2) return this.dataWatches.contains(path, watcher);
    return this.childWatches.contains(path, watcher) || this.dataWatches.contains(path, watcher);
  }

  removeWatcher(watcher: Watcher): void {
    this.dataWatches.removeWatcher(watcher);
    this.childWatches.removeWatcher(watcher);
  }

  // ---- apply ----

  /** Applies one txn (DataTree.processTxn) and fires the watches it triggers. */
  apply(header: TxnHeader, txn: Txn): TxnResult {
    const result = this.applyOne(header, txn);
    if (header.zxid > this.lastProcessedZxid) this.lastProcessedZxid = header.zxid;
    return result;
  }

  private applyOne(header: TxnHeader, txn: Txn): TxnResult {
    const result: TxnResult = { type: txn.type, zxid: header.zxid, err: 0 };
    try {
      switch (txn.type) {
        case OpCode.create:
        case OpCode.create2: {
          result.path = txn.path;
          const owner = txn.ephemeral ? header.clientId : 0n;
          const node = this.createNode(
            txn.path,
            txn.data,
            txn.acl,
            owner,
            txn.parentCVersion,
            header,
          );
          if (txn.type === OpCode.create2) result.stat = this.statOf(node);
          break;
        }
        case OpCode.createContainer:
          result.path = txn.path;
          result.stat = this.statOf(
            this.createNode(
              txn.path,
              txn.data,
              txn.acl,
              CONTAINER_EPHEMERAL_OWNER,
              txn.parentCVersion,
              header,
            ),
          );
          break;
        case OpCode.createTTL:
          result.path = txn.path;
          result.stat = this.statOf(
            this.createNode(
              txn.path,
              txn.data,
              txn.acl,
              ttlEphemeralOwner(txn.ttl),
              txn.parentCVersion,
              header,
            ),
          );
          break;
        case OpCode.delete:
        case OpCode.deleteContainer:
          result.path = txn.path;
          this.deleteNode(txn.path, header.zxid);
          break;
        case OpCode.setData:
          result.path = txn.path;
          result.stat = this.setData(txn.path, txn.data, txn.version, header);
          break;
        case OpCode.setACL:
          result.path = txn.path;
          result.stat = this.setACL(txn.path, txn.acl, txn.version);
          break;
        case OpCode.check:
          result.path = txn.path;
          break;
        case OpCode.closeSession:
          this.killSession(header.clientId, header.zxid, txn.paths2Delete);
          this.sessions.delete(header.clientId);
          break;
        case OpCode.error:
          result.err = txn.err;
          break;
        case OpCode.multi:
          result.multiResult = this.applyMulti(header, txn.txns, result);
          break;
        case OpCode.createSession:
          this.sessions.set(header.clientId, txn.timeOut);
          break;
      }
    } catch (error) {
      if (!(error instanceof ApplyError)) throw error;
      result.err = error.code;
    }
    return result;
  }

  /**
   * A multi whose prep failed holds an error txn: then no op is applied, the ops before it
   * report OK and the ops after it RUNTIMEINCONSISTENCY (DataTree.processTxn).
   */
  private applyMulti(header: TxnHeader, txns: readonly Txn[], result: TxnResult): TxnResult[] {
    const failed = txns.some((t) => t.type === OpCode.error);
    let afterFailure = false;
    const results: TxnResult[] = [];
    for (const txn of txns) {
      let sub: Txn = txn;
      if (txn.type === OpCode.error) afterFailure = true;
      else if (failed) {
        sub = {
          type: OpCode.error,
          err: afterFailure ? ErrorCode.RUNTIMEINCONSISTENCY : ErrorCode.OK,
        };
      }
      const subResult = this.applyOne({ ...header, type: sub.type }, sub);
      results.push(subResult);
      if (subResult.err !== 0 && result.err === 0) result.err = subResult.err;
    }
    return results;
  }

  private createNode(
    path: string,
    data: Buffer | null,
    acl: readonly ACL[],
    ephemeralOwner: bigint,
    parentCVersion: number,
    header: TxnHeader,
  ): DataNode {
    const parentPath = parentOf(path) ?? "/";
    const parent = this.paths.get(parentPath);
    if (!parent) throw new ApplyError(ErrorCode.NONODE);
    const name = path.slice(path.lastIndexOf("/") + 1);
    if (parent.children.has(name)) {
      if (this.replaying) this.fixParentCversion(parentPath, parent, parentCVersion, header.zxid);
      throw new ApplyError(ErrorCode.NODEEXISTS);
    }
    this.preserve(parent);
    const cversion = parentCVersion === -1 ? parent.stat.cversion + 1 : parentCVersion;
    if (cversion > parent.stat.cversion) {
      this.removeDigest(parent);
      parent.stat.cversion = cversion;
      parent.stat.pzxid = header.zxid;
      this.addDigest(parentPath, parent);
    }
    const { zxid, time } = header;
    const node: DataNode = {
      data,
      acl: this.intern(acl),
      stat: {
        czxid: zxid,
        mzxid: zxid,
        ctime: time,
        mtime: time,
        version: 0,
        cversion: 0,
        aversion: 0,
        ephemeralOwner,
        pzxid: zxid,
      },
      children: NO_CHILDREN,
      childTable: 0,
      childOrder: null,
      digest: 0,
    };
    this.addDigest(path, node);
    this.dataBytes += path.length + (data === null ? 0 : data.length);
    if (parent.children === NO_CHILDREN) {
      parent.children = new Map();
      parent.childTable = 8;
    }
    parent.children.set(name, node);
    parent.childOrder = null;
    if (parent.children.size > parent.childTable * 0.75) parent.childTable *= 2;
    this.count++;
    this.index(path, ephemeralOwner);
    this.quotaOnCreate(parentPath, name, path, data);
    this.dataWatches.trigger(path, "NodeCreated", node.acl);
    this.childWatches.trigger(parentPath, "NodeChildrenChanged", parent.acl);
    return node;
  }

  // ---- quotas (quota.ts) ----

  /**
   * A new node: a limit node puts its path under a quota, a stat node gets the subtree's
   * figures; and the node counts against the deepest quota above it.
   */
  private quotaOnCreate(parentPath: string, name: string, path: string, data: Buffer | null): void {
    if (parentPath.startsWith(QUOTA_ROOT)) {
      // ZooKeeper ignores (since 3.9 explicitly) a limit or stat node right under the root.
      const quotaPath = parentPath.slice(QUOTA_ROOT.length);
      if (quotaPath !== "" && name === LIMIT_NODE) this.quotas.add(quotaPath);
      else if (quotaPath !== "" && name === STAT_NODE) this.updateQuotaForPath(quotaPath);
    }
    const quota = this.quotas.maxPrefix(path);
    if (quota !== undefined) this.updateQuotaStat(quota, data?.length ?? 0, 1);
  }

  /**
   * DataTree.updateQuotaStat: the stat node's figures move by the diffs. Only its data changes:
   * not its Stat, not the tree digest (/zookeeper is outside it), not the approximate data
   * size (ZooKeeper's nodeDataSize does not follow these changes either).
   */
  private updateQuotaStat(quotaPath: string, bytesDiff: number, countDiff: number): void {
    const path = statPath(quotaPath);
    const node = this.paths.get(path);
    if (node === undefined) return;
    this.preserve(node);
    const stats = StatsTrack.of(node.data);
    stats.set("count", stats.get("count") + BigInt(countDiff));
    stats.set("bytes", stats.get("bytes") + BigInt(bytesDiff));
    node.data = stats.bytes();
  }

  /** DataTree.updateQuotaForPath: the subtree's node count and bytes, counted afresh. */
  private updateQuotaForPath(quotaPath: string): void {
    const path = statPath(quotaPath);
    const statNode = this.paths.get(path);
    if (statNode === undefined) return;
    let count = 0n;
    let bytes = 0n;
    const stack = [quotaPath];
    while (stack.length > 0) {
      const at = stack.pop() as string;
      const node = this.paths.get(at);
      if (node === undefined) continue;
      count++;
      bytes += BigInt(node.data?.length ?? 0);
      for (const child of node.children.keys()) {
        stack.push(at === "/" ? `/${child}` : `${at}/${child}`);
      }
    }
    const stats = new StatsTrack();
    stats.set("count", count);
    stats.set("bytes", bytes);
    this.preserve(statNode);
    statNode.data = stats.bytes();
  }

  /** DataTree.setupQuota, after a snapshot is loaded: every limit node's path, recounted. */
  private setupQuota(): void {
    const stack = [QUOTA_ROOT];
    const limit = `/${LIMIT_NODE}`;
    while (stack.length > 0) {
      const at = stack.pop() as string;
      const node = this.paths.get(at);
      if (node === undefined) continue;
      if (node.children.size === 0) {
        const end = at.indexOf(limit);
        if (at.endsWith(limit) && end > QUOTA_ROOT.length) {
          const quotaPath = at.slice(QUOTA_ROOT.length, end);
          this.updateQuotaForPath(quotaPath);
          this.quotas.add(quotaPath);
        }
        continue;
      }
      for (const child of node.children.keys()) stack.push(`${at}/${child}`);
    }
  }

  /**
   * One shared list per distinct ACL: most trees use a handful of ACLs over many znodes. The
   * lists are frozen, so sharing is safe; each gets the id snapshots refer to it by.
   */
  private intern(acl: readonly ACL[]): readonly ACL[] {
    if (this.aclIds.has(acl)) return acl;
    // A txn's ACL is a fresh list, most often equal to the one before: skip building its key.
    const last = this.lastInterned;
    if (last !== undefined && sameAcl(acl, last)) return last;
    const key = acl.map((a) => `${a.perms}\u0000${a.id.scheme}\u0000${a.id.id}`).join("\u0001");
    let shared = this.aclCache.get(key);
    if (shared === undefined) {
      shared = Object.freeze(
        acl.map((a) => Object.freeze({ perms: a.perms, id: Object.freeze({ ...a.id }) })),
      );
      this.aclCache.set(key, shared);
      this.aclIds.set(shared, BigInt(this.aclIds.size + 1));
    }
    this.lastInterned = shared;
    return shared;
  }

  private deleteNode(path: string, zxid: bigint): void {
    const node = this.paths.get(path);
    const parentPath = parentOf(path) ?? "/";
    const parent = this.paths.get(parentPath);
    if (!node || !parent) throw new ApplyError(ErrorCode.NONODE);
    this.preserve(node);
    this.preserve(parent);
    this.paths.forget(path);
    this.count--;
    this.removeDigest(node);
    this.dataBytes -= path.length + (node.data === null ? 0 : node.data.length);
    parent.children.delete(path.slice(path.lastIndexOf("/") + 1));
    parent.childOrder = null;
    // Only move pzxid forward: a later create may already have set a higher one.
    if (zxid > parent.stat.pzxid) {
      this.removeDigest(parent);
      parent.stat.pzxid = zxid;
      this.addDigest(parentPath, parent);
    }
    const owner = node.stat.ephemeralOwner;
    const kind = ephemeralKind(owner);
    if (kind === "container") this.containers.delete(path);
    else if (kind === "ttl") this.ttls.delete(path);
    else if (kind === "normal") {
      // Like ZooKeeper's, the set stays (empty) until the session ends: its size history
      // decides the order it is walked in.
      this.ephemerals.get(owner)?.paths.delete(path);
    }
    if (parentPath.startsWith(QUOTA_ROOT) && path.endsWith(`/${LIMIT_NODE}`)) {
      this.quotas.delete(parentPath.slice(QUOTA_ROOT.length));
    }
    const quota = this.quotas.maxPrefix(path);
    if (quota !== undefined) this.updateQuotaStat(quota, -(node.data?.length ?? 0), -1);
    const told = this.dataWatches.trigger(path, "NodeDeleted", node.acl);
    this.childWatches.trigger(path, "NodeDeleted", node.acl, told);
    this.childWatches.trigger(parentPath, "NodeChildrenChanged", parent.acl);
  }

  private setData(path: string, data: Buffer | null, version: number, header: TxnHeader): Stat {
    const node = this.paths.get(path);
    if (!node) throw new ApplyError(ErrorCode.NONODE);
    this.preserve(node);
    this.removeDigest(node);
    const bytesDiff =
      (data === null ? 0 : data.length) - (node.data === null ? 0 : node.data.length);
    this.dataBytes += bytesDiff;
    node.data = data;
    node.stat.version = version;
    node.stat.mtime = header.time;
    node.stat.mzxid = header.zxid;
    this.addDigest(path, node);
    const quota = this.quotas.maxPrefix(path);
    if (quota !== undefined) this.updateQuotaStat(quota, bytesDiff, 0);
    this.dataWatches.trigger(path, "NodeDataChanged", node.acl);
    return this.statOf(node);
  }

  private setACL(path: string, acl: readonly ACL[], version: number): Stat {
    const node = this.paths.get(path);
    if (!node) throw new ApplyError(ErrorCode.NONODE);
    this.preserve(node);
    this.removeDigest(node);
    node.acl = this.intern(acl);
    node.stat.aversion = version;
    this.addDigest(path, node);
    return this.statOf(node);
  }

  // ---- snapshots and recovery ----

  /** Set while txns from the log are replayed onto a (possibly fuzzy) snapshot. */
  replaying = false;

  /**
   * A create replayed onto a snapshot that already has the node (ZooKeeper's snapshots are
   * fuzzy): the parent still takes the txn's cversion, as DataTree.processTxn does.
   */
  private fixParentCversion(
    parentPath: string,
    parent: DataNode,
    parentCVersion: number,
    zxid: bigint,
  ): void {
    const cversion = parentCVersion === -1 ? parent.stat.cversion + 1 : parentCVersion;
    if (cversion > parent.stat.cversion) {
      this.preserve(parent);
      this.removeDigest(parent);
      parent.stat.cversion = cversion;
      parent.stat.pzxid = zxid;
      this.addDigest(parentPath, parent);
    }
  }

  /** Before a node changes while a snapshot is being written, keep what the snapshot needs. */
  private preserve(node: DataNode): void {
    const frozen = this.frozen;
    if (frozen === undefined || frozen.has(node)) return;
    const names = this.childOrderOf(node);
    const children = names.length === 0 ? NO_CHILD_NODES : childrenIn(node, names);
    frozen.set(node, { data: node.data, acl: node.acl, stat: { ...node.stat }, names, children });
  }

  private childOrderOf(node: DataNode): readonly string[] {
    if (node.children.size === 0) return NO_CHILD_NAMES;
    node.childOrder ??= byBucket([...node.children.keys()], node.childTable);
    return node.childOrder;
  }

  /**
   * The tree as it is now, to be walked while writes go on: nodes changed from here on keep
   * their old state for the walk (copy on write), so the snapshot is exact at `zxid`, not fuzzy
   * as ZooKeeper's are. One snapshot at a time.
   */
  beginSnapshot(): SnapshotView {
    if (this.frozen !== undefined) throw new Error("a snapshot is already under way");
    const frozen = new Map<DataNode, FrozenNode>();
    this.frozen = frozen;
    const acls = new Map<bigint, readonly ACL[]>();
    for (const [acl, id] of this.aclIds) acls.set(id, acl);
    return {
      zxid: this.lastProcessedZxid,
      digest: this.digest,
      sessions: new Map(this.sessions),
      acls,
      nodes: this.walk(this.paths.root, frozen, new Map(this.aclIds)),
      release: () => {
        if (this.frozen === frozen) this.frozen = undefined;
      },
    };
  }

  /** The snapshot's nodes in pre-order, each as it was when the snapshot began. */
  private *walk(
    root: DataNode,
    frozen: ReadonlyMap<DataNode, FrozenNode>,
    aclIds: ReadonlyMap<readonly ACL[], bigint>,
  ): Generator<SnapshotNodeView> {
    // A node's path is its parent's path and "/" (shared by the siblings) then its name: kept
    // apart, so that the encoder writes both as they are instead of flattening a joined string.
    const nodes: DataNode[] = [root];
    const prefixes: string[] = ["/"];
    const names: string[] = [""];
    let lastAcl: readonly ACL[] | undefined;
    let lastAclId = -1n;
    while (nodes.length > 0) {
      const node = nodes.pop() as DataNode;
      const prefix = prefixes.pop() as string;
      const name = names.pop() as string;
      const path = prefix + name;
      // Most snapshots see few changes: skip the pre-image lookup while there are none.
      const before = frozen.size === 0 ? undefined : frozen.get(node);
      const { data, acl, stat } = before ?? node;
      if (acl !== lastAcl) {
        lastAcl = acl;
        lastAclId = aclIds.get(acl) ?? -1n;
      }
      // Children now: the consumer may change the tree while it holds the node.
      const childNames = before !== undefined ? before.names : this.childOrderOf(node);
      if (childNames.length > 0) {
        const childPrefix = path === "/" ? "/" : `${path}/`;
        for (let i = childNames.length - 1; i >= 0; i--) {
          const childName = childNames[i] as string;
          const child = before !== undefined ? before.children[i] : node.children.get(childName);
          nodes.push(child as DataNode);
          prefixes.push(childPrefix);
          names.push(childName);
        }
      }
      yield { path, prefix, name, data, acl, aclId: lastAclId, stat };
    }
  }

  /**
   * A tree from a snapshot's contents (parents before children, root as "/"), as
   * DataTree.deserialize rebuilds it: children sets grown in file order, ephemerals, containers
   * and TTL nodes indexed. Throws if a node's parent is missing.
   */
  static fromSnapshot(snapshot: {
    zxid: bigint;
    sessions: ReadonlyMap<bigint, number>;
    nodes: Iterable<{
      path: string;
      data: Buffer | null;
      acl: readonly ACL[];
      stat: StatPersisted;
    }>;
  }): DataTree {
    const loader = DataTree.loader();
    for (const { path, data, acl, stat } of snapshot.nodes) {
      const reason = loader.add(path, data, acl, { ...stat });
      if (reason !== undefined) throw new Error(`snapshot: ${reason}`);
    }
    return loader.finish(snapshot.zxid, snapshot.sessions);
  }

  /**
   * Builds a tree from a snapshot's nodes as they are decoded (storage/snapshot.ts's
   * SnapshotNodeSink): `add` takes each node, root ("/") first, parents before children, and
   * owns the stat object it is given; it returns why a node cannot go in (its parent missing, a
   * path twice), or undefined. Given the node's bytes in the file, the digest is computed from
   * them. `finish` checks there was a root and returns the tree.
   */
  static loader(): {
    add(
      path: string,
      data: Buffer | null,
      acl: readonly ACL[],
      stat: StatPersisted,
      bytes?: SnapshotNodeBytes,
    ): string | undefined;
    finish(zxid: bigint, sessions: ReadonlyMap<bigint, number>): DataTree;
  } {
    const tree = new DataTree();
    let rootSeen = false;
    tree.count = 0;
    tree.digestSum = 0n;
    tree.digestDelta = 0;
    tree.digestOps = 0;
    tree.dataBytes = 0;
    // The decoder shares one ACL array per ACL id: intern each array once.
    const interned = new Map<readonly ACL[], readonly ACL[]>();
    let lastAcl: readonly ACL[] | undefined;
    let lastInterned: readonly ACL[] = OPEN_ACL;
    // Until the root comes, no node has a parent (the default tree's root is not the file's).
    const ancestors = new Ancestors((path) => (rootSeen ? tree.paths.get(path) : undefined));
    return {
      add(path, data, acl, stat, bytes) {
        let parent: DataNode | undefined;
        let slash = -1;
        if (path === "/") {
          if (tree.count > 0) return rootSeen ? "node / twice" : "the root is not first";
        } else {
          slash = path.lastIndexOf("/");
          if (slash === -1) return `node path ${path} has no "/"`;
          parent = ancestors.parentOf(path, slash);
          if (parent === undefined) {
            return `parent ${slash === 0 ? "/" : path.slice(0, slash)} of ${path} is missing`;
          }
        }
        if (acl !== lastAcl) {
          let shared = interned.get(acl);
          if (shared === undefined) {
            shared = tree.intern(acl);
            interned.set(acl, shared);
          }
          lastAcl = acl;
          lastInterned = shared;
        }
        const node: DataNode = {
          data,
          acl: lastInterned,
          stat,
          children: NO_CHILDREN,
          childTable: 0,
          childOrder: null,
          digest:
            bytes === undefined ? nodeDigest(path, { data, stat }) : digestOf(path, data, bytes),
        };
        if (parent !== undefined) {
          if (parent.children === NO_CHILDREN) {
            parent.children = new Map();
            parent.childTable = 8;
          }
          const size = parent.children.size;
          parent.children.set(path.slice(slash + 1), node);
          if (parent.children.size === size) return `node ${path} twice`;
          if (size + 1 > parent.childTable * 0.75) parent.childTable *= 2;
          if (stat.ephemeralOwner !== 0n) tree.index(path, stat.ephemeralOwner);
        }
        if (parent === undefined) {
          tree.paths = new PathIndex(node);
          rootSeen = true;
        }
        tree.count++;
        ancestors.push(path, node);
        tree.dataBytes += path.length + (data === null ? 0 : data.length);
        tree.digestDelta += node.digest;
        if (++tree.digestOps === 1 << 20) tree.foldDigest();
        return undefined;
      },
      finish(zxid, sessions) {
        if (!rootSeen) throw new Error("snapshot has no root node");
        for (const [id, timeout] of sessions) tree.sessions.set(id, timeout);
        tree.lastProcessedZxid = zxid;
        tree.setupQuota();
        return tree;
      },
    };
  }

  /** Containers, TTL nodes and each session's ephemerals, by owner. */
  private index(path: string, ephemeralOwner: bigint): void {
    const kind = ephemeralKind(ephemeralOwner);
    if (kind === "container") this.containers.add(path);
    else if (kind === "ttl") this.ttls.add(path);
    else if (kind === "normal") {
      let mine = this.ephemerals.get(ephemeralOwner);
      if (!mine) {
        mine = { paths: new Set(), maxSize: 0 };
        this.ephemerals.set(ephemeralOwner, mine);
      }
      mine.paths.add(path);
      mine.maxSize = Math.max(mine.maxSize, mine.paths.size);
    }
  }

  /** A closed or expired session's ephemerals go, each with its watches. */
  private killSession(sessionId: bigint, zxid: bigint, paths: readonly string[]): void {
    this.ephemerals.delete(sessionId);
    for (const path of paths) {
      try {
        this.deleteNode(path, zxid);
      } catch (error) {
        if (!(error instanceof ApplyError)) throw error;
      }
    }
  }
}

/**
 * The nodes from the root down to the last one a snapshot loader added. Snapshots list nodes in
 * pre-order, so a node's parent is among them: found by comparing paths, not by walking the
 * parent's path down from the root.
 */
class Ancestors {
  private readonly paths: string[] = [];
  private readonly nodes: DataNode[] = [];
  private readonly lookUp: (path: string) => DataNode | undefined;

  constructor(lookUp: (path: string) => DataNode | undefined) {
    this.lookUp = lookUp;
  }

  push(path: string, node: DataNode): void {
    this.paths.push(path);
    this.nodes.push(node);
  }

  /** The parent of `path`, whose last "/" is at `slash`, or undefined if there is none. */
  parentOf(path: string, slash: number): DataNode | undefined {
    const { paths, nodes } = this;
    while (paths.length > 0) {
      const top = paths[paths.length - 1] as string;
      if (slash === 0 ? top === "/" : top.length === slash && path.startsWith(top)) {
        return nodes[nodes.length - 1];
      }
      paths.pop();
      nodes.pop();
    }
    // Not in pre-order (still a valid snapshot if the parent came before): look it up.
    const parentPath = slash === 0 ? "/" : path.slice(0, slash);
    const parent = this.lookUp(parentPath);
    if (parent !== undefined) this.push(parentPath, parent);
    return parent;
  }
}

/** DigestCalculator's layout of the Stat fields it covers: 6 longs and 3 ints. */
const digestStat = Buffer.alloc(60);

/**
 * ZooKeeper's per-node digest (DigestCalculator, version 2): CRC-32 of the path ("" for the
 * root), the data, then czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion and
 * ephemeralOwner big-endian. Nodes under /zookeeper/ count 0, as there.
 */
export function nodeDigest(
  path: string,
  node: { data: Buffer | null; stat: StatPersisted },
): number {
  if (path.startsWith("/zookeeper/")) return 0;
  const s = node.stat;
  const b = digestStat;
  writeLongAt(b, 0, s.czxid);
  writeLongAt(b, 8, s.mzxid);
  writeLongAt(b, 16, s.pzxid);
  writeLongAt(b, 24, s.ctime);
  writeLongAt(b, 32, s.mtime);
  b.writeInt32BE(s.version, 40);
  b.writeInt32BE(s.cversion, 44);
  b.writeInt32BE(s.aversion, 48);
  writeLongAt(b, 52, s.ephemeralOwner);
  let crc = path === "/" ? 0 : crc32Utf8(path);
  if (node.data !== null) crc = crc32(node.data, crc);
  return crc32(b, crc);
}

/**
 * nodeDigest from a node's bytes in a snapshot file, which hold what it covers: the path's
 * UTF-8 bytes ("" for the root), and the StatPersisted's fields, which the digest takes in
 * another order: czxid mzxid (file bytes 0-16), pzxid (52-60), then ctime through
 * ephemeralOwner (16-52).
 */
function digestOf(path: string, data: Buffer | null, where: SnapshotNodeBytes): number {
  if (path.startsWith("/zookeeper/")) return 0;
  const { bytes, stat } = where;
  let crc = crc32Range(bytes, where.path, where.pathEnd);
  if (data !== null) crc = crc32(data, crc);
  crc = crc32Range(bytes, stat, stat + 16, crc);
  crc = crc32Range(bytes, stat + 52, stat + 60, crc);
  return crc32Range(bytes, stat + 16, stat + 52, crc);
}

function sameAcl(a: readonly ACL[], b: readonly ACL[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as ACL;
    const y = b[i] as ACL;
    if (x.perms !== y.perms || x.id.scheme !== y.id.scheme || x.id.id !== y.id.id) return false;
  }
  return true;
}

export function childPath(parent: string, child: string): string {
  return parent === "/" ? `/${child}` : `${parent}/${child}`;
}
