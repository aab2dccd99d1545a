/**
 * What every lock recipe shares (Curator's LockInternals and StandardLockInternalsDriver): the
 * pure decision "do I hold it, and if not, whom do I watch", the sort by sequence number, and the
 * acquire loop over ZooKeeper's public API.
 *
 * The loop follows ZooKeeper's recipes page: create an EPHEMERAL_SEQUENTIAL node, list the
 * children, and either hold the lock or watch only the node just ahead (no herd effect: a
 * release wakes one waiter). The node's name is protected as in Curator's `withProtection()`:
 * `_c_<uuid>-<lockName><sequence>`. A create whose reply is lost to a dropped connection may
 * still have happened; the uuid lets the loop find that node again instead of creating a second
 * one that nobody would ever delete while the session lives.
 */
import { randomUUID } from "node:crypto";
import { ConnectionLossError, CreateMode, NoNodeError, type ZooKeeper } from "../index.js";

/** Curator's protected-name prefix (ProtectedUtils.PROTECTED_PREFIX). */
export const PROTECTED_PREFIX = "_c_";

/** The outcome of one look at the children: hold it, or wait for `watch` (a sibling's name). */
export type Decision =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly watch: string };

/** How a recipe decides, given the children sorted by sequence number. */
export type Decide = (sortedChildren: readonly string[], ourNode: string) => Decision;

/** Raised when our own lock node is not among the children (deleted by someone else). */
export class LockNodeGoneError extends Error {
  constructor(node: string) {
    super(`lock node ${node} is gone`);
    this.name = "LockNodeGoneError";
  }
}

/** release() of a lock this object does not hold (Curator's IllegalMonitorStateException). */
export class LockNotHeldError extends Error {
  constructor(path: string) {
    super(`lock ${path} is not held`);
    this.name = "LockNotHeldError";
  }
}

/**
 * Curator's driver: the first `maxLeases` nodes hold; any other node watches the one
 * `maxLeases` places ahead of it, so each release wakes exactly one waiter.
 * Throws LockNodeGoneError when `ourNode` is not in `sortedChildren`.
 */
export function decide(
  sortedChildren: readonly string[],
  ourNode: string,
  maxLeases: number,
): Decision {
  const ourIndex = sortedChildren.indexOf(ourNode);
  if (ourIndex < 0) throw new LockNodeGoneError(ourNode);
  if (ourIndex < maxLeases) return { acquired: true };
  return { acquired: false, watch: sortedChildren[ourIndex - maxLeases]! };
}

/**
 * The sequence number of a child named `...<lockName><10 digits>`, or undefined when the name
 * has no lockName (another recipe's node) or no sequence suffix. The protected prefix, which
 * holds a random uuid, is ignored: only what follows lockName orders the queue.
 */
export function sequenceOf(child: string, lockName: string): number | undefined {
  const at = child.lastIndexOf(lockName);
  if (at < 0) return undefined;
  const suffix = child.slice(at + lockName.length);
  if (!/^-?\d+$/.test(suffix)) return undefined;
  return Number(suffix);
}

/** The children that carry one of `lockNames`, sorted by sequence number (uuid ignored). */
export function sortChildren(children: readonly string[], lockNames: readonly string[]): string[] {
  const keyed: { child: string; sequence: number }[] = [];
  for (const child of children) {
    for (const lockName of lockNames) {
      const sequence = sequenceOf(child, lockName);
      if (sequence === undefined) continue;
      keyed.push({ child, sequence });
      break;
    }
  }
  keyed.sort((a, b) => a.sequence - b.sequence);
  return keyed.map((k) => k.child);
}

export interface AcquireOptions {
  /** Abort the acquire: it rejects with the signal's reason and leaves no node behind. */
  readonly signal?: AbortSignal;
  /** Give up after this long: the acquire reports a timeout (false/null) and leaves no node. */
  readonly timeoutMs?: number;
}

export interface AcquireRequest extends AcquireOptions {
  /** The lock's znode (created, with its parents, if missing). */
  readonly dir: string;
  /** The name part of our node: `_c_<uuid>-<lockName><sequence>`. */
  readonly lockName: string;
  /** Every lock name the decision orders (a read-write lock orders readers and writers). */
  readonly lockNames: readonly string[];
  readonly decide: Decide;
  readonly data?: Uint8Array | string;
}

/**
 * Creates our node and waits until `decide` says we hold the lock. Resolves with our node's full
 * path, or null on timeout; rejects with the signal's reason on abort, or with the client's error
 * (SessionExpiredError, ClosedError, ...). On every outcome but success our node is deleted.
 */
export async function acquireNode(zk: ZooKeeper, request: AcquireRequest): Promise<string | null> {
  request.signal?.throwIfAborted();
  const timeout =
    request.timeoutMs === undefined
      ? undefined
      : AbortSignal.timeout(Math.max(0, Math.ceil(request.timeoutMs)));
  const signals = [request.signal, timeout].filter((s) => s !== undefined);
  const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
  const uuid = randomUUID();
  const created = createProtected(zk, request.dir, request.lockName, request.data ?? "", uuid);
  try {
    const ourPath = await raceAbort(created, signal);
    await waitUntilHeld(zk, request, ourPath, signal);
    return ourPath;
  } catch (error) {
    // Whatever happened, our node must not stay behind to block the others: delete it once the
    // create has settled (an abort may have come while the create was still on the wire).
    // Connected, the caller sees the node gone when this returns; disconnected, the cleanup
    // goes on in the background rather than hold an abort until a server answers.
    const removal = removeOurNode(zk, request.dir, uuid, created);
    if (zk.state === "connected") await removal;
    if (request.signal?.aborted) throw request.signal.reason;
    if (timeout?.aborted) return null;
    throw error;
  }
}

async function waitUntilHeld(
  zk: ZooKeeper,
  request: AcquireRequest,
  ourPath: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const ourNode = ourPath.slice(request.dir.length + 1);
  const callOptions = signal === undefined ? {} : { signal };
  for (;;) {
    let children: string[];
    try {
      children = await zk.getChildren(request.dir, callOptions);
    } catch (error) {
      // The call waits for the next server on its own; a lost reply is simply asked again.
      if (error instanceof ConnectionLossError) continue;
      throw error;
    }
    const decision = request.decide(sortChildren(children, request.lockNames), ourNode);
    if (decision.acquired) return;
    // getData, not exists: a watch left on a node that is already gone would never fire.
    let watch: Promise<unknown>;
    try {
      ({ watch } = await zk.getData(`${request.dir}/${decision.watch}`, {
        ...callOptions,
        watch: true,
      }));
    } catch (error) {
      if (error instanceof NoNodeError || error instanceof ConnectionLossError) continue;
      throw error;
    }
    // A session that ends fires every watch (type None), so this wait never outlives it.
    await raceAbort(watch, signal);
  }
}

/**
 * Creates the EPHEMERAL_SEQUENTIAL node `<dir>/_c_<uuid>-<name>` (and `dir` if missing); after
 * a reply lost to connection loss, finds the node by its uuid instead of creating a second one.
 */
export async function createProtected(
  zk: ZooKeeper,
  dir: string,
  name: string,
  data: Uint8Array | string,
  uuid: string = randomUUID(),
): Promise<string> {
  const prefix = `${PROTECTED_PREFIX}${uuid}-`;
  let lostReply = false;
  for (;;) {
    try {
      if (lostReply) {
        const found = await findByPrefix(zk, dir, prefix);
        if (found !== undefined) return found;
      }
      return await zk.create(`${dir}/${prefix}${name}`, data, {
        mode: CreateMode.EPHEMERAL_SEQUENTIAL,
      });
    } catch (error) {
      if (error instanceof ConnectionLossError) lostReply = true;
      else if (error instanceof NoNodeError) await ensurePath(zk, dir);
      else throw error;
    }
  }
}

export async function findByPrefix(
  zk: ZooKeeper,
  dir: string,
  prefix: string,
): Promise<string | undefined> {
  const children = await zk.getChildren(dir);
  const ours = children.find((child) => child.startsWith(prefix));
  return ours === undefined ? undefined : `${dir}/${ours}`;
}

/** Creates `path` and its missing ancestors as persistent nodes (racing creators are fine). */
export async function ensurePath(zk: ZooKeeper, path: string): Promise<void> {
  let prefix = "";
  for (const part of path.split("/").slice(1)) {
    prefix += `/${part}`;
    if ((await zk.exists(prefix)) !== null) continue;
    try {
      await zk.create(prefix);
    } catch (error) {
      if (!(error instanceof Error && error.name === "NodeExistsError")) throw error;
    }
  }
}

/** Bounded: each attempt waits for a server on its own, and a session's end stops it. */
const REMOVE_ATTEMPTS = 10;

/**
 * Deletes our node once the create has settled: by its path if known, else by the uuid prefix
 * (the create's reply may have been lost). Best effort: if the session is gone, so is the node.
 */
async function removeOurNode(
  zk: ZooKeeper,
  dir: string,
  uuid: string,
  created: Promise<string>,
): Promise<void> {
  let path = await created.catch(() => undefined);
  for (let attempt = 0; attempt < REMOVE_ATTEMPTS; attempt++) {
    try {
      path ??= await findByPrefix(zk, dir, `${PROTECTED_PREFIX}${uuid}-`);
      if (path !== undefined) await zk.delete(path);
      return;
    } catch (error) {
      if (error instanceof NoNodeError) return;
      if (!(error instanceof ConnectionLossError)) return;
    }
  }
}

/** Deletes a held node, riding out connection loss; a session's end deletes it anyway. */
export async function deleteHeldNode(zk: ZooKeeper, path: string): Promise<void> {
  for (let attempt = 0; attempt < REMOVE_ATTEMPTS; attempt++) {
    try {
      await zk.delete(path);
      return;
    } catch (error) {
      if (error instanceof ConnectionLossError) continue;
      if (error instanceof NoNodeError) return;
      if (error instanceof Error && /Expired|Closed/.test(error.name)) return;
      throw error;
    }
  }
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** The sorted participants of a lock: full paths, the holder(s) first. */
export async function participants(
  zk: ZooKeeper,
  dir: string,
  lockNames: readonly string[],
): Promise<string[]> {
  let children: string[];
  try {
    children = await zk.getChildren(dir);
  } catch (error) {
    if (error instanceof NoNodeError) return [];
    throw error;
  }
  return sortChildren(children, lockNames).map((child) => `${dir}/${child}`);
}
