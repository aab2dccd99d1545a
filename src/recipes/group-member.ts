/**
 * Group membership (Curator's GroupMember) and service discovery on top of it: each member is an
 * EPHEMERAL node `<path>/<memberId>` holding its data, alive exactly as long as its session, and
 * every member keeps a live view of the whole group.
 *
 *     const member = new GroupMember(zk, "/groups/workers", "worker-1", "host-a:9000");
 *     await member.start();                      // registered, and the view loaded
 *     member.members();                          // Map { "worker-1" => <data>, ... }
 *     member.onChange((members) => console.log([...members.keys()]));
 *     await member.close();                      // deregistered
 *
 * The view is a TreeCache of the group node (ephemeral nodes have no children, so the tree is
 * the group node and its members): a persistent recursive watch where the server has one,
 * one-shot child and data watches otherwise, read again after a reconnect. The member's node
 * is a PersistentNode, so it comes back if someone deletes it, and on a client that renews an
 * expired session (renewExpiredSession) the member registers again on the new session. A
 * member whose session ends for good (closed, or expired after a crash) leaves every view when
 * the server deletes its node. ServiceDiscovery is the same with a JSON payload per instance.
 */
import type { ZooKeeper } from "../index.js";
import { ensurePath } from "./lock-internals.js";
import { NodeOwnedElsewhereError, PersistentNode } from "./persistent-node.js";
import { TreeCache } from "./tree-cache.js";

/** Raised when `memberId` is registered already by another session. */
export class MemberIdTakenError extends Error {
  constructor(path: string) {
    super(`group member ${path} is registered by another session`);
    this.name = "MemberIdTakenError";
  }
}

export class GroupMember {
  readonly path: string;
  readonly memberId: string;
  private readonly zk: ZooKeeper;
  private readonly node: PersistentNode;
  private readonly cache: TreeCache;
  private closed = false;

  constructor(zk: ZooKeeper, path: string, memberId: string, data: Uint8Array | string = "") {
    if (memberId === "" || memberId.includes("/")) {
      throw new RangeError(`a member id is one path segment, got "${memberId}"`);
    }
    this.zk = zk;
    this.path = path;
    this.memberId = memberId;
    this.node = new PersistentNode(zk, `${path}/${memberId}`, data);
    this.cache = new TreeCache(zk, path);
  }

  /** This member's node. */
  get memberPath(): string {
    return `${this.path}/${this.memberId}`;
  }

  /** Registers this member and loads the view; rejects with MemberIdTakenError if taken. */
  async start(): Promise<void> {
    await ensurePath(this.zk, this.path);
    try {
      await this.node.start();
    } catch (error) {
      if (error instanceof NodeOwnedElsewhereError) throw new MemberIdTakenError(this.memberPath);
      throw error;
    }
    await this.cache.start();
  }

  /** The group as last seen: member id → data. */
  members(): Map<string, Buffer> {
    const members = new Map<string, Buffer>();
    const prefix = `${this.path}/`;
    for (const [path, node] of this.cache.nodes) {
      if (path.startsWith(prefix)) members.set(path.slice(prefix.length), node.data);
    }
    return members;
  }

  /**
   * Calls `listener` with the whole group after each change (a member joined, left, or changed
   * its data); returns a function that stops it.
   */
  onChange(listener: (members: Map<string, Buffer>) => void): () => void {
    return this.cache.on((event) => {
      if (event.type !== "initialized" && event.path !== this.path) listener(this.members());
    });
  }

  /** Replaces this member's data (seen by every view). */
  async setData(data: Uint8Array | string): Promise<void> {
    await this.node.setData(data);
  }

  /** Deregisters (deletes the node) and stops the view. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.cache.close();
    await this.node.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Service discovery: a GroupMember whose data is a JSON instance description, and a view that
 * parses them. Instances whose data is not JSON are left out of instances().
 */
export class ServiceDiscovery<T> {
  private readonly member: GroupMember;

  constructor(zk: ZooKeeper, servicePath: string, instanceId: string, instance: T) {
    this.member = new GroupMember(zk, servicePath, instanceId, JSON.stringify(instance));
  }

  /** Registers this instance and loads the view. */
  start(): Promise<void> {
    return this.member.start();
  }

  /** Every registered instance: id → parsed description. */
  instances(): Map<string, T> {
    const instances = new Map<string, T>();
    for (const [id, data] of this.member.members()) {
      try {
        instances.set(id, JSON.parse(data.toString("utf8")) as T);
      } catch {
        // Not ours to interpret: another writer's node in the service's directory.
      }
    }
    return instances;
  }

  /** Calls `listener` with every instance after each change; returns a function that stops it. */
  onChange(listener: (instances: Map<string, T>) => void): () => void {
    return this.member.onChange(() => listener(this.instances()));
  }

  /** Replaces this instance's description. */
  update(instance: T): Promise<void> {
    return this.member.setData(JSON.stringify(instance));
  }

  /** Deregisters this instance and stops the view. */
  close(): Promise<void> {
    return this.member.close();
  }
}
