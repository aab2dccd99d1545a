/**
 * Snapshot files in ZooKeeper 3.8's format (FileSnap, SnapStream, SerializeUtils, DataTree,
 * ReferenceCountedACLCache), uncompressed ("CHECKED" stream mode):
 *
 *   file     := FileHeader{magic int "ZKSN", version int 2, dbid long -1}
 *               sessions tree seal [digest seal]
 *   sessions := count int · (id long · timeout int)*
 *   tree     := aclCache · (path ustring · DataNode)* · "/" ustring
 *   aclCache := count int · (id long · vector<ACL>)*          ids numbered from 1; -1 = OPEN
 *   DataNode := data buffer · acl long · StatPersisted
 *   seal     := Adler-32 of every byte before it, as a long · "/" ustring
 *   digest   := ZxidDigest{zxid long, digestVersion int, digest long (a hex ustring before v2)}
 *
 * Nodes come parent before child (depth-first pre-order); the root's path is written as "".
 * The digest part came later: a file that ends after the first seal is an older snapshot.
 * A file is named `snapshot.<zxid in lower-case hex>` after the last zxid it includes (the
 * snapshot is fuzzy: txns after that zxid may be in it too, and are replayed idempotently).
 *
 * Writing is incremental (chunks, yielding between them) so that a server keeps serving while a
 * million nodes are written; reading takes the whole file at once, which is what recovery wants.
 */
import {
  closeSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  writeSync,
} from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import {
  ACL,
  FileHeader,
  JuteDecodeError,
  NULL_BUFFER,
  Reader,
  type StatPersisted,
  Writer,
} from "../jute/index.js";
import { adler32 } from "./adler32.js";

/** FileSnap.SNAP_MAGIC: "ZKSN" as a big-endian int. */
export const SNAPSHOT_MAGIC = 0x5a4b534e;
export const SNAPSHOT_VERSION = 2;
/** FileSnap's dbId, always -1. */
export const SNAPSHOT_DBID = -1n;
export const SNAPSHOT_FILE_PREFIX = "snapshot";
/** DigestCalculator.DIGEST_VERSION in 3.8; what `new ZxidDigest()` writes. */
export const DIGEST_VERSION = 2;
/** The ACL cache id ZooKeeper reads as OPEN_ACL_UNSAFE (ReferenceCountedACLCache.convertLong). */
export const OPEN_ACL_UNSAFE_ID = -1n;
/** The path that ends the node list, and the string after each seal. */
const END_OF_NODES = "/";
/**
 * About 2,000 nodes: a few milliseconds of encoding between turns of the event loop, so that a
 * server writing a snapshot of a big tree still answers within them.
 */
const DEFAULT_CHUNK_BYTES = 256 * 1024;
/** A snapshot being written is synced this often in the background (see writeSnapshotFile). */
const BACKGROUND_SYNC_BYTES = 16 * 1024 * 1024;
/** ZooDefs.Ids.OPEN_ACL_UNSAFE, for nodes that carry the -1 id. */
const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([
  { perms: 31, id: { scheme: "world", id: "anyone" } },
]);

/** DataTree.ZxidDigest: the tree digest as of a zxid; zxid 0 means none (ZooKeeper ignores it). */
export interface SnapshotDigest {
  zxid: bigint;
  version: number;
  digest: bigint;
}

export interface SnapshotNode {
  /** "/" for the root (written as ""), else the absolute path. */
  path: string;
  /** null is jute's null buffer, kept apart from empty data as ZooKeeper does. */
  data: Buffer | null;
  acl: readonly ACL[];
  stat: StatPersisted;
}

/** A node as encodeSnapshot takes it: its ACL list by the id it has in the ACL cache. */
export interface SnapshotNodeToWrite {
  path: string;
  /**
   * Optional, both or neither: `path` as prefix + name, which the encoder writes one after the
   * other (a joined string would be flattened first).
   */
  prefix?: string;
  name?: string;
  data: Buffer | null;
  aclId: bigint;
  stat: StatPersisted;
}

export interface SnapshotInput {
  /** Session id and timeout (ms) of every live session. */
  sessions: Iterable<readonly [bigint, number]>;
  /** The ACL cache: every id a node uses (but -1), with its list. A SnapshotAclTable is one. */
  acls: Iterable<readonly [bigint, readonly ACL[]]>;
  /** Depth-first pre-order, root ("/") first, each parent before its children; read lazily. */
  nodes: Iterable<SnapshotNodeToWrite>;
  /** Default: an empty digest (zxid 0), as ZooKeeper writes before its first digest. null: none. */
  digest?: SnapshotDigest | null;
}

export interface SnapshotContents {
  /** From the file's name. */
  zxid: bigint;
  sessions: Map<bigint, number>;
  acls: Map<bigint, ACL[]>;
  /** In file order, root first (path "/"). Nodes with the same ACL id share one acl array. */
  nodes: SnapshotNode[];
  /** Absent when the file ends after the first seal (a snapshot from before digests). */
  digest?: SnapshotDigest;
}

/**
 * Where a node's bytes are in the file being read, for a consumer that wants to checksum them
 * without encoding them again (the tree's per-node digest): the path's UTF-8 bytes ("" for the
 * root) are bytes[path, pathEnd), the StatPersisted's 60 bytes start at `stat`. One object, reused
 * for every node: read it during the call only.
 */
export interface SnapshotNodeBytes {
  bytes: Buffer;
  path: number;
  pathEnd: number;
  stat: number;
}

/**
 * Takes each node as it is decoded, in file order (root first, as "/"); the decoded data, ACL
 * list and stat objects become the consumer's. Returns a reason to refuse the node (its place
 * in the tree is wrong, say), which the decoder throws as SnapshotCorruptError at its offset.
 */
export type SnapshotNodeSink = (
  path: string,
  data: Buffer | null,
  acl: readonly ACL[],
  stat: StatPersisted,
  bytes: SnapshotNodeBytes,
) => string | undefined;

/** A snapshot that cannot be used: names the file, and the offset where that is known. */
export class SnapshotCorruptError extends Error {
  override readonly name = "SnapshotCorruptError";
  readonly file: string;
  readonly offset: number | undefined;
  readonly reason: string;

  constructor(file: string, reason: string, offset?: number) {
    const where = offset === undefined ? "" : ` at offset ${offset}`;
    super(`snapshot ${file} is corrupt${where}: ${reason}`);
    this.file = file;
    this.offset = offset;
    this.reason = reason;
  }
}

/** `snapshot.<hex zxid>`, as Util.makeSnapshotName names it. */
export function snapshotFileName(zxid: bigint): string {
  return `${SNAPSHOT_FILE_PREFIX}.${zxid.toString(16)}`;
}

/**
 * The zxid in a `snapshot.<hex>` name (a path is fine), or undefined. ZooKeeper also reads
 * `snapshot.<hex>.gz` and `.snappy` (compressed) and even takes `snapshot.<hex>.tmp` for a
 * snapshot; we read none of those, so they are not snapshots here.
 */
export function zxidOfSnapshotFile(name: string): bigint | undefined {
  const match = /^snapshot\.([0-9a-fA-F]{1,16})$/.exec(basename(name));
  if (!match) return undefined;
  const zxid = BigInt(`0x${match[1]}`);
  // Util.getZxidFromName parses a signed long: beyond it the name is not a snapshot's.
  return zxid <= 0x7fffffffffffffffn ? zxid : undefined;
}

/**
 * ReferenceCountedACLCache's numbering, for a caller building the ACL cache in a first pass:
 * each distinct ACL list gets the next id from 1. Lists are looked up by identity first (a
 * DataTree interns them), then by content, so equal lists share an id either way.
 */
export class SnapshotAclTable implements Iterable<readonly [bigint, readonly ACL[]]> {
  readonly #byList = new Map<readonly ACL[], bigint>();
  readonly #byContent = new Map<string, bigint>();
  readonly #entries: (readonly [bigint, readonly ACL[]])[] = [];

  idOf(acl: readonly ACL[]): bigint {
    const known = this.#byList.get(acl);
    if (known !== undefined) return known;
    const key = JSON.stringify(acl.map((entry) => [entry.perms, entry.id.scheme, entry.id.id]));
    let id = this.#byContent.get(key);
    if (id === undefined) {
      id = BigInt(this.#entries.length + 1);
      this.#byContent.set(key, id);
      this.#entries.push([id, acl]);
    }
    this.#byList.set(acl, id);
    return id;
  }

  get size(): number {
    return this.#entries.length;
  }

  [Symbol.iterator](): Iterator<readonly [bigint, readonly ACL[]]> {
    return this.#entries[Symbol.iterator]();
  }
}

/**
 * Encodes a snapshot as chunks of about `chunkBytes` (a node never straddles two), so that the
 * caller can write each and yield to the event loop; the nodes are pulled one chunk at a time.
 * The concatenated chunks are the file, checksum included, whatever the chunk size.
 */
export function* encodeSnapshot(
  input: SnapshotInput,
  chunkBytes = DEFAULT_CHUNK_BYTES,
): Generator<Buffer, void, undefined> {
  const w = new Writer(Math.min(chunkBytes, 1024 * 1024) + 4096);
  let checksum = 1;
  /** Hands out what is written so far, folding it into the running checksum. */
  const flush = (): Buffer => {
    const chunk = w.take();
    w.reset();
    checksum = adler32(chunk, checksum);
    return chunk;
  };
  const seal = (): Buffer => {
    const chunk = flush();
    w.writeLong(BigInt(checksum)).writeString(END_OF_NODES);
    return chunk;
  };

  FileHeader.write(w, { magic: SNAPSHOT_MAGIC, version: SNAPSHOT_VERSION, dbid: SNAPSHOT_DBID });
  const sessions = [...input.sessions];
  w.writeInt(sessions.length);
  for (const [id, timeout] of sessions) w.writeLong(id).writeInt(timeout);
  const aclIds = writeAclCache(w, input.acls);

  let first = true;
  // Most nodes have the ACL of the node before: a bigint compare, not a bigint hash.
  let checkedAclId = OPEN_ACL_UNSAFE_ID;
  for (const node of input.nodes) {
    if (first !== (node.path === "/")) {
      throw new Error(`snapshot nodes must start with the root "/", and only once: ${node.path}`);
    }
    first = false;
    if (node.aclId !== checkedAclId) {
      if (!aclIds.has(node.aclId)) {
        throw new Error(`node ${node.path} uses ACL id ${node.aclId}, which is not in acls`);
      }
      checkedAclId = node.aclId;
    }
    if (node.path === "/") w.writeString("");
    else if (node.name !== undefined) w.writeJoinedString(node.prefix ?? "", node.name);
    else w.writeString(node.path);
    w.writeBuffer(node.data).writeLong(node.aclId);
    writeStat(w, node.stat);
    if (w.length >= chunkBytes) yield flush();
  }
  if (first) throw new Error("a snapshot needs at least the root node");
  w.writeString(END_OF_NODES);
  yield seal();

  const digest = input.digest === undefined ? emptyDigest() : input.digest;
  if (digest !== null) {
    w.writeLong(digest.zxid).writeInt(digest.version);
    // ZxidDigest reads a digest before version 2 as a hex string, from 2 on as a long.
    if (digest.version < 2) w.writeString(BigInt.asUintN(64, digest.digest).toString(16));
    else w.writeLong(digest.digest);
    yield seal();
  }
  yield flush();
}

/** StatPersisted field by field: the hot path of a million-node write. */
function writeStat(w: Writer, s: StatPersisted): void {
  w.writeLong(s.czxid).writeLong(s.mzxid).writeLong(s.ctime).writeLong(s.mtime);
  w.writeInt(s.version).writeInt(s.cversion).writeInt(s.aversion);
  w.writeLong(s.ephemeralOwner).writeLong(s.pzxid);
}

function emptyDigest(): SnapshotDigest {
  return { zxid: 0n, version: DIGEST_VERSION, digest: 0n };
}

/** Writes the ACL cache; returns its ids, which are all a node may refer to (besides -1). */
function writeAclCache(w: Writer, acls: SnapshotInput["acls"]): Set<bigint> {
  const entries = [...acls];
  const ids = new Set<bigint>();
  w.writeInt(entries.length);
  for (const [id, list] of entries) {
    if (ids.has(id)) throw new Error(`ACL id ${id} is in acls twice`);
    ids.add(id);
    w.writeLong(id).writeInt(list.length);
    for (const acl of list) ACL.write(w, acl);
  }
  return ids;
}

export interface WriteSnapshotOptions {
  /** fsync the file before the rename and the directory after it. Default true. */
  fsync?: boolean;
}

/**
 * Writes `dir/snapshot.<hex zxid>` atomically, as ZooKeeper's AtomicFileOutputStream does:
 * into `<name>.tmp`, fsync, rename over the final name; then fsync the directory so the rename
 * survives a crash. Each chunk's write is awaited, so other work runs between chunks (and
 * between the encoder's steps). On failure the .tmp file is removed. Resolves to the final path.
 */
export async function writeSnapshotFile(
  dir: string,
  zxid: bigint,
  chunks: Iterable<Buffer>,
  options: WriteSnapshotOptions = {},
): Promise<string> {
  const fsync = options.fsync ?? true;
  const file = join(dir, snapshotFileName(zxid));
  const tmp = `${file}.tmp`;
  const handle = await open(tmp, "w");
  // A datasync started in the background while later chunks are encoded: by the last sync,
  // the disk has written most of the file already (the sync of 100 MB is ~0.1 s here).
  let syncing: Promise<void> | undefined;
  let unsynced = 0;
  try {
    for (const chunk of chunks) {
      // Into the page cache, on this thread: a chunk's copy costs less than a round trip
      // through the thread pool. The turn of the event loop below keeps the server serving.
      for (let at = 0; at < chunk.length; ) {
        at += writeSync(handle.fd, chunk, at, chunk.length - at);
      }
      unsynced += chunk.length;
      if (fsync && unsynced >= BACKGROUND_SYNC_BYTES) {
        await syncing;
        syncing = handle.datasync();
        unsynced = 0;
      }
      await yieldToEventLoop();
    }
    await syncing;
    if (fsync) await handle.sync();
    await handle.close();
  } catch (error) {
    await syncing?.catch(() => {});
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw error;
  }
  await rename(tmp, file);
  if (fsync) await syncDirectory(dir);
  return file;
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * SnapStream.isValidCheckedStream, ZooKeeper's cheap test before it reads a snapshot: a
 * snapshot name, at least 10 bytes, and ending in the ustring "/" (int 1, then '/') of a seal.
 */
export function isValidSnapshotFile(file: string): boolean {
  if (zxidOfSnapshotFile(file) === undefined) return false;
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const size = fstatSync(fd).size;
    if (size < 10) return false;
    const tail = Buffer.alloc(5);
    if (readSync(fd, tail, 0, 5, size - 5) !== 5) return false;
    return tail.readInt32BE(0) === 1 && tail[4] === 0x2f;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The snapshots in `dir`, newest (highest zxid) first; none if `dir` does not exist. */
export function listSnapshots(dir: string): { file: string; zxid: bigint }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const found: { file: string; zxid: bigint }[] = [];
  for (const name of names) {
    const zxid = zxidOfSnapshotFile(name);
    if (zxid !== undefined) found.push({ file: join(dir, name), zxid });
  }
  return found.sort((a, b) => (a.zxid < b.zxid ? 1 : a.zxid > b.zxid ? -1 : 0));
}

/**
 * Reads and checks a whole snapshot file: header, both seals' checksums, the tree's shape
 * (every node's parent before it, no path twice, every ACL id known) and nothing after the end.
 * Throws SnapshotCorruptError for any of those, an Error for a name that is not a snapshot's,
 * and the file system's error if it cannot be read.
 */
export function readSnapshotFile(file: string): SnapshotContents {
  const zxid = zxidOfSnapshotFile(file);
  if (zxid === undefined) throw new Error(`${file} is not named snapshot.<hex zxid>`);
  return { zxid, ...decodeSnapshot(readFileSync(file), file) };
}

/**
 * readSnapshotFile without the node list: each node goes to `sink` as it is decoded, and the
 * sink checks the tree's shape (a node's parent before it, no path twice), so that a million
 * nodes are built once, straight into their consumer. Every other check is readSnapshotFile's;
 * the seals are checked after the nodes, so on a throw drop whatever the sink built.
 */
export function streamSnapshotFile(
  file: string,
  sink: SnapshotNodeSink,
): Omit<SnapshotContents, "nodes"> {
  const zxid = zxidOfSnapshotFile(file);
  if (zxid === undefined) throw new Error(`${file} is not named snapshot.<hex zxid>`);
  return { zxid, ...decodeSnapshotStream(readFileSync(file), file, sink) };
}

/** Decodes a snapshot's bytes; `file` names them in errors. */
export function decodeSnapshot(bytes: Buffer, file: string): Omit<SnapshotContents, "zxid"> {
  const nodes: SnapshotNode[] = [];
  const paths = new Set<string>();
  const contents = decodeSnapshotStream(bytes, file, (path, data, acl, stat) => {
    const reason = misplaced(path, paths);
    if (reason !== undefined) return reason;
    paths.add(path);
    nodes.push({ path, data, acl, stat });
    return undefined;
  });
  return { ...contents, nodes };
}

/** decodeSnapshot with each node handed to `sink` as it is decoded (see streamSnapshotFile). */
export function decodeSnapshotStream(
  bytes: Buffer,
  file: string,
  sink: SnapshotNodeSink,
): Omit<SnapshotContents, "zxid" | "nodes"> {
  if (bytes.length === 0) throw new SnapshotCorruptError(file, "the file is empty", 0);
  const r = new Reader(bytes);
  try {
    readHeader(r, file);
    const sessions = readSessions(r);
    const acls = readAclCache(r, file);
    readNodes(bytes, r, acls, file, sink);
    const checksum = readSeal(bytes, r, 0, 1, file);
    if (r.remaining === 0) return { sessions, acls };
    const digestAt = r.offset;
    const digest = readDigest(r, file);
    readSeal(bytes, r, digestAt, checksum, file);
    if (r.remaining !== 0) {
      throw new SnapshotCorruptError(file, `${r.remaining} bytes after the last seal`, r.offset);
    }
    return { sessions, acls, digest };
  } catch (error) {
    if (!(error instanceof JuteDecodeError)) throw error;
    const reason = `truncated or malformed: ${error.message.replace(/ at offset \d+$/, "")}`;
    throw new SnapshotCorruptError(file, reason, error.offset);
  }
}

function readHeader(r: Reader, file: string): void {
  const header = FileHeader.read(r);
  if (header.magic !== SNAPSHOT_MAGIC) {
    const magic = `0x${(header.magic >>> 0).toString(16)}`;
    throw new SnapshotCorruptError(file, `bad magic ${magic}, not "ZKSN"`, 0);
  }
  if (header.version !== SNAPSHOT_VERSION) {
    throw new SnapshotCorruptError(file, `unknown version ${header.version}`, 4);
  }
}

function readSessions(r: Reader): Map<bigint, number> {
  const count = r.readLength("sessions", 12);
  const sessions = new Map<bigint, number>();
  for (let i = 0; i < count; i++) sessions.set(r.readLong(), r.readInt());
  return sessions;
}

function readAclCache(r: Reader, file: string): Map<bigint, ACL[]> {
  const count = r.readLength("ACL cache", 12);
  const acls = new Map<bigint, ACL[]>();
  for (let i = 0; i < count; i++) {
    const id = r.readLong();
    const at = r.offset;
    // Every ACL is at least perms int + two ustring lengths.
    const length = r.readLength("ACL list", 12);
    if (length === -1) throw new SnapshotCorruptError(file, `ACL list ${id} is null`, at);
    const list: ACL[] = [];
    for (let j = 0; j < length; j++) list.push(ACL.read(r));
    acls.set(id, list);
  }
  return acls;
}

function readNodes(
  bytes: Buffer,
  r: Reader,
  acls: Map<bigint, ACL[]>,
  file: string,
  sink: SnapshotNodeSink,
): void {
  const where: SnapshotNodeBytes = { bytes, path: 0, pathEnd: 0, stat: 0 };
  const stats = new StatReader();
  let acl: readonly ACL[] = OPEN_ACL_UNSAFE;
  /** Where the last node's ACL id is: none yet, so an offset that no id matches. */
  let lastAclAt = -1;
  for (;;) {
    const at = r.offset;
    const path = r.readString();
    if (path === END_OF_NODES) break;
    where.path = at + 4;
    where.pathEnd = r.offset;
    const data = r.readBuffer();
    const aclAt = r.skip(8, "long");
    where.stat = r.skip(STAT_PERSISTED_BYTES, "StatPersisted");
    const stat = stats.read(bytes, where.stat);
    // Most nodes have the ACL of the node before: compare the id's bytes, no bigint.
    if (!sameLongs(bytes, aclAt, lastAclAt)) {
      const aclId = longAt(bytes, aclAt);
      // ZooKeeper loads an unknown id and fails on every later access to the node; refuse it.
      const known = aclId === OPEN_ACL_UNSAFE_ID ? OPEN_ACL_UNSAFE : acls.get(aclId);
      if (known === undefined) {
        throw new SnapshotCorruptError(file, `node ${path || "/"} has unknown ACL id ${aclId}`, at);
      }
      acl = known;
    }
    lastAclAt = aclAt;
    const reason = sink(
      path === "" ? "/" : path,
      data === NULL_BUFFER ? null : data,
      acl,
      stat,
      where,
    );
    if (reason !== undefined) throw new SnapshotCorruptError(file, reason, at);
  }
}

/** czxid mzxid ctime mtime (longs), version cversion aversion (ints), ephemeralOwner pzxid. */
const STAT_PERSISTED_BYTES = 60;

/**
 * Reads StatPersisted from its 60 bytes: the hot path of a million-node read. A bigint per long
 * is most of a node's allocations, and most are equal to another (a node never changed has
 * mzxid = pzxid = czxid and mtime = ctime; nodes created together share czxid and ctime; most
 * have no ephemeralOwner), so equal values share one bigint: the last of each field is kept.
 */
class StatReader {
  #czxid = 0n;
  #czxidHi = 0;
  #czxidLo = 0;
  #ctime = 0n;
  #ctimeHi = 0;
  #ctimeLo = 0;

  read(b: Buffer, at: number): StatPersisted {
    const czxidHi = intAt(b, at);
    const czxidLo = intAt(b, at + 4);
    if (czxidHi !== this.#czxidHi || czxidLo !== this.#czxidLo) {
      this.#czxid = longOf(czxidHi, czxidLo, b, at);
      this.#czxidHi = czxidHi;
      this.#czxidLo = czxidLo;
    }
    const ctimeHi = intAt(b, at + 16);
    const ctimeLo = intAt(b, at + 20);
    if (ctimeHi !== this.#ctimeHi || ctimeLo !== this.#ctimeLo) {
      this.#ctime = longOf(ctimeHi, ctimeLo, b, at + 16);
      this.#ctimeHi = ctimeHi;
      this.#ctimeLo = ctimeLo;
    }
    const czxid = this.#czxid;
    const ctime = this.#ctime;
    const mzxid = sameLongs(b, at + 8, at) ? czxid : longAt(b, at + 8);
    const pzxid = sameLongs(b, at + 52, at + 8)
      ? mzxid
      : sameLongs(b, at + 52, at)
        ? czxid
        : longAt(b, at + 52);
    return {
      czxid,
      mzxid,
      ctime,
      mtime: sameLongs(b, at + 24, at + 16) ? ctime : longAt(b, at + 24),
      version: intAt(b, at + 32),
      cversion: intAt(b, at + 36),
      aversion: intAt(b, at + 40),
      ephemeralOwner: intAt(b, at + 44) === 0 && intAt(b, at + 48) === 0 ? 0n : longAt(b, at + 44),
      pzxid,
    };
  }
}

function intAt(b: Buffer, at: number): number {
  return (
    ((b[at] as number) << 24) |
    ((b[at + 1] as number) << 16) |
    ((b[at + 2] as number) << 8) |
    (b[at + 3] as number)
  );
}

function sameLongs(b: Buffer, at: number, other: number): boolean {
  if (other < 0) return false;
  return intAt(b, at) === intAt(b, other) && intAt(b, at + 4) === intAt(b, other + 4);
}

function longAt(b: Buffer, at: number): bigint {
  return longOf(intAt(b, at), intAt(b, at + 4), b, at);
}

/**
 * The long whose high and low words are `hi`, `lo` (at `at` of `b`): one bigint made from a
 * double when the value is a safe integer (zxids, times), readBigInt64BE otherwise.
 */
function longOf(hi: number, lo: number, b: Buffer, at: number): bigint {
  if (hi >= -0x1fffff && hi <= 0x1fffff) return BigInt(hi * 4294967296 + (lo >>> 0));
  return b.readBigInt64BE(at);
}

/**
 * DataTree.deserialize's rule: the root first, then each node after its parent; the reason a
 * node breaks it, or undefined. `paths` holds the paths before it (the root as "/").
 */
export function misplaced(path: string, paths: ReadonlySet<string>): string | undefined {
  if (paths.has(path)) return `node ${path} twice`;
  if (path === "/") return undefined;
  const slash = path.lastIndexOf("/");
  if (slash === -1) return `node path ${path} has no "/"`;
  const parent = slash === 0 ? "/" : path.slice(0, slash);
  if (!paths.has(parent)) return `parent ${parent} of ${path} is missing`;
  return undefined;
}

/**
 * Checks the seal at the reader's position against the Adler-32 of bytes [from, seal), continued
 * from `checksum`; returns the checksum through the seal's own bytes, for the next seal.
 */
function readSeal(bytes: Buffer, r: Reader, from: number, checksum: number, file: string): number {
  const at = r.offset;
  const expected = adler32(bytes.subarray(from, at), checksum);
  const stored = r.readLong();
  if (r.readString() !== END_OF_NODES) {
    throw new SnapshotCorruptError(file, `seal at ${at} does not end in "/"`, at);
  }
  if (stored !== BigInt(expected)) {
    const reason = `checksum mismatch: stored ${stored}, computed ${expected} (Adler-32)`;
    throw new SnapshotCorruptError(file, reason, at);
  }
  return adler32(bytes.subarray(at, r.offset), expected);
}

function readDigest(r: Reader, file: string): SnapshotDigest {
  const zxid = r.readLong();
  const version = r.readInt();
  if (version >= 2) return { zxid, version, digest: r.readLong() };
  const at = r.offset;
  const hex = r.readString();
  if (hex === "") return { zxid, version, digest: 0n };
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) {
    throw new SnapshotCorruptError(file, `digest ${JSON.stringify(hex)} is not hex`, at);
  }
  return { zxid, version, digest: BigInt.asIntN(64, BigInt(`0x${hex}`)) };
}
