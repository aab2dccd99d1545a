/**
 * wchs, wchc, wchp and dump: the watches, sessions, ephemerals and connections the server
 * holds. As in ZooKeeper 3.8 (DataTree.dumpWatchesSummary and dumpWatches), the three watch
 * words show the data watches only (getData, exists, and persistent watches); child watches
 * count in mntr's zk_watch_count but are listed nowhere.
 */
import type { Watcher, WatchManager } from "../watch-manager.js";
import type { FourLetterContext, ServerView } from "./index.js";
import { javaDate, javaHex, javaSocketAddress } from "./java-text.js";
import { elapsedTime, monotonicNowMs } from "./stats.js";

/** NIOServerCnxnFactory's sessionlessCnxnTimeout (zookeeper.nio.sessionlessCnxnTimeout). */
const SESSIONLESS_CONNECTION_TIMEOUT_MS = 10_000;

function sessionIdOf(watcher: Watcher): bigint {
  return (watcher as { sessionId?: bigint }).sessionId ?? 0n;
}

/** Each watcher with the paths it watches, in first-seen order (ZooKeeper's watch2Paths). */
function byWatcher(watches: WatchManager): Map<Watcher, string[]> {
  const paths = new Map<Watcher, string[]>();
  for (const [path, watchers] of watches.byPath()) {
    for (const watcher of watchers.keys()) {
      const list = paths.get(watcher);
      if (list === undefined) paths.set(watcher, [path]);
      else list.push(path);
    }
  }
  return paths;
}

/** The data watches by session: what wchc prints and the AdminServer's watches lists. */
export function watchesBySession({ server }: Pick<ServerView, "server">): [bigint, string[]][] {
  return [...byWatcher(server.tree.dataWatches)].map(([watcher, paths]) => [
    sessionIdOf(watcher),
    paths,
  ]);
}

/** The data watches by path: what wchp prints and the AdminServer's watches_by_path lists. */
export function watchesByPath({ server }: Pick<ServerView, "server">): [string, bigint[]][] {
  return [...server.tree.dataWatches.byPath()].map(([path, watchers]) => [
    path,
    [...watchers.keys()].map(sessionIdOf),
  ]);
}

/** WatchesSummary: connections watching, paths watched, watches. */
export function watchSummary({ server }: Pick<ServerView, "server">) {
  const watches = server.tree.dataWatches;
  return {
    connections: watches.watcherCount,
    paths: watches.byPath().size,
    watches: watches.size,
  };
}

/** wchs: WatchManager.toString. */
export function wchs(ctx: FourLetterContext): string {
  const summary = watchSummary(ctx);
  return (
    `${summary.connections} connections watching ${summary.paths} paths\n` +
    `Total watches:${summary.watches}\n`
  );
}

/** wchc: each session, then a tab and a path per line; an empty line ends it. */
export function wchc(ctx: FourLetterContext): string {
  let text = "";
  for (const [sessionId, paths] of watchesBySession(ctx)) {
    text += `0x${javaHex(sessionId)}\n`;
    for (const path of paths) text += `\t${path}\n`;
  }
  return `${text}\n`;
}

/** wchp: each path, then a tab and a session per line; an empty line ends it. */
export function wchp(ctx: FourLetterContext): string {
  let text = "";
  for (const [path, sessions] of watchesByPath(ctx)) {
    text += `${path}\n`;
    for (const sessionId of sessions) text += `\t0x${javaHex(sessionId)}\n`;
  }
  return `${text}\n`;
}

/**
 * The sessions by the time they expire, on the JVM's monotonic clock as ZooKeeper's
 * SessionTracker keeps it (getSessionExpiryMap): the AdminServer's dump lists them.
 */
export function sessionExpiry({ server }: Pick<ServerView, "server">): Map<number, bigint[]> {
  const buckets = new Map<number, bigint[]>();
  for (const session of server.sessions.all()) {
    const time = elapsedTime(session.expiresAt);
    const bucket = buckets.get(time);
    if (bucket === undefined) buckets.set(time, [session.id]);
    else bucket.push(session.id);
  }
  return buckets;
}

/** dump: the sessions by expiry time, the ephemerals by session, the connections by expiry. */
export function dump(ctx: FourLetterContext): string {
  const { server } = ctx;
  const sessions = new Map<number, string[]>();
  for (const session of server.sessions.all()) {
    add(sessions, session.expiresAt, `0x${javaHex(session.id)}`);
  }
  let text = `SessionTracker dump:\nSession ${expiryQueue(sessions)}ephemeral nodes dump:\n`;
  const ephemerals = server.tree.sessionsWithEphemerals();
  text += `Sessions with Ephemerals (${ephemerals.size}):\n`;
  for (const [sessionId, paths] of ephemerals) {
    text += `0x${javaHex(sessionId)}:\n`;
    for (const path of paths) text += `\t${path}\n`;
  }
  return `${text}Connections dump:\nConnections ${expiryQueue(connectionExpiry(ctx))}`;
}

/**
 * When ZooKeeper's NIO factory would close each connection: its last activity plus its session
 * timeout (10 s while it has no session), rounded up to the next multiple of 10 s on the JVM's
 * monotonic clock (ExpiryQueue). A session's connection goes when its session expires; zkts
 * does not yet close an idle connection that never sent a handshake, which ZooKeeper does.
 */
function connectionExpiry(ctx: FourLetterContext): Map<number, string[]> {
  const interval = SESSIONLESS_CONNECTION_TIMEOUT_MS;
  const wallMinusMonotonic = Date.now() - monotonicNowMs();
  const buckets = new Map<number, string[]>();
  for (const connection of ctx.connections) {
    const s = connection.stats;
    const lastActive = Math.max(s.establishedAt, s.lastResponseTime) - wallMinusMonotonic;
    const timeout = connection.sessionId === 0n ? interval : s.sessionTimeoutMs || interval;
    const expiry = (Math.floor((lastActive + timeout) / interval) + 1) * interval;
    const name =
      `ip: ${javaSocketAddress(connection.remote)} ` +
      `sessionId: 0x${javaHex(connection.sessionId)}`;
    add(buckets, expiry + wallMinusMonotonic, name);
  }
  return buckets;
}

function add(buckets: Map<number, string[]>, time: number, name: string): void {
  const bucket = buckets.get(time);
  if (bucket === undefined) buckets.set(time, [name]);
  else bucket.push(name);
}

/** ExpiryQueue.dump, after its "Session " or "Connections " prefix. */
function expiryQueue(buckets: Map<number, string[]>): string {
  let total = 0;
  for (const names of buckets.values()) total += names.length;
  let text = `Sets (${buckets.size})/(${total}):\n`;
  for (const time of [...buckets.keys()].sort((a, b) => a - b)) {
    const names = buckets.get(time) ?? [];
    text += `${names.length} expire at ${javaDate(time)}:\n`;
    for (const name of names) text += `\t${name}\n`;
  }
  return text;
}
