/**
 * The server side of watches, as ZooKeeper's WatchManager (3.6+) keeps them: one table of
 * watchers by path, each registration with a mode — standard (one-shot), persistent, or
 * persistent-recursive. The data tree owns two of these (data and child watches) and triggers
 * them as it applies txns; a watcher is a client connection.
 */
import type { ACL } from "../jute/records.js";
import type { EventType } from "../protocol/constants.js";

/** Whoever gets notified: a connection. */
export interface Watcher {
  /**
   * Delivers one notification; must not re-enter the data tree. With `acl` (the changed
   * node's), a watcher that may not READ the node is not told (ZooKeeper 3.8 filters so).
   */
  process(type: EventType, path: string, acl?: readonly ACL[]): void;
}

export type WatcherMode = "standard" | "persistent" | "persistentRecursive";

/** trigger's answer when no watch is set anywhere. Never added to. */
const NOBODY: ReadonlySet<Watcher> = new Set();

export class WatchManager {
  private readonly table = new Map<string, Map<Watcher, WatcherMode>>();
  private readonly byWatcher = new Map<Watcher, Set<string>>();
  private recursiveCount = 0;

  /** Adds (or replaces the mode of) a watch; ZooKeeper lets the latest registration's mode win. */
  add(path: string, watcher: Watcher, mode: WatcherMode = "standard"): void {
    let watchers = this.table.get(path);
    if (watchers === undefined) {
      watchers = new Map();
      this.table.set(path, watchers);
    }
    const previous = watchers.get(watcher);
    if (previous === "persistentRecursive") this.recursiveCount--;
    if (mode === "persistentRecursive") this.recursiveCount++;
    watchers.set(watcher, mode);
    let paths = this.byWatcher.get(watcher);
    if (paths === undefined) {
      paths = new Set();
      this.byWatcher.set(watcher, paths);
    }
    paths.add(path);
  }

  /**
   * Fires `type` at `path`: standard and persistent watches on the path itself, and
   * persistent-recursive ones on it or any ancestor (never for NodeChildrenChanged). Standard
   * watches are used up (even where the ACL then keeps the event from a watcher). Watchers in
   * `suppress` (already told, e.g. of the same NodeDeleted by
   * the other table) are skipped. Returns everyone it reached.
   */
  trigger(
    path: string,
    type: EventType,
    acl?: readonly ACL[],
    suppress?: ReadonlySet<Watcher>,
  ): ReadonlySet<Watcher> {
    // Most changes meet no watch at all: skip the set (two per create).
    if (this.table.size === 0) return NOBODY;
    const reached = new Set<Watcher>();
    this.collect(path, false, type, reached);
    if (this.recursiveCount > 0) {
      for (let p = parentOf(path); p !== null; p = parentOf(p))
        this.collect(p, true, type, reached);
    }
    for (const watcher of reached) if (!suppress?.has(watcher)) watcher.process(type, path, acl);
    return reached;
  }

  private collect(path: string, ancestor: boolean, type: EventType, into: Set<Watcher>): void {
    const watchers = this.table.get(path);
    if (watchers === undefined) return;
    for (const [watcher, mode] of watchers) {
      if (mode === "persistentRecursive") {
        if (type !== "NodeChildrenChanged") into.add(watcher);
      } else if (!ancestor) {
        into.add(watcher);
        if (mode === "standard") this.forget(path, watcher, watchers);
      }
    }
    if (watchers.size === 0) this.table.delete(path);
  }

  private forget(path: string, watcher: Watcher, watchers: Map<Watcher, WatcherMode>): void {
    if (watchers.get(watcher) === "persistentRecursive") this.recursiveCount--;
    watchers.delete(watcher);
    const paths = this.byWatcher.get(watcher);
    paths?.delete(path);
    if (paths?.size === 0) this.byWatcher.delete(watcher);
  }

  /** removeWatches: drops `watcher`'s watch on `path`, whatever its mode. */
  remove(path: string, watcher: Watcher): boolean {
    const watchers = this.table.get(path);
    if (watchers === undefined || !watchers.has(watcher)) return false;
    this.forget(path, watcher, watchers);
    if (watchers.size === 0) this.table.delete(path);
    return true;
  }

  contains(path: string, watcher: Watcher): boolean {
    return this.table.get(path)?.has(watcher) ?? false;
  }

  /** A connection closed: all its watches go. */
  removeWatcher(watcher: Watcher): void {
    for (const path of this.byWatcher.get(watcher) ?? []) {
      const watchers = this.table.get(path);
      if (watchers === undefined) continue;
      if (watchers.get(watcher) === "persistentRecursive") this.recursiveCount--;
      watchers.delete(watcher);
      if (watchers.size === 0) this.table.delete(path);
    }
    this.byWatcher.delete(watcher);
  }

  /** Number of (path, watcher) registrations. */
  get size(): number {
    let n = 0;
    for (const watchers of this.table.values()) n += watchers.size;
    return n;
  }

  /** Paths with watches, each with its watchers (wchp, dump). */
  byPath(): ReadonlyMap<string, ReadonlyMap<Watcher, WatcherMode>> {
    return this.table;
  }

  /** Watchers with the paths they watch (wchc). */
  pathsOf(watcher: Watcher): ReadonlySet<string> {
    return this.byWatcher.get(watcher) ?? new Set();
  }

  get watcherCount(): number {
    return this.byWatcher.size;
  }
}

/** The parent of a znode path, or null for the root. */
export function parentOf(path: string): string | null {
  if (path === "/") return null;
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.slice(0, slash);
}
