/**
 * envi, conf, dirs: the process's environment, the effective configuration and the size of the
 * data directories, with ZooKeeper's keys (Environment.list, ZooKeeperServer.dumpConf,
 * DirsCommand) so that tools reading them find what they look for.
 */
import { readdirSync, statSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import v8 from "node:v8";
import type { FourLetterContext, ServerView } from "./index.js";

const MB = 1024 * 1024;
/** What Java prints for a system property it does not have. */
const NOT_AVAILABLE = "<NA>";

/**
 * envi: ZooKeeper lists JVM system properties; zkts runs on Node, so each java.* key carries
 * Node's counterpart: the runtime's version, vendor and install prefix, the main script for the
 * class path. os.name and os.arch are spelled as the JVM spells them. The os.memory.* figures
 * are Runtime's heap figures in whole MB: here V8's heap (free in the current heap, its limit,
 * its current size).
 */
export function envi(ctx: FourLetterContext): string {
  const entries = environmentEntries(ctx);
  return `Environment:\n${entries.map(([key, value]) => `${key}=${value}\n`).join("")}`;
}

/** Environment.list: what envi prints and the AdminServer's environment command lists. */
export function environmentEntries(ctx: Pick<ServerView, "version">): [string, string][] {
  const heap = process.memoryUsage();
  const entries: [string, string][] = [
    ["zookeeper.version", ctx.version],
    ["host.name", os.hostname()],
    ["java.version", process.versions.node],
    ["java.vendor", "Node.js"],
    ["java.home", dirname(dirname(process.execPath))],
    ["java.class.path", process.argv[1] ?? NOT_AVAILABLE],
    ["java.library.path", process.env.LD_LIBRARY_PATH ?? NOT_AVAILABLE],
    ["java.io.tmpdir", os.tmpdir()],
    ["java.compiler", NOT_AVAILABLE],
    ["os.name", javaOsName()],
    ["os.arch", javaOsArch()],
    ["os.version", os.release()],
    ["user.name", userName()],
    ["user.home", os.homedir()],
    ["user.dir", process.cwd()],
    ["os.memory.free", `${Math.floor((heap.heapTotal - heap.heapUsed) / MB)}MB`],
    ["os.memory.max", `${Math.floor(v8.getHeapStatistics().heap_size_limit / MB)}MB`],
    ["os.memory.total", `${Math.floor(heap.heapTotal / MB)}MB`],
  ];
  return entries;
}

function javaOsName(): string {
  switch (os.type()) {
    case "Darwin":
      return "Mac OS X";
    case "Windows_NT":
      return "Windows";
    default:
      return os.type();
  }
}

function javaOsArch(): string {
  const arch = os.arch();
  const java: Record<string, string> = { x64: "amd64", ia32: "x86", arm64: "aarch64" };
  return java[arch] ?? arch;
}

function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    // No passwd entry for our uid (some containers).
    return NOT_AVAILABLE;
  }
}

/**
 * The directory ZooKeeper keeps snapshots and logs in: `version-2` under dataDir (and it has a
 * dataLogDir of its own only when configured; zkts has none). Empty when no dataDir is set: the
 * in-memory server has none.
 */
function snapshotDir({ server }: Pick<ServerView, "server">): string {
  const dataDir = server.options.dataDir;
  return dataDir === undefined ? "" : join(resolve(dataDir), "version-2");
}

/** File sizes under `path`, recursively; 0 if it does not exist (java.io.File.length). */
function dirSize(path: string): number {
  if (path === "") return 0;
  try {
    const stat = statSync(path);
    if (!stat.isDirectory()) return stat.size;
    let size = 0;
    for (const name of readdirSync(path)) size += dirSize(join(path, name));
    return size;
  } catch {
    return 0;
  }
}

/** ZooKeeperServerConf: what conf prints and the AdminServer's configuration lists. */
export interface ServerConfiguration {
  readonly clientPort: number;
  readonly dataDir: string;
  readonly dataDirSize: number;
  readonly dataLogDir: string;
  readonly dataLogSize: number;
  readonly tickTime: number;
  readonly maxClientCnxns: number;
  readonly minSessionTimeout: number;
  readonly maxSessionTimeout: number;
  /** -1: not configured, the platform's default backlog applies (as with ZooKeeper). */
  readonly clientPortListenBacklog: number;
  /** The myid; a standalone server has none and says 0. */
  readonly serverId: number;
}

export function serverConfiguration(view: ServerView): ServerConfiguration {
  const options = view.server.options;
  const dir = snapshotDir(view);
  const size = dirSize(dir);
  return {
    clientPort: view.clientPort,
    dataDir: dir,
    dataDirSize: size,
    dataLogDir: dir,
    dataLogSize: size,
    tickTime: options.tickTime,
    maxClientCnxns: options.maxClientCnxns,
    minSessionTimeout: options.minSessionTimeout,
    maxSessionTimeout: options.maxSessionTimeout,
    clientPortListenBacklog: -1,
    serverId: view.quorum?.myId ?? 0,
  };
}

/** conf: ZooKeeperServer.dumpConf, standalone. */
export function conf(ctx: FourLetterContext): string {
  const c = serverConfiguration(ctx);
  const entries: [string, string | number][] = [
    ["clientPort", c.clientPort],
    // No TLS port; -1 is ZooKeeper's "not configured".
    ["secureClientPort", -1],
    ["dataDir", c.dataDir],
    ["dataDirSize", c.dataDirSize],
    ["dataLogDir", c.dataLogDir],
    ["dataLogSize", c.dataLogSize],
    ["tickTime", c.tickTime],
    ["maxClientCnxns", c.maxClientCnxns],
    ["minSessionTimeout", c.minSessionTimeout],
    ["maxSessionTimeout", c.maxSessionTimeout],
    ["clientPortListenBacklog", c.clientPortListenBacklog],
    ["serverId", c.serverId],
  ];
  return entries.map(([key, value]) => `${key}=${value}\n`).join("");
}

/** The bytes in the snapshot and the log directories (the same directory here). */
export function dirSizes(view: Pick<ServerView, "server">): { datadir: number; logdir: number } {
  const size = dirSize(snapshotDir(view));
  return { datadir: size, logdir: size };
}

/** dirs: the bytes in the snapshot and log directories. */
export function dirs(ctx: FourLetterContext): string {
  const { datadir, logdir } = dirSizes(ctx);
  return `datadir_size: ${datadir}\nlogdir_size: ${logdir}\n`;
}
