/**
 * Finds a znode by its path through the children maps, and remembers what it found.
 *
 * The children maps are the tree; this is only a memo over them. It starts empty, so loading a
 * million-node snapshot (or replaying a million creates) does not also fill a million-entry
 * path map up front: that Map.set was half of a snapshot load's own time. A path is remembered
 * the first time it is looked up, so a node read or written often costs one hash lookup, as
 * with a full map.
 *
 * The one rule for its owner: a node that leaves the tree must be forgotten (`forget`). Only
 * leaves are ever deleted, so no remembered path can hide under a deleted parent.
 */
export interface IndexedNode<N> {
  readonly children: ReadonlyMap<string, N>;
}

export class PathIndex<N extends IndexedNode<N>> {
  private readonly known = new Map<string, N>();
  root: N;

  constructor(root: N) {
    this.root = root;
  }

  /** The node at `path` ("/" or "" for the root), or undefined; never throws on odd paths. */
  get(path: string): N | undefined {
    const hit = this.known.get(path);
    if (hit !== undefined) return hit;
    if (path === "/" || path === "") return this.root;
    const slash = path.lastIndexOf("/");
    if (slash === -1) return undefined;
    let parent: N | undefined;
    if (slash === 0) parent = this.root;
    else {
      const parentPath = path.slice(0, slash);
      parent = this.known.get(parentPath);
      if (parent === undefined) {
        parent = this.walk(parentPath);
        if (parent === undefined) return undefined;
        // Its other children are likely to be asked for next (a create loop, a listing).
        this.known.set(parentPath, parent);
      }
    }
    const node = parent.children.get(path.slice(slash + 1));
    if (node !== undefined) this.known.set(path, node);
    return node;
  }

  /** Drop `path` from the memo: its node left the tree (or the path now names another). */
  forget(path: string): void {
    this.known.delete(path);
  }

  /** Root to `path`, one name at a time: iterative, so a path of many names cannot overflow. */
  private walk(path: string): N | undefined {
    if (path.charCodeAt(0) !== 0x2f) return undefined;
    let node: N = this.root;
    for (let start = 1; start <= path.length; ) {
      let end = path.indexOf("/", start);
      if (end === -1) end = path.length;
      const next = node.children.get(path.slice(start, end));
      if (next === undefined) return undefined;
      node = next;
      start = end + 1;
    }
    return node;
  }
}
