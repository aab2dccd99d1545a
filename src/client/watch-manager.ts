/**
 * The client side of watches, as ZooKeeper's ZKWatchManager keeps them: listeners by path, in five
 * tables. The server keeps one flag per (connection, path, kind); the client fans one
 * notification out to every listener it applies to. Paths here are the caller's (chroot removed).
 */
import type { EventType } from "../protocol/constants.js";
import type { WatchEvent, WatchListener } from "./types.js";

export type WatchKind = "data" | "exist" | "child" | "persistent" | "persistentRecursive";

type Table = Map<string, Set<WatchListener>>;

export class WatchManager {
  private readonly tables: Record<WatchKind, Table> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
    persistent: new Map(),
    persistentRecursive: new Map(),
  };

  add(kind: WatchKind, path: string, listener: WatchListener): void {
    const table = this.tables[kind];
    let listeners = table.get(path);
    if (listeners === undefined) {
      listeners = new Set();
      table.set(path, listeners);
    }
    listeners.add(listener);
  }

  has(kind: WatchKind, path: string, listener?: WatchListener): boolean {
    const listeners = this.tables[kind].get(path);
    if (listeners === undefined) return false;
    return listener === undefined ? listeners.size > 0 : listeners.has(listener);
  }

  count(kind: WatchKind, path: string): number {
    return this.tables[kind].get(path)?.size ?? 0;
  }

  /**
   * The listeners an event reaches; one-shot ones are removed (ZKWatchManager.materialize).
   * Persistent-recursive listeners on any ancestor see the event too, except NodeChildrenChanged:
   * the server sends that for a one-shot child watch this client holds on a descendant, and a
   * recursive watch never gets children events (ZOOKEEPER-4475; the Java client filters it too).
   */
  materialize(type: EventType, path: string): Set<WatchListener> {
    const result = new Set<WatchListener>();
    const take = (kind: WatchKind) => this.takeAll(kind, path, result);
    switch (type) {
      case "NodeCreated":
      case "NodeDataChanged":
        take("data");
        take("exist");
        break;
      case "NodeChildrenChanged":
        take("child");
        break;
      case "NodeDeleted":
        take("data");
        take("exist");
        take("child");
        break;
      default:
        break;
    }
    for (const listener of this.tables.persistent.get(path) ?? []) result.add(listener);
    if (type === "NodeChildrenChanged") return result;
    for (let p = path; ; p = parentOf(p)) {
      for (const listener of this.tables.persistentRecursive.get(p) ?? []) result.add(listener);
      if (p === "/") break;
    }
    return result;
  }

  private takeAll(kind: WatchKind, path: string, into: Set<WatchListener>): void {
    const table = this.tables[kind];
    const listeners = table.get(path);
    if (listeners === undefined) return;
    for (const listener of listeners) into.add(listener);
    table.delete(path);
  }

  /**
   * Removes watches of `kinds` on `path`: one listener, or all when `listener` is undefined.
   * Returns what was removed, by kind, so that each gets its ...WatchRemoved event.
   */
  remove(
    kinds: readonly WatchKind[],
    path: string,
    listener?: WatchListener,
  ): Map<WatchKind, WatchListener[]> {
    const removed = new Map<WatchKind, WatchListener[]>();
    for (const kind of kinds) {
      const table = this.tables[kind];
      const listeners = table.get(path);
      if (listeners === undefined) continue;
      const gone =
        listener === undefined ? [...listeners] : listeners.has(listener) ? [listener] : [];
      for (const l of gone) listeners.delete(l);
      if (listeners.size === 0) table.delete(path);
      if (gone.length > 0) removed.set(kind, gone);
    }
    return removed;
  }

  /** Every path with a watch of `kind`, for setWatches after a reconnect. */
  paths(kind: WatchKind): string[] {
    return [...this.tables[kind].keys()];
  }

  get isEmpty(): boolean {
    return Object.values(this.tables).every((table) => table.size === 0);
  }

  /** Hands every listener a final event and forgets them all (session expired or client closed). */
  clear(event: WatchEvent, deliver: (listener: WatchListener, event: WatchEvent) => void): void {
    const all = new Set<WatchListener>();
    for (const table of Object.values(this.tables)) {
      for (const listeners of table.values()) for (const l of listeners) all.add(l);
      table.clear();
    }
    for (const listener of all) deliver(listener, event);
  }
}

export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.slice(0, slash);
}
