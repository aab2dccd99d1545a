/**
 * Someone else's client against zkts's server: node-zookeeper-client 1.1.3 (npm, pure JS,
 * written for ZooKeeper 3.4). Each test runs the same steps against zkts and, where Java is
 * installed, against Apache ZooKeeper 3.8, asserts what ZooKeeper's semantics say on each, and
 * then requires the two transcripts to be equal once zxids (relative to the step's first),
 * times and session ids are normalized.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";
import { digestId } from "../../src/index.js";
import { apacheZooKeeperSkip, type ZooKeeperProcess } from "../harness/apache-zookeeper.js";
import { within } from "../harness/client-helpers.js";
import {
  type ServerKind,
  SUPER_PASSWORD,
  SUPER_USER,
  startServerOf,
  uniquePath,
} from "./fixture.js";

// node-zookeeper-client is CommonJS and untyped: the part of it these tests use.
type Callback<T extends unknown[]> = (
  error: NzcException | null | undefined,
  ...results: T
) => void;

interface NzcException extends Error {
  getCode(): number;
  getName(): string;
}

interface NzcId {
  readonly scheme: string;
  readonly id: string;
}

interface NzcAcl {
  readonly permission: number;
  readonly id: NzcId;
}

/** jute longs arrive as 8-byte big-endian Buffers. */
interface NzcStat {
  readonly czxid: Buffer;
  readonly mzxid: Buffer;
  readonly ctime: Buffer;
  readonly mtime: Buffer;
  readonly version: number;
  readonly cversion: number;
  readonly aversion: number;
  readonly ephemeralOwner: Buffer;
  readonly dataLength: number;
  readonly numChildren: number;
  readonly pzxid: Buffer;
}

interface NzcEvent {
  readonly type: number;
  readonly name: string;
  readonly path: string;
}

type Watcher = (event: NzcEvent) => void;

interface NzcTransaction {
  create(path: string, data: Buffer | null, acls: NzcAcl[], mode: number): NzcTransaction;
  setData(path: string, data: Buffer | null, version: number): NzcTransaction;
  check(path: string, version: number): NzcTransaction;
  remove(path: string, version: number): NzcTransaction;
  commit(callback: Callback<[NzcOpResult[]]>): void;
}

interface NzcOpResult {
  readonly type: number;
  readonly path?: string;
  readonly stat?: NzcStat;
  readonly err?: number;
}

interface NzcClient {
  once(event: "connected" | "disconnected", listener: () => void): void;
  connect(): void;
  close(): void;
  getSessionId(): Buffer;
  getSessionPassword(): Buffer;
  getSessionTimeout(): number;
  create(
    path: string,
    data: Buffer | null,
    acls: NzcAcl[],
    mode: number,
    callback: Callback<[string]>,
  ): void;
  remove(path: string, version: number, callback: Callback<[]>): void;
  exists(path: string, watcher: Watcher | undefined, callback: Callback<[NzcStat | null]>): void;
  getChildren(
    path: string,
    watcher: Watcher | undefined,
    callback: Callback<[string[], NzcStat]>,
  ): void;
  getData(
    path: string,
    watcher: Watcher | undefined,
    callback: Callback<[Buffer | undefined, NzcStat]>,
  ): void;
  setData(path: string, data: Buffer | null, version: number, callback: Callback<[NzcStat]>): void;
  getACL(path: string, callback: Callback<[NzcAcl[], NzcStat]>): void;
  setACL(path: string, acls: NzcAcl[], version: number, callback: Callback<[NzcStat]>): void;
  transaction(): NzcTransaction;
  addAuthInfo(scheme: string, auth: Buffer): void;
}

interface NzcModule {
  createClient(connectString: string, options?: { sessionTimeout?: number }): NzcClient;
  readonly ACL: (new (
    permission: number,
    id: NzcId,
  ) => NzcAcl) & {
    readonly OPEN_ACL_UNSAFE: NzcAcl[];
    readonly CREATOR_ALL_ACL: NzcAcl[];
  };
  readonly Id: new (scheme: string, id: string) => NzcId;
  readonly Permission: { readonly READ: number; readonly ALL: number };
  readonly CreateMode: {
    readonly PERSISTENT: number;
    readonly EPHEMERAL: number;
    readonly PERSISTENT_SEQUENTIAL: number;
    readonly EPHEMERAL_SEQUENTIAL: number;
  };
}

const nzc = createRequire(import.meta.url)("node-zookeeper-client") as NzcModule;
const { ACL, Id, CreateMode, Permission } = nzc;
const OPEN = ACL.OPEN_ACL_UNSAFE;

const CONNECT_TIMEOUT_MS = 15_000;
const EVENT_TIMEOUT_MS = 10_000;
/** Our server's clock and the test's are the same machine's: times must be about now. */
const CLOCK_SLACK_MS = 60_000;

/** Multi result types (ZooDefs.OpCode). */
const OP = { create: 1, delete: 2, setData: 5, check: 13, error: -1 } as const;

/** A connected node-zookeeper-client with promises, recording what it sees in a transcript. */
class Session {
  readonly client: NzcClient;

  private constructor(client: NzcClient) {
    this.client = client;
  }

  static async open(connectString: string): Promise<Session> {
    const client = nzc.createClient(connectString, { sessionTimeout: 30_000 });
    const connected = new Promise<void>((resolve) => client.once("connected", resolve));
    client.connect();
    await within(
      connected,
      CONNECT_TIMEOUT_MS,
      `node-zookeeper-client connect to ${connectString}`,
    );
    return new Session(client);
  }

  get sessionId(): bigint {
    return this.client.getSessionId().readBigInt64BE(0);
  }

  create(
    path: string,
    data?: string | null,
    mode = CreateMode.PERSISTENT,
    acls = OPEN,
  ): Promise<string> {
    return call<[string]>((cb) => this.client.create(path, buffer(data), acls, mode, cb)).then(
      ([created]) => created,
    );
  }

  remove(path: string, version = -1): Promise<void> {
    return call<[]>((cb) => this.client.remove(path, version, cb)).then(() => undefined);
  }

  exists(path: string, watcher?: Watcher): Promise<NzcStat | null> {
    return call<[NzcStat | null]>((cb) => this.client.exists(path, watcher, cb)).then(
      ([stat]) => stat,
    );
  }

  getChildren(path: string, watcher?: Watcher): Promise<[string[], NzcStat]> {
    return call<[string[], NzcStat]>((cb) => this.client.getChildren(path, watcher, cb));
  }

  getData(path: string, watcher?: Watcher): Promise<[Buffer | undefined, NzcStat]> {
    return call<[Buffer | undefined, NzcStat]>((cb) => this.client.getData(path, watcher, cb));
  }

  setData(path: string, data: string | null, version = -1): Promise<NzcStat> {
    return call<[NzcStat]>((cb) => this.client.setData(path, buffer(data), version, cb)).then(
      ([stat]) => stat,
    );
  }

  getACL(path: string): Promise<[NzcAcl[], NzcStat]> {
    return call<[NzcAcl[], NzcStat]>((cb) => this.client.getACL(path, cb));
  }

  setACL(path: string, acls: NzcAcl[], version = -1): Promise<NzcStat> {
    return call<[NzcStat]>((cb) => this.client.setACL(path, acls, version, cb)).then(
      ([stat]) => stat,
    );
  }

  /** Commits; resolves with the error code (0 if it succeeded) and the per-op results. */
  commit(transaction: NzcTransaction): Promise<{ code: number; results: NzcOpResult[] }> {
    return new Promise((resolve) =>
      transaction.commit((error, results) =>
        resolve({ code: error ? error.getCode() : 0, results }),
      ),
    );
  }

  /** Closes the session and waits until the server has dropped the connection. */
  async close(): Promise<void> {
    const disconnected = new Promise<void>((resolve) => this.client.once("disconnected", resolve));
    this.client.close();
    await within(disconnected, EVENT_TIMEOUT_MS, "node-zookeeper-client close");
  }
}

function buffer(data: string | null | undefined): Buffer | null {
  return data === null || data === undefined ? null : Buffer.from(data);
}

/** Runs a callback-style call; rejects with node-zookeeper-client's exception. */
function call<T extends unknown[]>(start: (callback: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    start((error, ...results) => (error ? reject(error) : resolve(results))),
  );
}

/** The ZooKeeper error code a call failed with; fails the test if it succeeded. */
async function errorCode(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    if (typeof (error as NzcException).getCode === "function")
      return (error as NzcException).getCode();
    throw error;
  }
  assert.fail("expected the call to fail");
}

/** A one-shot watcher and the promise of its event, as "NAME path". */
function watcher(): { watch: Watcher; fired: Promise<string> } {
  let watch!: Watcher;
  const fired = new Promise<string>((resolve) => {
    watch = (event) => resolve(`${event.name} ${event.path}`);
  });
  return { watch, fired: within(fired, EVENT_TIMEOUT_MS, "watch event") };
}

/**
 * What one server answered, in a form the other can be compared with: zxids relative to the
 * first one the step saw, times checked to be about now and then dropped, session ids named.
 */
class Transcript {
  readonly lines: unknown[] = [];
  private baseZxid: bigint | undefined;
  private readonly sessions = new Map<bigint, string>();

  constructor(sessions: Readonly<Record<string, Session>> = {}) {
    for (const [name, session] of Object.entries(sessions))
      this.sessions.set(session.sessionId, name);
    this.sessions.set(0n, "none");
  }

  name(session: Session, as: string): void {
    this.sessions.set(session.sessionId, as);
  }

  add(what: string, value: unknown): void {
    this.lines.push([what, value]);
  }

  zxid(value: Buffer): string {
    const zxid = value.readBigInt64BE(0);
    this.baseZxid ??= zxid;
    return `z${zxid - this.baseZxid >= 0n ? "+" : ""}${zxid - this.baseZxid}`;
  }

  stat(stat: NzcStat): Record<string, unknown> {
    const now = Date.now();
    for (const field of ["ctime", "mtime"] as const) {
      const time = Number(stat[field].readBigInt64BE(0));
      assert.ok(
        Math.abs(time - now) < CLOCK_SLACK_MS,
        `${field} ${time} is not about now (${now})`,
      );
    }
    const owner = stat.ephemeralOwner.readBigInt64BE(0);
    return {
      czxid: this.zxid(stat.czxid),
      mzxid: this.zxid(stat.mzxid),
      pzxid: this.zxid(stat.pzxid),
      ctimeLeMtime: stat.ctime.readBigInt64BE(0) <= stat.mtime.readBigInt64BE(0),
      version: stat.version,
      cversion: stat.cversion,
      aversion: stat.aversion,
      ephemeralOwner: this.sessions.get(owner) ?? `unknown session 0x${owner.toString(16)}`,
      dataLength: stat.dataLength,
      numChildren: stat.numChildren,
    };
  }

  acls(acls: NzcAcl[]): string[] {
    return acls.map((acl) => `${acl.id.scheme}:${acl.id.id}:${acl.permission}`);
  }

  results(results: NzcOpResult[]): unknown[] {
    return results.map((result) => ({
      type: result.type,
      ...(result.path !== undefined && { path: result.path }),
      ...(result.stat !== undefined && { stat: this.stat(result.stat) }),
      ...(result.err !== undefined && { err: result.err }),
    }));
  }
}

describe("node-zookeeper-client against zkts (and Apache ZooKeeper)", () => {
  const servers: { kind: ServerKind; server: ZooKeeperProcess }[] = [];
  const open: Session[] = [];

  before(async () => {
    servers.push({ kind: "zkts", server: await startServerOf("zkts") });
    if (apacheZooKeeperSkip() === false) {
      servers.push({ kind: "apache", server: await startServerOf("apache") });
    }
  });

  after(async () => {
    await Promise.allSettled(open.map((session) => session.close()));
    await Promise.allSettled(servers.map(({ server }) => server.stop()));
  });

  async function session(server: ZooKeeperProcess): Promise<Session> {
    const opened = await Session.open(server.connectString);
    open.push(opened);
    return opened;
  }

  async function closed(s: Session): Promise<void> {
    open.splice(open.indexOf(s), 1);
    await s.close();
  }

  /**
   * Runs `steps` against every server (zkts first), each under the same fresh base path, and
   * requires every server's transcript to equal zkts's.
   */
  async function onEveryServer(
    name: string,
    steps: (server: ZooKeeperProcess, base: string, transcript: Transcript) => Promise<void>,
  ): Promise<void> {
    const base = uniquePath(name);
    const transcripts: { kind: ServerKind; lines: unknown[] }[] = [];
    for (const { kind, server } of servers) {
      const transcript = new Transcript();
      try {
        await steps(server, base, transcript);
      } catch (error) {
        throw new Error(`against ${kind}: ${(error as Error).message}`, { cause: error });
      }
      transcripts.push({ kind, lines: transcript.lines });
    }
    const [zkts, ...others] = transcripts;
    for (const other of others) {
      assert.deepEqual(zkts!.lines, other.lines, `zkts's transcript differs from ${other.kind}'s`);
    }
  }

  test("connects: a session id, a 16-byte password, the timeout it asked for", async () => {
    await onEveryServer("connect", async (server, _base, transcript) => {
      const s = await session(server);
      assert.notEqual(s.sessionId, 0n);
      assert.equal(s.client.getSessionPassword().length, 16);
      assert.equal(s.client.getSessionTimeout(), 30_000);
      const root = await s.exists("/");
      assert.ok(root);
      const zookeeper = await s.getChildren("/zookeeper");
      transcript.add("/zookeeper children", zookeeper[0].sort());
      await closed(s);
    });
  });

  test("create: persistent, ephemeral, sequential; the errors ZooKeeper gives", async () => {
    await onEveryServer("create", async (server, base, transcript) => {
      const s = await session(server);
      transcript.name(s, "self");
      assert.equal(await s.create(base, "base"), base);
      assert.equal(await s.create(`${base}/p`, "persistent"), `${base}/p`);
      assert.equal(await s.create(`${base}/e`, "ephemeral", CreateMode.EPHEMERAL), `${base}/e`);
      // The suffix is the parent's cversion (2 children created so far), as %010d.
      assert.equal(
        await s.create(`${base}/s-`, "seq", CreateMode.PERSISTENT_SEQUENTIAL),
        `${base}/s-0000000002`,
      );
      assert.equal(
        await s.create(`${base}/es-`, null, CreateMode.EPHEMERAL_SEQUENTIAL),
        `${base}/es-0000000003`,
      );
      assert.equal(
        await s.create(`${base}/s-`, "", CreateMode.PERSISTENT_SEQUENTIAL),
        `${base}/s-0000000004`,
      );
      for (const child of ["p", "e", "s-0000000002", "es-0000000003", "s-0000000004"]) {
        const stat = await s.exists(`${base}/${child}`);
        assert.ok(stat, child);
        transcript.add(`stat ${child}`, transcript.stat(stat));
      }
      const ephemeral = await s.exists(`${base}/e`);
      assert.equal(ephemeral?.ephemeralOwner.readBigInt64BE(0), s.sessionId);
      assert.equal((await s.exists(`${base}/p`))?.ephemeralOwner.readBigInt64BE(0), 0n);
      const [children, parent] = await s.getChildren(base);
      assert.deepEqual(children.sort(), [
        "e",
        "es-0000000003",
        "p",
        "s-0000000002",
        "s-0000000004",
      ]);
      assert.equal(parent.numChildren, 5);
      assert.equal(parent.cversion, 5);
      transcript.add("parent", transcript.stat(parent));
      assert.equal(await errorCode(s.create(`${base}/p`)), -110, "NODEEXISTS");
      assert.equal(await errorCode(s.create(`${base}/missing/x`)), -101, "NONODE");
      assert.equal(await errorCode(s.create(`${base}/e/x`)), -108, "NOCHILDRENFOREPHEMERALS");
      // A failed create does not bump the parent's cversion.
      assert.equal((await s.exists(base))?.cversion, 5);
      await closed(s);
    });
  });

  test("getData and setData, with and without versions", async () => {
    await onEveryServer("data", async (server, base, transcript) => {
      const s = await session(server);
      await s.create(base, "v0");
      const [data, stat] = await s.getData(base);
      assert.equal(data?.toString(), "v0");
      assert.equal(stat.version, 0);
      assert.equal(stat.dataLength, 2);
      transcript.add("created", transcript.stat(stat));
      const set1 = await s.setData(base, "v1", 0);
      assert.equal(set1.version, 1);
      transcript.add("set with version 0", transcript.stat(set1));
      assert.equal(await errorCode(s.setData(base, "stale", 0)), -103, "BADVERSION");
      const set2 = await s.setData(base, "longer value", -1);
      assert.equal(set2.version, 2);
      assert.equal(set2.dataLength, 12);
      const [after, afterStat] = await s.getData(base);
      assert.equal(after?.toString(), "longer value");
      assert.deepEqual(afterStat, set2);
      transcript.add("set with version -1", transcript.stat(afterStat));
      assert.equal((await s.setData(base, "", 2)).dataLength, 0);
      const [empty, emptyStat] = await s.getData(base);
      assert.equal(empty?.length, 0);
      transcript.add("empty data", transcript.stat(emptyStat));
      assert.equal(await errorCode(s.getData(`${base}/missing`)), -101, "NONODE");
      assert.equal(await errorCode(s.setData(`${base}/missing`, "x")), -101, "NONODE");
      await closed(s);
    });
  });

  test("a znode created without data reads back as null (length -1), not as empty", async () => {
    await onEveryServer("null-data", async (server, base, transcript) => {
      const s = await session(server);
      // A create's data may be null on the wire (its setData cannot send one).
      await s.create(base, null);
      await s.create(`${base}/empty`, "");
      const [none, noneStat] = await s.getData(base);
      const [empty] = await s.getData(`${base}/empty`);
      assert.equal(noneStat.dataLength, 0);
      assert.equal(none, undefined, "node-zookeeper-client reads a null buffer as undefined");
      assert.equal(empty?.length, 0);
      transcript.add("null data", transcript.stat(noneStat));
      await closed(s);
    });
  });

  test("watchers fire: getChildren, exists on a missing node, getData", async () => {
    await onEveryServer("watch", async (server, base, transcript) => {
      const s = await session(server);
      const writer = await session(server);
      await s.create(base);
      const children = watcher();
      const [none] = await s.getChildren(base, children.watch);
      assert.deepEqual(none, []);
      const created = watcher();
      assert.equal(await s.exists(`${base}/c`, created.watch), null);
      await writer.create(`${base}/c`, "x");
      assert.equal(await children.fired, `NODE_CHILDREN_CHANGED ${base}`);
      assert.equal(await created.fired, `NODE_CREATED ${base}/c`);
      const changed = watcher();
      await s.getData(`${base}/c`, changed.watch);
      await writer.setData(`${base}/c`, "y");
      assert.equal(await changed.fired, `NODE_DATA_CHANGED ${base}/c`);
      const deleted = watcher();
      const again = watcher();
      await s.getData(`${base}/c`, deleted.watch);
      const [one] = await s.getChildren(base, again.watch);
      assert.deepEqual(one, ["c"]);
      await writer.remove(`${base}/c`);
      assert.equal(await deleted.fired, `NODE_DELETED ${base}/c`);
      assert.equal(await again.fired, `NODE_CHILDREN_CHANGED ${base}`);
      transcript.add("parent after", transcript.stat((await s.exists(base))!));
      await closed(writer);
      await closed(s);
    });
  });

  test("exists and remove, with versions", async () => {
    await onEveryServer("remove", async (server, base, transcript) => {
      const s = await session(server);
      await s.create(base);
      await s.create(`${base}/child`, "c");
      await s.setData(`${base}/child`, "d");
      assert.equal(await s.exists(`${base}/nothing`), null);
      assert.equal(await errorCode(s.remove(base)), -111, "NOTEMPTY");
      assert.equal(await errorCode(s.remove(`${base}/child`, 0)), -103, "BADVERSION");
      assert.equal(await errorCode(s.remove(`${base}/nothing`)), -101, "NONODE");
      await s.remove(`${base}/child`, 1);
      assert.equal(await s.exists(`${base}/child`), null);
      const parent = await s.exists(base);
      assert.ok(parent);
      assert.equal(parent.numChildren, 0);
      assert.equal(parent.cversion, 2);
      transcript.add("parent", transcript.stat(parent));
      await s.remove(base, 0);
      assert.equal(await s.exists(base), null);
      await closed(s);
    });
  });

  test("transaction: all of it or none of it, with per-op results", async () => {
    await onEveryServer("multi", async (server, base, transcript) => {
      const s = await session(server);
      await s.create(base);
      // node-zookeeper-client's transaction turns a version 0 into -1 (`version || -1`).
      const ok = await s.commit(
        s.client
          .transaction()
          .create(`${base}/a`, Buffer.from("a"), OPEN, CreateMode.PERSISTENT)
          .create(`${base}/s-`, null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL)
          .setData(`${base}/a`, Buffer.from("a1"), -1)
          .setData(`${base}/a`, Buffer.from("a2"), 1)
          .check(`${base}/a`, 2)
          .remove(`${base}/s-0000000001`, -1),
      );
      assert.equal(ok.code, 0);
      assert.deepEqual(
        ok.results.map((r) => [r.type, r.path ?? null]),
        [
          [OP.create, `${base}/a`],
          [OP.create, `${base}/s-0000000001`],
          [OP.setData, null],
          [OP.setData, null],
          [OP.check, null],
          [OP.delete, null],
        ],
      );
      assert.equal(ok.results[3]?.stat?.version, 2);
      transcript.add("committed", transcript.results(ok.results));
      const [children] = await s.getChildren(base);
      assert.deepEqual(children, ["a"]);

      const failed = await s.commit(
        s.client
          .transaction()
          .create(`${base}/b`, null, OPEN, CreateMode.PERSISTENT)
          .check(`${base}/a`, 1)
          .setData(`${base}/a`, Buffer.from("never"), -1),
      );
      assert.equal(failed.code, -103, "BADVERSION");
      // ZooKeeper: OK for the ops before the failing one, its error, RUNTIMEINCONSISTENCY after.
      assert.deepEqual(
        failed.results.map((r) => [r.type, r.err]),
        [
          [OP.error, 0],
          [OP.error, -103],
          [OP.error, -2],
        ],
      );
      transcript.add("failed", transcript.results(failed.results));
      assert.equal(await s.exists(`${base}/b`), null);
      const [data, stat] = await s.getData(`${base}/a`);
      assert.equal(data?.toString(), "a2");
      assert.equal(stat.version, 2);
      transcript.add("a", transcript.stat(stat));
      await closed(s);
    });
  });

  test("ACLs: digest auth with addAuthInfo, auth scheme, setACL versions, the super user", async () => {
    await onEveryServer("acl", async (server, base, transcript) => {
      const alice = await session(server);
      const stranger = await session(server);
      alice.client.addAuthInfo("digest", Buffer.from("alice:secret"));
      const aliceId = new Id("digest", digestId("alice", "secret"));
      await alice.create(base, "secret", CreateMode.PERSISTENT, [new ACL(Permission.ALL, aliceId)]);
      const [acls, stat] = await alice.getACL(base);
      assert.deepEqual(transcript.acls(acls), [`digest:${digestId("alice", "secret")}:31`]);
      assert.equal(stat.aversion, 0);
      assert.equal((await alice.getData(base))[0]?.toString(), "secret");
      // ZooKeeper 3.8 wants READ or ADMIN for getACL (ZOOKEEPER-1392).
      assert.equal(await errorCode(stranger.getACL(base)), -102, "NOAUTH");
      assert.equal(await stranger.exists(`${base}/x`), null, "exists needs no permission");
      assert.equal(await errorCode(stranger.getData(base)), -102, "NOAUTH");
      assert.equal(await errorCode(stranger.setData(base, "x")), -102, "NOAUTH");
      assert.equal(await errorCode(stranger.create(`${base}/x`)), -102, "NOAUTH");

      // The auth scheme: every id the creating session authenticated with.
      await alice.create(`${base}/mine`, "m", CreateMode.PERSISTENT, ACL.CREATOR_ALL_ACL);
      transcript.add("auth scheme", transcript.acls((await alice.getACL(`${base}/mine`))[0]));
      assert.equal(
        await errorCode(
          stranger.create(`${base}-unauthed`, null, CreateMode.PERSISTENT, ACL.CREATOR_ALL_ACL),
        ),
        -114,
        "INVALIDACL",
      );

      // setACL checks the aversion.
      const readOnly = [
        new ACL(Permission.READ, new Id("world", "anyone")),
        new ACL(Permission.ALL, aliceId),
      ];
      const set = await alice.setACL(base, readOnly, 0);
      assert.equal(set.aversion, 1);
      assert.equal(await errorCode(alice.setACL(base, readOnly, 0)), -103, "BADVERSION");
      assert.equal((await stranger.getData(base))[0]?.toString(), "secret");
      assert.equal(await errorCode(stranger.setData(base, "x")), -102, "NOAUTH");
      transcript.add("after setACL", [
        transcript.acls((await stranger.getACL(base))[0]),
        transcript.stat(set),
      ]);

      // Adding the digest later lets the stranger in; so does the super user.
      stranger.client.addAuthInfo("digest", Buffer.from("alice:secret"));
      assert.equal((await stranger.setData(base, "shared")).version, 1);
      const admin = await session(server);
      admin.client.addAuthInfo("digest", Buffer.from(`${SUPER_USER}:${SUPER_PASSWORD}`));
      assert.equal((await admin.getData(`${base}/mine`))[0]?.toString(), "m");
      await admin.remove(`${base}/mine`);
      await closed(admin);
      await closed(stranger);
      await closed(alice);
    });
  });

  test("closing a session removes its ephemerals and fires their watches", async () => {
    await onEveryServer("close", async (server, base, transcript) => {
      const owner = await session(server);
      const observer = await session(server);
      transcript.name(owner, "owner");
      await observer.create(base);
      const e = await owner.create(`${base}/e`, "e", CreateMode.EPHEMERAL);
      const es = await owner.create(`${base}/es-`, "es", CreateMode.EPHEMERAL_SEQUENTIAL);
      assert.equal(es, `${base}/es-0000000001`);
      transcript.add("ephemeral", transcript.stat((await observer.exists(e))!));
      const gone = watcher();
      const goneToo = watcher();
      const children = watcher();
      await observer.exists(e, gone.watch);
      await observer.getData(es, goneToo.watch);
      await observer.getChildren(base, children.watch);
      await closed(owner);
      assert.equal(await gone.fired, `NODE_DELETED ${e}`);
      assert.equal(await goneToo.fired, `NODE_DELETED ${es}`);
      assert.equal(await children.fired, `NODE_CHILDREN_CHANGED ${base}`);
      assert.equal(await observer.exists(e), null);
      assert.equal(await observer.exists(es), null);
      const [left, parent] = await observer.getChildren(base);
      assert.deepEqual(left, []);
      transcript.add("parent", transcript.stat(parent));
      await closed(observer);
    });
  });
});
