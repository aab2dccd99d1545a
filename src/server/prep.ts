/**
 * Prep (ZooKeeper's PrepRequestProcessor): checks a write against the tree as it will be once
 * every earlier write is applied — path, ACL, version, existence — and turns it into a Txn, or
 * throws the KeeperError the client gets. The checks run in ZooKeeper's order, because the
 * order decides which error a request with several problems gets.
 *
 * Earlier writes not yet applied (and earlier ops of the same multi) are seen through
 * ChangeRecords, as ZooKeeper's outstandingChanges.
 */
import type { ACL, Id } from "../jute/records.js";
import { CreateMode, Perms } from "../protocol/constants.js";
import { ErrorCode } from "../protocol/errors.js";
import type { MultiOp } from "../protocol/multi.js";
import { OpCode } from "../protocol/opcodes.js";
import { checkACL, fixupACL, KeeperError } from "./auth.js";
import { type DataTree, SPECIAL_PATHS, type StatPersisted } from "./data-tree.js";
import { isValidServerPath } from "./server-paths.js";
import {
  CONTAINER_EPHEMERAL_OWNER,
  ephemeralKind,
  MAX_TTL,
  type Txn,
  ttlEphemeralOwner,
} from "./txn.js";

/** A node as prep sees it: the tree's, or the latest outstanding change to it. */
export interface ChangeRecord {
  readonly zxid: bigint;
  readonly path: string;
  /** null: deleted by an outstanding txn. */
  readonly stat: StatPersisted | null;
  childCount: number;
  readonly acl: readonly ACL[];
  /** Its data, where prep needs it (quota checks); undefined when not tracked. */
  readonly data?: Buffer | null | undefined;
}

/**
 * Outstanding changes: by path for lookups, and in zxid order (ZooKeeper's outstandingChanges
 * deque) so that applying a txn drops its records in O(1) and closeSession can replay them.
 */
export class ChangeRecords {
  private readonly byPath = new Map<string, ChangeRecord>();
  /** Every record added and not yet applied, oldest first (from `head` on). */
  private readonly inOrder: ChangeRecord[] = [];
  private head = 0;
  private readonly undo: { path: string; previous: ChangeRecord | undefined }[] = [];
  private readonly tree: DataTree;

  constructor(tree: DataTree) {
    this.tree = tree;
  }

  /** getRecordForPath: the node as it will be, or NONODE. */
  get(path: string): ChangeRecord {
    const record = this.byPath.get(path) ?? this.fromTree(path);
    if (record === undefined || record.stat === null) throw new KeeperError(ErrorCode.NONODE);
    return record;
  }

  exists(path: string): boolean {
    const record = this.byPath.get(path) ?? this.fromTree(path);
    return record !== undefined && record.stat !== null;
  }

  private fromTree(path: string): ChangeRecord | undefined {
    const node = this.tree.getNode(path);
    if (node === undefined) return undefined;
    return {
      zxid: -1n,
      path,
      stat: { ...node.stat },
      childCount: node.children.size,
      acl: node.acl,
      data: node.data,
    };
  }

  add(record: ChangeRecord): void {
    this.undo.push({ path: record.path, previous: this.byPath.get(record.path) });
    this.byPath.set(record.path, record);
    this.inOrder.push(record);
  }

  /** A point to roll back to if the ops added after it must not happen (a failed multi). */
  mark(): number {
    return this.undo.length;
  }

  rollback(mark: number): void {
    while (this.undo.length > mark) {
      const { path, previous } = this.undo.pop() as {
        path: string;
        previous: ChangeRecord | undefined;
      };
      this.inOrder.pop();
      if (previous === undefined) this.byPath.delete(path);
      else this.byPath.set(path, previous);
    }
  }

  /**
   * The ephemerals a closing session will have once every outstanding txn is applied: the
   * tree's, less the outstanding deletes, plus the outstanding creates it owns (as ZooKeeper's
   * PrepRequestProcessor computes closeSession's paths).
   */
  ephemeralsOf(sessionId: bigint): string[] {
    const paths = new Set(this.tree.ephemeralsOf(sessionId));
    for (let i = this.head; i < this.inOrder.length; i++) {
      const record = this.inOrder[i] as ChangeRecord;
      if (record.stat === null) paths.delete(record.path);
      else if (record.stat.ephemeralOwner === sessionId) paths.add(record.path);
    }
    return [...paths];
  }

  /** Drops the records of txns up to `zxid`, now in the tree. Never called inside a prep. */
  applied(zxid: bigint): void {
    const order = this.inOrder;
    while (this.head < order.length && (order[this.head] as ChangeRecord).zxid <= zxid) {
      const record = order[this.head++] as ChangeRecord;
      if (this.byPath.get(record.path) === record) this.byPath.delete(record.path);
    }
    if (this.head === order.length) {
      order.length = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > order.length) {
      order.splice(0, this.head);
      this.head = 0;
    }
    // Marks live only while one request is prepped; none is now.
    this.undo.length = 0;
  }

  /** Outstanding records (for tests and four-letter words). */
  get size(): number {
    return this.byPath.size;
  }
}

/** DeleteContainer (ContainerManager's request): the container must still be empty. */
export function prepDeleteContainer(ctx: PrepContext, path: string): Txn {
  const parentPath = parentPathOf(path);
  const node = ctx.records.get(path);
  if (node.childCount > 0) throw new KeeperError(ErrorCode.NOTEMPTY);
  if (ephemeralKind((node.stat as StatPersisted).ephemeralOwner) === "normal") {
    throw new KeeperError(ErrorCode.BADVERSION);
  }
  const parent = ctx.records.get(parentPath);
  ctx.records.add({
    zxid: ctx.zxid,
    path: parentPath,
    stat: { ...(parent.stat as StatPersisted), pzxid: ctx.zxid },
    childCount: parent.childCount - 1,
    acl: parent.acl,
    data: parent.data,
  });
  ctx.records.add({ zxid: ctx.zxid, path, stat: null, childCount: 0, acl: [] });
  return { type: OpCode.deleteContainer, path };
}

/** closeSession: marks its ephemerals deleted for the requests prepped after it. */
export function prepCloseSession(ctx: PrepContext): Txn {
  const paths = ctx.records.ephemeralsOf(ctx.sessionId);
  for (const path of paths) {
    ctx.records.add({ zxid: ctx.zxid, path, stat: null, childCount: 0, acl: [] });
  }
  return { type: OpCode.closeSession, paths2Delete: paths };
}

export interface PrepContext {
  readonly records: ChangeRecords;
  readonly zxid: bigint;
  readonly time: bigint;
  readonly sessionId: bigint;
  readonly authIds: readonly Id[];
  readonly extendedTypesEnabled: boolean;
  readonly reconfigEnabled: boolean;
  /** Whether x509 ids are valid in an ACL: the server serves TLS (fixupACL). */
  readonly x509Enabled?: boolean;
  /** The sasl scheme's provider is configured: sasl ids are valid in ACLs. */
  readonly saslScheme?: boolean;
  /** zookeeper.letAnySaslUserDoX: a sasl ACL naming it admits every sasl id (checkACL). */
  readonly anySaslUser?: string;
  /**
   * ZooKeeperServer.checkQuota for a create (countDiff 1) or setData (0): throws QuotaExceeded
   * for a hard limit it enforces. Absent: no quotas.
   */
  readonly checkQuota?: (
    path: string,
    lastData: Buffer | null,
    data: Buffer | null,
    countDiff: 0 | 1,
  ) => void;
}

/** A request ZooKeeper cannot turn into a txn at all: MARSHALLINGERROR, not a KeeperError. */
export class MarshallingFailure extends Error {
  override readonly name = "MarshallingFailure";
}

function badArguments(): never {
  throw new KeeperError(ErrorCode.BADARGUMENTS);
}

function validatePath(path: string): void {
  if (!isValidServerPath(path)) badArguments();
}

/** The parent of `path` as ZooKeeper takes it: everything before the last slash ("" is the root). */
function parentPathOf(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash === -1 || path.includes("\0")) badArguments();
  return slash === 0 ? "/" : path.slice(0, slash);
}

/** checkAndIncVersion: -1 matches any version; the next version wraps like a Java int. */
function nextVersion(current: number, expected: number): number {
  if (expected !== -1 && expected !== current) throw new KeeperError(ErrorCode.BADVERSION);
  return (current + 1) | 0;
}

/** Java's String.format("%010d", n). */
function sequenceSuffix(n: number): string {
  return n < 0 ? `-${String(-n).padStart(9, "0")}` : String(n).padStart(10, "0");
}

interface CreateFields {
  readonly path: string;
  readonly data: Buffer | null;
  readonly acl: readonly ACL[];
  readonly flags: number;
  readonly ttl?: bigint;
}

const MODES: ReadonlySet<number> = new Set(Object.values(CreateMode));

export function prepCreate(ctx: PrepContext, opcode: number, request: CreateFields): Txn {
  const mode = request.flags;
  if (!MODES.has(mode)) badArguments();
  const ttlMode =
    mode === CreateMode.PERSISTENT_WITH_TTL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
  const ttl = request.ttl ?? -1n;
  if (ttlMode && !ctx.extendedTypesEnabled) throw new KeeperError(ErrorCode.UNIMPLEMENTED);
  if (ttlMode ? ttl <= 0n || ttl > MAX_TTL : ttl >= 0n) badArguments();
  const parentPath = parentPathOf(request.path);
  const acl = fixupACL(request.acl, ctx.authIds, {
    x509: ctx.x509Enabled === true,
    sasl: ctx.saslScheme === true,
  });
  const parent = ctx.records.get(parentPath);
  checkACL(parent.acl, Perms.CREATE, ctx.authIds, ctx.anySaslUser);
  const parentStat = parent.stat as StatPersisted;
  const sequential =
    mode === CreateMode.PERSISTENT_SEQUENTIAL ||
    mode === CreateMode.EPHEMERAL_SEQUENTIAL ||
    mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
  const path = sequential ? request.path + sequenceSuffix(parentStat.cversion) : request.path;
  validatePath(path);
  if (ctx.records.exists(path)) throw new KeeperError(ErrorCode.NODEEXISTS);
  if (ephemeralKind(parentStat.ephemeralOwner) === "normal") {
    throw new KeeperError(ErrorCode.NOCHILDRENFOREPHEMERALS);
  }
  const parentCVersion = parentStat.cversion + 1;
  ctx.checkQuota?.(path, null, request.data, 1);
  const ephemeral = mode === CreateMode.EPHEMERAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL;
  const owner =
    mode === CreateMode.CONTAINER
      ? CONTAINER_EPHEMERAL_OWNER
      : ttlMode
        ? ttlEphemeralOwner(ttl)
        : ephemeral
          ? ctx.sessionId
          : 0n;
  const { zxid, time } = ctx;
  ctx.records.add({
    zxid,
    path: parentPath,
    stat: { ...parentStat, cversion: parentCVersion, pzxid: zxid },
    childCount: parent.childCount + 1,
    acl: parent.acl,
    data: parent.data,
  });
  ctx.records.add({
    zxid,
    path,
    stat: {
      czxid: zxid,
      mzxid: zxid,
      ctime: time,
      mtime: time,
      version: 0,
      cversion: 0,
      aversion: 0,
      ephemeralOwner: owner,
      pzxid: zxid,
    },
    childCount: 0,
    acl,
    data: request.data,
  });
  const fields = { path, data: request.data, acl, parentCVersion };
  if (opcode === OpCode.createContainer) return { type: OpCode.createContainer, ...fields };
  if (opcode === OpCode.createTTL) return { type: OpCode.createTTL, ...fields, ttl };
  return { type: opcode === OpCode.create2 ? OpCode.create2 : OpCode.create, ...fields, ephemeral };
}

export function prepDelete(ctx: PrepContext, request: { path: string; version: number }): Txn {
  const { path } = request;
  const parentPath = parentPathOf(path);
  if (SPECIAL_PATHS.has(path)) badArguments();
  const parent = ctx.records.get(parentPath);
  checkACL(parent.acl, Perms.DELETE, ctx.authIds, ctx.anySaslUser);
  const node = ctx.records.get(path);
  nextVersion((node.stat as StatPersisted).version, request.version);
  if (node.childCount > 0) throw new KeeperError(ErrorCode.NOTEMPTY);
  ctx.records.add({
    zxid: ctx.zxid,
    path: parentPath,
    stat: { ...(parent.stat as StatPersisted), pzxid: ctx.zxid },
    childCount: parent.childCount - 1,
    acl: parent.acl,
    data: parent.data,
  });
  ctx.records.add({ zxid: ctx.zxid, path, stat: null, childCount: 0, acl: [] });
  return { type: OpCode.delete, path };
}

export function prepSetData(
  ctx: PrepContext,
  request: { path: string; data: Buffer | null; version: number },
): Txn {
  const { path } = request;
  validatePath(path);
  const node = ctx.records.get(path);
  checkACL(node.acl, Perms.WRITE, ctx.authIds, ctx.anySaslUser);
  ctx.checkQuota?.(path, node.data ?? null, request.data, 0);
  const stat = node.stat as StatPersisted;
  const version = nextVersion(stat.version, request.version);
  ctx.records.add({
    zxid: ctx.zxid,
    path,
    stat: { ...stat, version, mtime: ctx.time, mzxid: ctx.zxid },
    childCount: node.childCount,
    acl: node.acl,
    data: request.data,
  });
  return { type: OpCode.setData, path, data: request.data, version };
}

export function prepSetACL(
  ctx: PrepContext,
  request: { path: string; acl: readonly ACL[]; version: number },
): Txn {
  const { path } = request;
  validatePath(path);
  const acl = fixupACL(request.acl, ctx.authIds, {
    x509: ctx.x509Enabled === true,
    sasl: ctx.saslScheme === true,
  });
  const node = ctx.records.get(path);
  checkACL(node.acl, Perms.ADMIN, ctx.authIds, ctx.anySaslUser);
  const stat = node.stat as StatPersisted;
  const version = nextVersion(stat.aversion, request.version);
  ctx.records.add({
    zxid: ctx.zxid,
    path,
    stat: { ...stat, aversion: version },
    childCount: node.childCount,
    acl,
    data: node.data,
  });
  return { type: OpCode.setACL, path, acl, version };
}

export function prepCheck(ctx: PrepContext, request: { path: string; version: number }): Txn {
  const { path } = request;
  validatePath(path);
  const node = ctx.records.get(path);
  checkACL(node.acl, Perms.READ, ctx.authIds, ctx.anySaslUser);
  return {
    type: OpCode.check,
    path,
    version: nextVersion((node.stat as StatPersisted).version, request.version),
  };
}

export function prepReconfig(ctx: PrepContext): Txn {
  // A standalone server cannot reconfigure; ZooKeeper says so in this order.
  if (!ctx.reconfigEnabled) throw new KeeperError(ErrorCode.RECONFIGDISABLED);
  throw new KeeperError(ErrorCode.UNIMPLEMENTED);
}

/**
 * A multi: every op shares one zxid; ops see the earlier ops' changes. The first failing op
 * becomes an error txn, the later ones RUNTIMEINCONSISTENCY, and the changes of the ops before
 * it are rolled back (DataTree then applies none of them).
 */
export function prepMulti(
  ctx: PrepContext,
  ops: readonly MultiOp[],
): { txn: Txn; failure: number } {
  const mark = ctx.records.mark();
  const txns: Txn[] = [];
  let failure = 0;
  for (const op of ops) {
    if (failure !== 0) {
      txns.push({ type: OpCode.error, err: ErrorCode.RUNTIMEINCONSISTENCY });
      continue;
    }
    try {
      txns.push(prepOp(ctx, op));
    } catch (error) {
      if (!(error instanceof KeeperError)) {
        ctx.records.rollback(mark);
        throw error;
      }
      failure = error.code;
      txns.push({ type: OpCode.error, err: error.code });
      ctx.records.rollback(mark);
    }
  }
  return { txn: { type: OpCode.multi, txns }, failure };
}

function prepOp(ctx: PrepContext, op: MultiOp): Txn {
  switch (op.type) {
    case OpCode.create:
    case OpCode.create2: {
      // Apache ZooKeeper 3.8 answers a create2 inside a multi as a plain create (no Stat).
      const txn = prepCreate(ctx, OpCode.create, op);
      return txn;
    }
    case OpCode.createContainer:
    case OpCode.createTTL:
      return prepCreate(ctx, op.type, op);
    case OpCode.delete:
      return prepDelete(ctx, op);
    case OpCode.setData:
      return prepSetData(ctx, op);
    case OpCode.check:
      return prepCheck(ctx, op);
    default:
      // A read inside a multi: ZooKeeper cannot make a txn of it and fails the whole request.
      throw new MarshallingFailure(`opcode ${op.type} in a multi`);
  }
}
