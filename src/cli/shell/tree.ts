/**
 * The commands that walk a subtree: `ls -R` (ZKUtil.visitSubTreeDFS: the path, then each
 * child's subtree), `deleteall` (ZKUtil.deleteRecursive: every node of the subtree, leaves
 * first) and `setAcl -R` (the same ACL on every node of the subtree).
 */
import {
  type ACL,
  type CallOptions,
  NoNodeError,
  type Stat,
  type WatchListener,
  type WatchOption,
  type ZooKeeper,
} from "../../index.js";

const child = (parent: string, name: string) => (parent === "/" ? `/${name}` : `${parent}/${name}`);

/** The subtree's paths, depth first, children in name order; `watch` goes on every node. */
export async function listTree(
  zk: ZooKeeper,
  root: string,
  options: WatchOption<WatchListener>,
): Promise<string[]> {
  const paths: string[] = [];
  const visit = async (path: string): Promise<void> => {
    paths.push(path);
    let children: string[];
    try {
      children = await zk.getChildren(path, options);
    } catch (error) {
      // A node deleted while we walk is no longer part of the tree; the root must exist.
      if (error instanceof NoNodeError && path !== root) {
        paths.pop();
        return;
      }
      throw error;
    }
    for (const name of children.sort()) await visit(child(path, name));
  };
  await visit(root);
  return paths;
}

/** Breadth first, as ZKUtil.listSubTreeBFS: every node comes after its parent. */
async function subtreeBreadthFirst(
  zk: ZooKeeper,
  root: string,
  options: CallOptions,
): Promise<string[]> {
  const paths = [root];
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i]!;
    let children: string[];
    try {
      children = await zk.getChildren(path, options);
    } catch (error) {
      if (error instanceof NoNodeError && path !== root) continue;
      throw error;
    }
    for (const name of children) paths.push(child(path, name));
  }
  return paths;
}

/** Deletes the subtree, leaves first; nodes someone else deleted meanwhile are fine. */
export async function deleteAll(zk: ZooKeeper, root: string, options: CallOptions): Promise<void> {
  const paths = await subtreeBreadthFirst(zk, root, options);
  for (const path of paths.reverse()) {
    try {
      await zk.delete(path, options);
    } catch (error) {
      if (!(error instanceof NoNodeError && path !== root)) throw error;
    }
  }
}

/** Sets `acl` on every node of the subtree; resolves with the root's new Stat. */
export async function setAclTree(
  zk: ZooKeeper,
  root: string,
  acl: readonly ACL[],
  options: CallOptions & { version?: number },
): Promise<Stat> {
  const paths = await subtreeBreadthFirst(zk, root, options);
  const stats = await Promise.all(paths.map((path) => zk.setACL(path, acl, options)));
  return stats[0]!;
}
