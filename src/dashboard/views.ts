/**
 * What the dashboard shows of one server, read from the server itself (the AdminServer's
 * context: its ZooKeeperServer, DataTree and quorum view), as plain JSON. Reads only: nothing
 * here changes the server or leaves a watch.
 *
 * Data a world reader could not read (the node's ACL gives world:anyone no READ) is shown only
 * to the super user, as the client port would answer it.
 */
import type { ACL, Stat } from "../jute/records.js";
import { sortedCandidates } from "../recipes/leader-election-support.js";
import { sortChildren } from "../recipes/lock-internals.js";
import type { AdminContext } from "../server/admin/commands.js";
import type { WatchManager } from "../server/watch-manager.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const READ = 1;
/** Children listed per request: a node with thousands of children is paged, never sent whole. */
export const CHILDREN_PAGE = 200;

const hex = (n: bigint) => `0x${BigInt.asUintN(64, n).toString(16)}`;

/** The server's role and figures; the page turns the counters into throughput and latency. */
export function selfView(ctx: AdminContext): Json {
  const { server, quorum } = ctx;
  const stats = server.stats;
  const leader = quorum?.leaderId();
  return {
    id: quorum?.myId ?? 1,
    state: server.serverState,
    leader: leader ?? null,
    epoch: Number(quorum?.epoch?.() ?? server.tree.lastProcessedZxid >> 32n),
    lastZxid: hex(server.tree.lastProcessedZxid),
    synced: quorum === undefined ? true : quorum.serving(),
    syncedFollowers: quorum?.syncedFollowers?.() ?? [],
    connections: [...ctx.connections].length,
    sessions: server.tree.sessions.size,
    nodes: server.tree.nodeCount,
    requests: stats.count,
    latencyMsTotal: stats.totalLatencyMs,
    packetsReceived: stats.packetsReceived,
    packetsSent: stats.packetsSent,
    clientPort: ctx.clientPort,
    time: Date.now(),
  };
}

/** One page of a node's children, sorted by name, with whether each has children itself. */
export function childrenView(ctx: AdminContext, path: string, offset: number): Json {
  const tree = ctx.server.tree;
  const node = tree.getNode(path);
  if (node === undefined) return { path, exists: false, total: 0, offset, children: [] };
  const names = [...node.children.keys()].sort();
  const page = names.slice(offset, offset + CHILDREN_PAGE).map((name) => {
    const child = tree.getNode(path === "/" ? `/${name}` : `${path}/${name}`);
    return { name, numChildren: child?.children.size ?? 0 };
  });
  return {
    path,
    exists: true,
    total: names.length,
    offset,
    pzxid: hex(node.stat.pzxid),
    children: page,
  };
}

/** A node's data (UTF-8 when it decodes, else hex), Stat and ACL. */
export function nodeView(ctx: AdminContext, path: string, isSuper: boolean): Json {
  const tree = ctx.server.tree;
  const node = tree.getNode(path);
  if (node === undefined) return { path, exists: false };
  const readable = isSuper || worldReadable(node.acl);
  const data = node.data ?? Buffer.alloc(0);
  const utf8 = decodeUtf8(data);
  return {
    path,
    exists: true,
    readable,
    encoding: readable ? (utf8 === undefined ? "hex" : "utf8") : null,
    data: readable ? (utf8 ?? data.toString("hex")) : null,
    hex: readable ? data.toString("hex") : null,
    stat: statJson(tree.statOf(node)),
    acl: node.acl.map(aclJson),
  };
}

/** Every session the ensemble knows (the tree's table), its timeout and its ephemerals. */
export function sessionsView(ctx: AdminContext): Json {
  const tree = ctx.server.tree;
  const here = ctx.server.connections;
  const sessions = [...tree.sessions].map(([id, timeout]) => ({
    id: hex(id),
    timeoutMs: timeout,
    connectedHere: here.has(id),
    ephemerals: tree.ephemeralsOf(id),
  }));
  sessions.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { sessions };
}

/**
 * This server's watches by path (a watch lives on the server its client is connected to): data
 * watches (getData, exists) and child watches (getChildren), persistent ones in both.
 */
export function watchesView(ctx: AdminContext): Json {
  const byPath = new Map<string, { path: string; data: string[]; children: string[] }>();
  const add = (watches: WatchManager, kind: "data" | "children") => {
    for (const [path, watchers] of watches.byPath()) {
      const entry = byPath.get(path) ?? { path, data: [], children: [] };
      byPath.set(path, entry);
      for (const watcher of watchers.keys()) {
        entry[kind].push(hex((watcher as { sessionId?: bigint }).sessionId ?? 0n));
      }
    }
  };
  add(ctx.server.tree.dataWatches, "data");
  add(ctx.server.tree.childWatches, "children");
  const watches = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  return { id: ctx.quorum?.myId ?? 1, watches };
}

/**
 * The recipe under `path`: a mutex's holder and queue (children `..lock-<seq>`, Curator's and
 * ours) or an election's leader and candidates (`..latch-<seq>`), in sequence order. Each
 * participant's id is its node's data up to a NUL: a candidate's id, a demo worker's name.
 */
export function recipeView(ctx: AdminContext, path: string): Json {
  const tree = ctx.server.tree;
  const node = tree.getNode(path);
  if (node === undefined) return { path, exists: false, kind: null, participants: [] };
  const children = [...node.children.keys()];
  const locks = sortChildren(children, ["lock-"]);
  const candidates = sortedCandidates(children);
  const kind = candidates.length > locks.length ? "election" : "mutex";
  const sorted = kind === "election" ? candidates : locks;
  const participants = sorted.map((name) => {
    const child = tree.getNode(`${path}/${name}`);
    const data = child?.data ?? Buffer.alloc(0);
    const nul = data.indexOf(0);
    return {
      node: name,
      owner: hex(child?.stat.ephemeralOwner ?? 0n),
      id: (nul < 0 ? data : data.subarray(0, nul)).toString("utf8"),
    };
  });
  return { path, exists: true, kind, participants };
}

/** The demos' paths (`zkts demo mutex` locks at <base>/lock, `zkts demo election` at <base>). */
export function demoPaths(ctx: AdminContext): Json {
  const root = ctx.server.tree.getNode("/");
  const paths: string[] = [];
  for (const name of [...(root?.children.keys() ?? [])].sort()) {
    if (name.startsWith("zkts-demo-mutex-")) paths.push(`/${name}/lock`);
    else if (name.startsWith("zkts-demo-election-")) paths.push(`/${name}`);
  }
  return { paths };
}

function worldReadable(acl: readonly ACL[]): boolean {
  return acl.some((a) => (a.perms & READ) !== 0 && a.id.scheme === "world" && a.id.id === "anyone");
}

function decodeUtf8(data: Buffer): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch {
    return undefined;
  }
}

function statJson(s: Stat): Json {
  return {
    czxid: hex(s.czxid),
    mzxid: hex(s.mzxid),
    pzxid: hex(s.pzxid),
    ctime: new Date(Number(s.ctime)).toISOString(),
    mtime: new Date(Number(s.mtime)).toISOString(),
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: hex(s.ephemeralOwner),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  };
}

const PERMS = ["r", "w", "c", "d", "a"] as const;

function aclJson(a: ACL): Json {
  const perms = PERMS.filter((_, i) => (a.perms & (1 << i)) !== 0).join("");
  return { scheme: a.id.scheme, id: a.id.id, perms };
}
