/**
 * Writes the tree as it is now to `snapDir/snapshot.<zxid>` in ZooKeeper's format, digest
 * included, while writes go on (the tree keeps copies of what changes meanwhile: copy on
 * write). Shared by a standalone server's ZKDatabase and an ensemble server's PeerSnapshots.
 */
import { DIGEST_VERSION, encodeSnapshot, writeSnapshotFile } from "../storage/snapshot.js";
import type { DataTree } from "./data-tree.js";

export interface WrittenSnapshot {
  readonly file: string;
  readonly zxid: bigint;
  readonly ms: number;
}

export async function writeTreeSnapshot(tree: DataTree, snapDir: string): Promise<WrittenSnapshot> {
  const started = performance.now();
  const view = tree.beginSnapshot();
  try {
    const chunks = encodeSnapshot({
      sessions: view.sessions,
      acls: view.acls,
      nodes: view.nodes,
      digest: { zxid: view.zxid, version: DIGEST_VERSION, digest: view.digest },
    });
    const file = await writeSnapshotFile(snapDir, view.zxid, chunks);
    return { file, zxid: view.zxid, ms: performance.now() - started };
  } finally {
    view.release();
  }
}
