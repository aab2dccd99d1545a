/**
 * `zkts demo mutex|election`: the classic lab's two recipes, live, against a server (default
 * 127.0.0.1:2181, the one `npm start` runs). Each prints a timeline, one line per event with the
 * time since the start: who waits, who holds, who leads. Only the public client and recipes are
 * used. Everything the demo creates is deleted and every session closed before it exits.
 *
 * Exit 0 when the demo ran and its check held; 1 when the server is unreachable, something
 * failed, or the mutex counter is off; 2 for bad arguments. Failures print one line on stderr.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { connect, type ZooKeeper } from "../../index.js";
import { LeaderElection, Mutex } from "../../recipes/index.js";

export const DEMO_USAGE = `usage: zkts demo <mutex|election> [options]

  zkts demo mutex [--workers N] [--rounds N] [--hold-ms MS] [--server host:port]
      N workers, each in its own session, take a Mutex in turn and increment a counter stored
      in a znode with a plain read-then-write; the final value must be workers × rounds.
      Each lock node holds its worker's name, so the dashboard's Recipes view shows who holds.
      --hold-ms keeps each lock that long before releasing it (0 to 600000), long enough to
      watch holder and queue on the dashboard. Defaults: --workers 5, --rounds 3, --hold-ms 0.

  zkts demo election [--candidates N] [--kill-leader] [--server host:port]
      N candidates, each in its own session, stand in a LeaderElection. Once one leads, it
      resigns (or, with --kill-leader, another client takes over its session and closes it)
      and the next in line takes over. Default: --candidates 3.

  --server defaults to 127.0.0.1:2181 (npm start).`;

const DEFAULT_SERVER = "127.0.0.1:2181";
/** How long to try to reach the server before giving up with exit 1. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Bound on any wait for an election event, so a broken server cannot hang the demo. */
const EVENT_TIMEOUT_MS = 30_000;

/** A bad argument: one line on stderr, exit 2. */
class UsageError extends Error {
  override readonly name = "UsageError";
}

interface MutexDemo {
  readonly kind: "mutex";
  readonly server: string;
  readonly workers: number;
  readonly rounds: number;
  readonly holdMs: number;
}

interface ElectionDemo {
  readonly kind: "election";
  readonly server: string;
  readonly candidates: number;
  readonly killLeader: boolean;
}

/** Runs `zkts demo` with the arguments after "demo"; resolves with the exit code. */
export async function demoCommand(argv: readonly string[]): Promise<number> {
  let demo: MutexDemo | ElectionDemo | "help";
  try {
    demo = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return fail(error.message, 2);
  }
  if (demo === "help") {
    console.log(DEMO_USAGE);
    return 0;
  }
  try {
    return demo.kind === "mutex" ? await mutexDemo(demo) : await electionDemo(demo);
  } catch (error) {
    return fail((error as Error).message, 1);
  }
}

function parse(argv: readonly string[]): MutexDemo | ElectionDemo | "help" {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    // parseArgs explains at length; the first sentence says what was wrong.
    throw new UsageError((error as Error).message.split(". ")[0]!);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  const [kind, ...extra] = positionals;
  if (kind === undefined) throw new UsageError("which demo? mutex or election (try --help)");
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const server = values.server ?? DEFAULT_SERVER;
  if (kind === "mutex") {
    refuse(values, ["candidates", "kill-leader"], kind);
    return {
      kind,
      server,
      workers: count("--workers", values.workers, 5),
      rounds: count("--rounds", values.rounds, 3),
      holdMs: milliseconds("--hold-ms", values["hold-ms"]),
    };
  }
  if (kind === "election") {
    refuse(values, ["workers", "rounds", "hold-ms"], kind);
    return {
      kind,
      server,
      candidates: count("--candidates", values.candidates, 3),
      killLeader: values["kill-leader"] ?? false,
    };
  }
  throw new UsageError(`unknown demo "${kind}" (mutex or election)`);
}

function parseFlags(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      server: { type: "string", short: "s" },
      workers: { type: "string" },
      rounds: { type: "string" },
      "hold-ms": { type: "string" },
      candidates: { type: "string" },
      "kill-leader": { type: "boolean" },
    },
  });
}

function refuse(values: Record<string, unknown>, flags: readonly string[], kind: string): void {
  for (const flag of flags) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} is not an option of ${kind}`);
  }
}

function count(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > 100) {
    throw new UsageError(`${flag} must be a whole number from 1 to 100, got "${value}"`);
  }
  return n;
}

/** Longest --hold-ms: ten minutes, so a typo cannot leave a lock held for a day. */
const HOLD_MS_MAX = 600_000;

function milliseconds(flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > HOLD_MS_MAX) {
    throw new UsageError(`${flag} must be a whole number from 0 to ${HOLD_MS_MAX}, got "${value}"`);
  }
  return n;
}

/** Prints one timeline line: `+1.234s who what`. */
function timeline(): (who: string, what: string) => void {
  const start = performance.now();
  return (who, what) => {
    const seconds = ((performance.now() - start) / 1000).toFixed(3);
    process.stdout.write(`+${seconds}s ${who} ${what}\n`);
  };
}

async function open(server: string): Promise<ZooKeeper> {
  try {
    return await connect(server, { initialConnectTimeoutMs: CONNECT_TIMEOUT_MS });
  } catch (error) {
    throw new Error(`cannot reach ${server}: ${(error as Error).message}`);
  }
}

/** Deletes `path` and everything under it; gone already is fine. */
async function deleteTree(zk: ZooKeeper, path: string): Promise<void> {
  let children: string[];
  try {
    children = await zk.getChildren(path);
  } catch (error) {
    if ((error as Error).name === "NoNodeError") return;
    throw error;
  }
  for (const child of children) await deleteTree(zk, `${path}/${child}`);
  await zk.delete(path).catch((error: unknown) => {
    if ((error as Error).name !== "NoNodeError") throw error;
  });
}

async function mutexDemo({ server, workers, rounds, holdMs }: MutexDemo): Promise<number> {
  const log = timeline();
  const admin = await open(server);
  const base = `/zkts-demo-mutex-${process.pid}-${Date.now()}`;
  const clients: ZooKeeper[] = [];
  try {
    await admin.create(base, "0");
    const held = holdMs > 0 ? `, each lock held ${holdMs} ms` : "";
    log("demo", `counter at ${base} = 0; ${workers} workers × ${rounds} rounds${held}`);
    for (let i = 1; i <= workers; i++) clients.push(await open(server));
    await Promise.all(
      clients.map(async (zk, i) => {
        const who = `worker-${i + 1}`;
        // Its name in its lock node: what the dashboard shows as the holder's id.
        const mutex = new Mutex(zk, `${base}/lock`, { data: who });
        mutex.onLost((event) => log(who, `LOST the lock (${event.reason})`));
        for (let round = 0; round < rounds; round++) {
          log(who, "waits");
          await mutex.acquire();
          const { data } = await zk.getData(base);
          const before = Number(data.toString());
          await zk.setData(base, String(before + 1));
          log(who, `holds (counter ${before} → ${before + 1})`);
          if (holdMs > 0) await sleep(holdMs);
          // Printed before the release: nobody else can hold the lock until it completes.
          log(who, "releases");
          await mutex.release();
        }
      }),
    );
    const total = Number((await admin.getData(base)).data.toString());
    const expected = workers * rounds;
    const ok = total === expected;
    log("demo", `counter = ${total} (expected ${expected}) ${ok ? "ok" : "MISMATCH"}`);
    return ok ? 0 : 1;
  } finally {
    for (const zk of clients) await zk.close();
    await deleteTree(admin, base).finally(() => admin.close());
  }
}

interface Candidate {
  readonly id: string;
  readonly zk: ZooKeeper;
  readonly election: LeaderElection;
}

async function electionDemo({ server, candidates, killLeader }: ElectionDemo): Promise<number> {
  const log = timeline();
  const admin = await open(server);
  const path = `/zkts-demo-election-${process.pid}-${Date.now()}`;
  const standing: Candidate[] = [];
  // Whoever waits for the next "elected" event, from any candidate.
  let onElected: ((candidate: Candidate) => void) | undefined;
  const nextLeader = (what: string) =>
    new Promise<Candidate>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no leader within ${EVENT_TIMEOUT_MS} ms ${what}`)),
        EVENT_TIMEOUT_MS,
      );
      onElected = (candidate) => {
        clearTimeout(timer);
        onElected = undefined;
        resolve(candidate);
      };
    });
  try {
    let first = nextLeader("after the candidates stood");
    for (let i = 1; i <= candidates; i++) {
      const id = `candidate-${i}`;
      const zk = await open(server);
      const election = new LeaderElection(zk, path, { id, trackLeader: true });
      const candidate = { id, zk, election };
      election.on((event) => {
        if (event.type === "elected") {
          log(id, "leads");
          onElected?.(candidate);
        } else if (event.type === "notLeader") {
          log(id, `no longer leads (${event.reason})`);
        } else if (event.leader.id !== id) {
          log(id, `follows ${event.leader.id}`);
        }
      });
      standing.push(candidate);
      election.start();
      log(id, `stands (session 0x${zk.sessionId.toString(16)})`);
    }
    const leader = await first;
    const current = await LeaderElection.currentLeader(admin, path);
    log("observer", `reads the leader: ${current?.id ?? "none"}`);
    if (candidates === 1) {
      log("demo", "a single candidate: nobody to take over");
    } else {
      first = nextLeader(killLeader ? "after the kill" : "after the resignation");
      if (killLeader) {
        const session = `0x${leader.zk.sessionId.toString(16)}`;
        log("demo", `kills ${leader.id}'s session ${session}`);
        // A second client takes the session over by its id and password, then ends it.
        const killer = await connect(server, {
          sessionId: leader.zk.sessionId,
          sessionPassword: leader.zk.sessionPassword,
          initialConnectTimeoutMs: CONNECT_TIMEOUT_MS,
        });
        await killer.close();
      } else {
        log(leader.id, "resigns");
        await leader.election.resign();
      }
      const successor = await first;
      const after = await LeaderElection.currentLeader(admin, path);
      log("observer", `reads the leader: ${after?.id ?? "none"} (was ${leader.id})`);
      if (successor === leader) throw new Error(`${leader.id} still leads after the fail-over`);
    }
    log("demo", "done; closing every session");
    return 0;
  } finally {
    onElected = undefined;
    // Followers first, so that leadership does not pass down the line while everyone leaves.
    const leaving = [...standing].sort(
      (a, b) => Number(a.election.isLeader) - Number(b.election.isLeader),
    );
    for (const { id, zk, election } of leaving) {
      await election.close().catch(() => undefined);
      await zk.close().catch(() => undefined);
      log(id, "leaves");
    }
    await deleteTree(admin, path).finally(() => admin.close());
  }
}

function fail(message: string, code: number): number {
  console.error(`zkts demo: ${message.split("\n")[0]}`);
  return code;
}
