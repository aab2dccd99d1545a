/** zkts recipes: coordination built on the client's public API only (the "./recipes" export). */

export {
  type AtomicLongOptions,
  type AtomicValue,
  DistributedAtomicLong,
  decodeLong,
  encodeLong,
} from "./atomic-long.js";
export { Barrier, type WaitOptions } from "./barrier.js";
export { DoubleBarrier, READY_NODE } from "./double-barrier.js";
export { GroupMember, MemberIdTakenError, ServiceDiscovery } from "./group-member.js";
export {
  type ElectedOptions,
  type ElectionEvent,
  type Leader,
  LeaderElection,
  type LeaderElectionOptions,
  LeadershipLostError,
  type NotLeaderReason,
  type RunAsLeaderOptions,
  runAsLeader,
} from "./leader-election.js";
export {
  type AcquireOptions,
  type Decision,
  decide,
  LockNodeGoneError,
  LockNotHeldError,
  PROTECTED_PREFIX,
  sortChildren,
} from "./lock-internals.js";
export { type Lock, MultiLock } from "./multi-lock.js";
export {
  InterProcessLock,
  type LockLostEvent,
  type LockLostListener,
  Mutex,
  type MutexOptions,
} from "./mutex.js";
export { NodeCache, type NodeSnapshot, snapshotChanged } from "./node-cache.js";
export {
  NodeOwnedElsewhereError,
  PersistentNode,
  type PersistentNodeOptions,
} from "./persistent-node.js";
export { PersistentTtlNode, type PersistentTtlNodeOptions } from "./persistent-ttl-node.js";
export {
  BaseQueue,
  DistributedDelayQueue,
  DistributedPriorityQueue,
  DistributedQueue,
  priorityKey,
  QUEUE_ITEM_NAME,
} from "./queue.js";
export {
  decideRead,
  READ_LOCK_NAME,
  ReadWriteLock,
  type ReadWriteLockOptions,
  WRITE_LOCK_NAME,
} from "./read-write-lock.js";
export {
  makeRevocable,
  REVOKE_DATA,
  RevocableLock,
  type RevocationListener,
  type RevocationRequest,
  requestRevoke,
} from "./revocable.js";
export { type Lease, Semaphore, type SemaphoreAcquireOptions } from "./semaphore.js";
export { followSession, type SessionHandlers } from "./session-follower.js";
export {
  type CounterListener,
  decodeCount,
  encodeCount,
  SharedCounter,
  type VersionedValue,
} from "./shared-counter.js";
export { TreeCache, type TreeCacheEvent, type TreeCacheOptions } from "./tree-cache.js";
export {
  type CoordinateOptions,
  type Outcome,
  TwoPhaseCommit,
  TwoPhaseParticipant,
  type Vote,
  type VoteOptions,
} from "./two-phase-commit.js";
