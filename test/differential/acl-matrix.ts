/**
 * The ACL matrix that the differential ACL suites share (acl.test.ts for world, auth, digest,
 * ip, x509; acl-sasl.test.ts for sasl): for each scheme's ACL, each permission granted alone
 * and all but it, and each session, one znode of its own on which every opcode that may check
 * an ACL is tried in turn: its error code, or its result with the Stat's versions and counts
 * (zxids and times differ between the servers and are left out). The nodes' chains run side by
 * side (one chain per node, each on one session), so the run is pipelined across nodes while
 * each node's ops stay in order. The session named "alice" makes the nodes.
 */
import assert from "node:assert/strict";
import {
  type ACL,
  CreateMode,
  type OpResult,
  Perms,
  type Stat,
  type ZooKeeper,
  ZooKeeperError,
} from "../../src/index.js";

export const id = (scheme: string, value: string) => ({ scheme, id: value });

/** The ACL schemes of the matrix: the ACL each gives for a set of perms. */
export type Schemes = Readonly<Record<string, (perms: number) => ACL[]>>;

const BITS = {
  READ: Perms.READ,
  WRITE: Perms.WRITE,
  CREATE: Perms.CREATE,
  DELETE: Perms.DELETE,
  ADMIN: Perms.ADMIN,
};
/** Each permission alone, then all but it. */
export const PERM_SETS: readonly [string, number][] = Object.entries(BITS).flatMap(
  ([name, bit]): [string, number][] => [
    [name, bit],
    [`not${name}`, Perms.ALL & ~bit],
  ],
);

export function stat(s: Stat | null | undefined): string {
  if (!s) return String(s);
  const owned = s.ephemeralOwner === 0n ? "" : " ephemeral";
  return `v${s.version} cv${s.cversion} av${s.aversion} len${s.dataLength} n${s.numChildren}${owned}`;
}

export function acls(list: readonly ACL[]): string {
  return list.map((a) => `${a.perms}:${a.id.scheme}:${a.id.id}`).join(",");
}

/** What a call answered: a summary of its result, or its error code. */
export async function outcome(call: () => Promise<string>): Promise<string> {
  try {
    return `ok ${await call()}`.trim();
  } catch (error) {
    if (!(error instanceof ZooKeeperError)) throw error;
    // A failed multi: every op's result too (0 before the failing op, -2 after it).
    const results = (error.results as readonly OpResult[] | undefined)?.map((r) =>
      r.type === "error" ? r.err : r.type,
    );
    return `error ${error.code}${results ? ` ${results.join(",")}` : ""}`;
  }
}

/** A call that answers nothing: its outcome is only whether it failed. */
export async function done(call: Promise<unknown>): Promise<string> {
  await call;
  return "";
}

export type Op = readonly [
  name: string,
  call: (zk: ZooKeeper, n: string, acl: ACL[]) => Promise<string>,
];

/** Every opcode that may check an ACL, on node n, in this order; mutations come late. */
export const OPS: readonly Op[] = [
  ["exists", async (zk, n) => stat(await zk.exists(n))],
  ["getData", async (zk, n) => ((r) => `${r.data} ${stat(r.stat)}`)(await zk.getData(n))],
  ["getChildren", async (zk, n) => (await zk.getChildren(n)).sort().join(",")],
  [
    "getChildren2",
    async (zk, n) =>
      ((r) => `${r.children.sort()} ${stat(r.stat)}`)(await zk.getChildrenWithStat(n)),
  ],
  ["getACL", async (zk, n) => ((r) => `${acls(r.acl)} ${stat(r.stat)}`)(await zk.getACL(n))],
  ["getAllChildrenNumber", async (zk, n) => String(await zk.getAllChildrenNumber(n))],
  [
    "multiRead",
    async (zk, n) =>
      JSON.stringify(
        (
          await zk.multiRead([
            { type: "getData", path: n },
            { type: "getChildren", path: n },
          ])
        ).map((r) => (r.type === "error" ? r.err : r.type)),
      ),
  ],
  [
    "multi check",
    async (zk, n) => JSON.stringify(await zk.multi([{ type: "check", path: n, version: 0 }])),
  ],
  ["sync", async (zk, n) => zk.sync(n)],
  ["addWatch", async (zk, n) => done(zk.addWatch(n, { recursive: true }))],
  ["exists+watch", async (zk, n) => stat(await zk.exists(n, { watch: () => {} }))],
  ["removeWatches", async (zk, n) => done(zk.removeWatches(n, "Data"))],
  ["create", async (zk, n) => zk.create(`${n}/new`, "a")],
  [
    "create2",
    async (zk, n) => ((r) => `${r.path} ${stat(r.stat)}`)(await zk.createWithStat(`${n}/new2`)),
  ],
  [
    "createContainer",
    async (zk, n) => zk.create(`${n}/container`, "", { mode: CreateMode.CONTAINER }),
  ],
  [
    "createTTL",
    async (zk, n) =>
      zk.create(`${n}/ttl`, "", { mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs: 600_000 }),
  ],
  ["create ephemeral", async (zk, n) => zk.create(`${n}/eph`, "", { mode: CreateMode.EPHEMERAL })],
  [
    "create sequential",
    async (zk, n) => zk.create(`${n}/seq-`, "", { mode: CreateMode.PERSISTENT_SEQUENTIAL }),
  ],
  // fixupACL comes before the parent's check: "auth" without an authenticated id is INVALIDACL.
  ["create with the node's ACL", async (zk, n, acl) => zk.create(`${n}/same-acl`, "", { acl })],
  ["create existing", async (zk, n) => zk.create(`${n}/c`)],
  ["getEphemerals", async (zk, n) => (await zk.getEphemerals(n)).join(",")],
  ["setData bad version", async (zk, n) => stat(await zk.setData(n, "x", { version: 99 }))],
  ["setData", async (zk, n) => stat(await zk.setData(n, "new"))],
  [
    "multi setData",
    async (zk, n) =>
      JSON.stringify((await zk.multi([{ type: "setData", path: n, data: "m" }])).length),
  ],
  ["delete missing", async (zk, n) => done(zk.delete(`${n}/missing`))],
  ["delete not empty", async (zk, n) => done(zk.delete(`${n}/c`))],
  ["delete", async (zk, n) => done(zk.delete(`${n}/leaf`))],
  [
    "multi delete",
    async (zk, n) => JSON.stringify(await zk.multi([{ type: "delete", path: `${n}/leaf2` }])),
  ],
  [
    "multi mixed",
    async (zk, n) =>
      JSON.stringify(
        (
          await zk.multi([
            { type: "create", path: `${n}/mixed` },
            { type: "setData", path: n, data: "mixed" },
            { type: "check", path: n, version: -1 },
            { type: "delete", path: `${n}/mixed` },
          ])
        ).map((r) => r.type),
      ),
  ],
  [
    "multi create",
    async (zk, n) => JSON.stringify((await zk.multi([{ type: "create", path: `${n}/mc` }])).length),
  ],
  ["setACL bad version", async (zk, n, acl) => stat(await zk.setACL(n, acl, { version: 99 }))],
  ["setACL", async (zk, n, acl) => stat(await zk.setACL(n, acl))],
  [
    "getData after setACL",
    async (zk, n) => ((r) => `${r.data} ${stat(r.stat)}`)(await zk.getData(n)),
  ],
  ["getChildren after", async (zk, n) => (await zk.getChildren(n)).sort().join(",")],
];

/**
 * What ZooKeeper 3.8 answers without an ACL check: exists, sync, getEphemerals, addWatch (3.8.0
 * checks no READ for a persistent watch), removeWatches; a multiRead answers ok with an error
 * per read inside.
 */
export const UNCHECKED = [
  "exists",
  "multiRead",
  "sync",
  "addWatch",
  "exists+watch",
  "removeWatches",
  "getEphemerals",
];

export const nodePath = (scheme: string, perms: string, session: string) =>
  `/acl/${scheme}/${perms}/${session}`;

/** alice makes every node open, with the children the ops need, then gives it its ACL. */
export async function makeNodes(
  zk: ZooKeeper,
  schemes: Schemes,
  sessions: string[],
): Promise<void> {
  await zk.create("/acl");
  await Promise.all(Object.keys(schemes).map((s) => zk.create(`/acl/${s}`)));
  await Promise.all(
    Object.keys(schemes).flatMap((s) => PERM_SETS.map(([p]) => zk.create(`/acl/${s}/${p}`))),
  );
  const chains: Promise<unknown>[] = [];
  for (const [scheme, aclOf] of Object.entries(schemes)) {
    for (const [perms, bits] of PERM_SETS) {
      for (const session of sessions) {
        const n = nodePath(scheme, perms, session);
        chains.push(
          zk.create(n, "d"),
          zk.create(`${n}/c`),
          zk.create(`${n}/c/grandchild`),
          zk.create(`${n}/leaf`),
          zk.create(`${n}/leaf2`),
          zk.setACL(n, aclOf(bits)),
        );
      }
    }
  }
  await Promise.all(chains);
}

/** Every (scheme, perms, session, op) of the matrix and what it answered on one server. */
export async function runMatrix(
  sessions: ReadonlyMap<string, ZooKeeper>,
  schemes: Schemes,
): Promise<Map<string, string>> {
  await makeNodes(sessions.get("alice") as ZooKeeper, schemes, [...sessions.keys()]);
  const answers = new Map<string, string>();
  const chains: Promise<void>[] = [];
  for (const [scheme, aclOf] of Object.entries(schemes)) {
    for (const [perms, bits] of PERM_SETS) {
      for (const [session, zk] of sessions) {
        const n = nodePath(scheme, perms, session);
        chains.push(
          (async () => {
            for (const [op, call] of OPS) {
              answers.set(
                `${scheme} ${perms} ${session} ${op}`,
                await outcome(() => call(zk, n, aclOf(bits))),
              );
            }
          })(),
        );
      }
    }
  }
  await Promise.all(chains);
  return answers;
}

/**
 * The matrix on both servers, side by side, required to answer alike. Then which opcodes
 * checked an ACL at all, by Apache ZooKeeper's answers: each that checks was refused somewhere
 * and passed somewhere, so a server that checked nothing, or refused everything, would have
 * differed; those that check nothing were never refused.
 */
export async function compareMatrix(
  apache: ReadonlyMap<string, ZooKeeper>,
  zkts: ReadonlyMap<string, ZooKeeper>,
  schemes: Schemes,
): Promise<void> {
  const [expected, actual] = await Promise.all([
    runMatrix(apache, schemes),
    runMatrix(zkts, schemes),
  ]);
  const cases = Object.keys(schemes).length * PERM_SETS.length * apache.size * OPS.length;
  assert.equal(expected.size, cases);
  const differences = [...expected]
    .filter(([key, answer]) => actual.get(key) !== answer)
    .map(([key, answer]) => `${key}: Apache ${answer}, zkts ${actual.get(key)}`);
  assert.deepEqual(differences.slice(0, 40), [], `${differences.length} of ${cases} differ`);
  const seen = new Map<string, Set<string>>();
  for (const [key, answer] of expected) {
    const op = key.split(" ").slice(3).join(" ");
    const kinds = seen.get(op) ?? new Set<string>();
    kinds.add(answer.startsWith("error -102") ? "NOAUTH" : "other");
    seen.set(op, kinds);
  }
  const unchecked = OPS.map(([op]) => op).filter((op) => !seen.get(op)?.has("NOAUTH"));
  assert.deepEqual(unchecked, UNCHECKED, "the opcodes that check no ACL");
  for (const [op, kinds] of seen) assert.ok(kinds.has("other"), `${op} passed somewhere`);
}

export type EdgeStep = readonly [
  name: string,
  session: string,
  call: (zk: ZooKeeper) => Promise<string>,
];

export const createWith = (path: string, acl: readonly ACL[]) => async (zk: ZooKeeper) =>
  `${await zk.create(path, "e", { acl })} ${acls((await zk.getACL(path)).acl)}`;
