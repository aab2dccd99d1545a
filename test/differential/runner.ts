/**
 * Runs one sequence of ops (model.ts) against one server and records a normalized trace: the
 * lines two servers must agree on, one per op result and one per frame the server sent.
 *
 * Determinism: ops are issued one at a time, each awaited. After each op every open session
 * sends a sync("/") (the barrier) and the runner awaits all of them: a server sends a
 * notification before any later reply on the same connection, so once the barrier replies are
 * in, every notification caused by the op has been received. The wire taps (wire-tap.ts) then
 * hold, per session, the frames the server sent during the op, in the order it sent them. No
 * sleeps anywhere.
 *
 * Each run starts clean: its sessions are new, and (by default) they work under a fresh chroot
 * /rN that an admin session prepared with a /d node in it, so nothing of earlier runs is visible.
 * Sessions still open at the end are closed (not traced).
 */
import {
  type ACL,
  type Op as ClientOp,
  CREATOR_ALL_ACL,
  CreateMode,
  connect,
  digestACL,
  errorCodeName,
  OPEN_ACL_UNSAFE,
  type OpResult,
  Perms,
  type PersistentWatch,
  READ_ACL_UNSAFE,
  type ReadOpResult,
  type Stat,
  type ZooKeeper,
  ZooKeeperError,
} from "../../src/index.js";
import { KeeperState, OpCode } from "../../src/internal.js";
import { stateReached } from "../harness/client-helpers.js";
import {
  type AclShape,
  formatOp,
  type Mode,
  type Op,
  SEQ,
  type SubOp,
  WATCHED,
  type WatchFlag,
} from "./model.js";
import { Normalizer, renderAcl, renderNames } from "./normalize.js";
import { type RawCase, runRawCase } from "./raw.js";
import {
  eventTypeName,
  keeperStateName,
  opcodeName,
  type Perturb,
  type WireEntry,
  WireTap,
} from "./wire-tap.js";

export type StrictOrder = "children" | "ephemerals" | "close";
export const STRICT_ORDERS: readonly StrictOrder[] = ["children", "ephemerals", "close"];

/** Parts of the trace a comparison may leave out (ZKTS_DIFF_IGNORE), to look past a known bug. */
export type Aspect = "replyZxid" | "wire" | "time";

export interface RunOptions {
  /** Work under a fresh chroot /rN holding /d (default); false: paths are the server's own. */
  readonly chroot?: boolean;
  /** Bound on each call, so a server that never answers fails the run instead of hanging it. */
  readonly requestTimeoutMs?: number;
  readonly ignore?: ReadonlySet<Aspect>;
  /**
   * Orders to compare although ZooKeeper promises none (it takes them from Java HashSets):
   * children lists, getEphemerals, the notifications of a closing session's ephemerals. By
   * default all three are sorted.
   */
  readonly strictOrder?: ReadonlySet<StrictOrder>;
}

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

const SLOTS = 3;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const TTL_MS = 3_600_000;
const MODES: Record<Mode, CreateMode> = {
  P: CreateMode.PERSISTENT,
  E: CreateMode.EPHEMERAL,
  PS: CreateMode.PERSISTENT_SEQUENTIAL,
  ES: CreateMode.EPHEMERAL_SEQUENTIAL,
  C: CreateMode.CONTAINER,
  TTL: CreateMode.PERSISTENT_WITH_TTL,
  TTLS: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL,
};
const SEQUENTIAL: ReadonlySet<Mode> = new Set(["PS", "ES", "TTLS"]);

function aclOf(shape: AclShape): readonly ACL[] {
  switch (shape) {
    case "open":
      return OPEN_ACL_UNSAFE;
    case "read":
      return READ_ACL_UNSAFE;
    case "alice":
      return [digestACL("alice", "pw")];
    case "creator":
      return CREATOR_ALL_ACL;
    case "creatorRead":
      return [...CREATOR_ALL_ACL, ...READ_ACL_UNSAFE];
    case "dup":
      return [...OPEN_ACL_UNSAFE, ...OPEN_ACL_UNSAFE, ...READ_ACL_UNSAFE];
    case "mixed":
      return [
        digestACL("bob", "pw", Perms.READ | Perms.WRITE),
        { perms: Perms.READ | Perms.CREATE, id: { scheme: "world", id: "anyone" } },
      ];
    case "ip":
      return [{ perms: Perms.ALL, id: { scheme: "ip", id: "127.0.0.1" } }];
    case "invalid":
      return [{ perms: Perms.ALL, id: { scheme: "digest", id: "no-colon-here" } }];
  }
}

/** One server under test: its wire taps (one per session slot) and an admin session. */
export class DiffTarget {
  readonly name: string;
  readonly address: ServerAddress;
  readonly #taps: readonly WireTap[];
  readonly #admin: ZooKeeper;
  readonly #chrootPrefix: string;
  #runs = 0;
  #rawRuns = 0;

  private constructor(
    name: string,
    address: ServerAddress,
    taps: WireTap[],
    admin: ZooKeeper,
    chrootPrefix: string,
  ) {
    this.name = name;
    this.#chrootPrefix = chrootPrefix;
    this.address = address;
    this.#taps = taps;
    this.#admin = admin;
  }

  static async open(
    name: string,
    address: ServerAddress,
    options: {
      perturb?: Perturb;
      /** Runs work under <prefix>1, <prefix>2, ...: targets sharing a server need their own. */
      chrootPrefix?: string;
    } = {},
  ): Promise<DiffTarget> {
    const taps = await Promise.all(
      Array.from({ length: SLOTS }, () => WireTap.start(address, options.perturb)),
    );
    const admin = await connect(`${address.host}:${address.port}`, {
      requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    });
    return new DiffTarget(name, address, taps, admin, options.chrootPrefix ?? "/run");
  }

  /** Runs `ops` from a clean start and resolves with the normalized trace, one line each. */
  async run(ops: readonly Op[], options: RunOptions = {}): Promise<string[]> {
    let chroot = "";
    if (options.chroot ?? true) {
      // The same names on both servers of a comparison, run after run.
      this.#runs += 1;
      chroot = `${this.#chrootPrefix}${this.#runs}`;
      await this.#admin.create(chroot);
      await this.#admin.create(`${chroot}/d`);
    }
    for (const tap of this.#taps) tap.take();
    const run = new Run(this.#taps, this.address, chroot, options);
    try {
      for (const [index, op] of ops.entries()) await run.step(index, op);
    } finally {
      await run.closeAll();
    }
    return run.render();
  }

  /** Runs one raw case (raw.ts) on a new session, under its own fresh znode. */
  async runRaw(rawCase: RawCase): Promise<string[]> {
    this.#rawRuns += 1;
    const base = `/raw${this.#rawRuns}`;
    await this.#admin.create(base);
    const lines = await runRawCase(this.address, base, rawCase);
    return lines.map((line) => line.replaceAll(base, "<base>"));
  }

  async close(): Promise<void> {
    await this.#admin.close();
    await Promise.all(this.#taps.map((tap) => tap.close()));
  }
}

type Render = (n: Normalizer) => string;

interface Session {
  readonly zk: ZooKeeper;
  readonly label: string;
  /**
   * The watches this session asked for, in the order it sent the requests (for "$watched"):
   * `ok` once the read succeeded. Issue order, not reply order: in a pipeline the order in which
   * promises settle depends on how the replies were split into TCP reads.
   */
  readonly watched: { readonly path: string; ok: boolean }[];
  readonly persistent: { readonly path: string; readonly watch: PersistentWatch }[];
}

const TERMINAL: ReadonlySet<string> = new Set(["closed", "expired", "authFailed"]);

/** The listeners of every watch: events are read off the wire, not from the client. */
const LISTENER_A = () => {};
const LISTENER_B = () => {};
const listenerOf = (watch: WatchFlag) => (watch === "B" ? LISTENER_B : LISTENER_A);

class Run {
  readonly #taps: readonly WireTap[];
  readonly #address: ServerAddress;
  readonly #chroot: string;
  readonly #options: RunOptions;
  readonly #timeoutMs: number;
  readonly #sessions: (Session | undefined)[] = [];
  readonly #incarnations: number[] = [];
  readonly #lines: Render[] = [];
  readonly #normalizer = new Normalizer();
  /**
   * Sequential creates in the order they were sent (for "$seq"), each with its name once it is
   * known: in a pipeline, the order in which promises settle is not the order of the replies.
   */
  readonly #sequential: { path: string | undefined }[] = [];
  /** Slots whose tap refuses connections ("disconnect"), until their next op. */
  readonly #partitioned = new Set<number>();
  /** Clients that failed auth: their sessions live on in ZooKeeper until closed at the end. */
  readonly #orphans: ZooKeeper[] = [];
  /** The symbolic paths the current op resolved, for its trace line. */
  #resolved: string[] = [];
  #maxZxid = 0n;

  constructor(
    taps: readonly WireTap[],
    address: ServerAddress,
    chroot: string,
    options: RunOptions,
  ) {
    this.#taps = taps;
    this.#address = address;
    this.#chroot = chroot;
    this.#options = options;
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  async step(index: number, op: Op): Promise<void> {
    if (this.#partitioned.has(op.s)) await this.#reconnect(op.s);
    const session = await this.#session(op.s);
    this.#resolved = [];
    const result: Render = session
      ? await this.#execute(session, op).catch((error: unknown) => renderError(error))
      : () => "connect failed";
    const resolved = this.#resolved.length > 0 ? ` (${this.#resolved.join(", ")})` : "";
    const text = formatOp(op).replace(/^s\d/, session?.label ?? `s${op.s}`) + resolved;
    this.#lines.push((n) => `#${index} ${text} → ${result(n)}`);
    await this.#barrier(op.s, op.kind === "close");
  }

  /**
   * Lets a "disconnect"ed slot's session back in, and waits until it is connected and its
   * setWatches has been answered (a sync behind it): what the server sent meanwhile (catch-up
   * events) goes into the trace before the op. Without the wait, an op would race the
   * reconnection (an auth failure, say, closes the connection before setWatches is answered).
   */
  async #reconnect(slot: number): Promise<void> {
    this.#partitioned.delete(slot);
    const tap = this.#taps[slot]!;
    tap.heal();
    const session = this.#sessions[slot];
    if (session === undefined || TERMINAL.has(session.zk.state)) return;
    const label = session.label;
    try {
      await stateReached(session.zk, "connected", this.#timeoutMs);
      await session.zk.sync("/");
    } catch (error) {
      this.#lines.push(() => `   ${label} reconnection failed: ${errorName(error)}`);
    }
    const lines = this.#windowLines(slot, tap.take(), true);
    this.#lines.push(() => `   ${label} reconnects`, ...lines.map((line) => () => line));
  }

  /** The slot's open session, or a new one (s1, then s1' after a close, ...). */
  async #session(slot: number): Promise<Session | undefined> {
    const open = this.#sessions[slot];
    if (open && !TERMINAL.has(open.zk.state)) return open;
    if (open && open.zk.state === "authFailed") this.#orphans.push(open.zk);
    const incarnation = this.#incarnations[slot] ?? 0;
    this.#incarnations[slot] = incarnation + 1;
    const label = slotLabel(slot, incarnation + 1);
    const tap = this.#taps[slot]!;
    try {
      const zk = await connect(`127.0.0.1:${tap.port}${this.#chroot}`, {
        requestTimeoutMs: this.#timeoutMs,
        initialConnectTimeoutMs: this.#timeoutMs,
        // Back soon after a "disconnect" heals.
        reconnectDelayMinMs: 5,
        reconnectDelayMaxMs: 20,
      });
      this.#normalizer.nameSession(zk.sessionId, label);
      const session: Session = { zk, label, watched: [], persistent: [] };
      this.#sessions[slot] = session;
      return session;
    } catch {
      return undefined;
    }
  }

  /** The path an op means: "$seq" and "$watched" resolved (and noted in the trace). */
  #path(path: string, session?: Session, persistentOnly = false): string {
    let resolved: string;
    if (path === SEQ) {
      const named = this.#sequential.filter((c) => c.path !== undefined);
      resolved = named.at(-1)?.path ?? "/d/no-sequential-yet";
    } else if (path === WATCHED && session !== undefined) {
      const newest = persistentOnly
        ? session.persistent.at(-1)?.path
        : session.watched.filter((w) => w.ok).at(-1)?.path;
      resolved = newest ?? "/d";
    } else return path;
    this.#resolved.push(`${path}=${resolved}`);
    return resolved;
  }

  /** Notes the watch `read` asks for, in issue order; it counts once the read succeeded. */
  async #watching<T>(session: Session, path: string, read: Promise<T>): Promise<T> {
    const entry = { path, ok: false };
    session.watched.push(entry);
    const result = await read;
    entry.ok = true;
    return result;
  }

  /** A list of names, sorted unless the run compares ZooKeeper's (HashSet) order too. */
  #names(names: readonly string[], kind: StrictOrder = "children"): string {
    return this.#options.strictOrder?.has(kind) ? `[${names.join(",")}]` : renderNames(names);
  }

  #stat(stat: Stat): Render {
    this.#normalizer.observe(stat);
    return (n) => n.stat(stat);
  }

  async #execute(session: Session, op: Op): Promise<Render> {
    const { zk } = session;
    switch (op.kind) {
      case "create": {
        const mode = MODES[op.mode];
        const options = {
          mode,
          acl: aclOf(op.acl),
          ...(op.mode === "TTL" || op.mode === "TTLS" ? { ttlMs: TTL_MS } : {}),
        };
        const path = this.#path(op.path);
        const name = this.#creating(op.mode);
        if (op.withStat) {
          const created = await zk.createWithStat(path, op.data, options);
          name.path = created.path;
          const stat = this.#stat(created.stat);
          return (n) => `ok ${created.path} ${stat(n)}`;
        }
        const created = await zk.create(path, op.data, options);
        name.path = created;
        return () => `ok ${created}`;
      }
      case "delete":
        await zk.delete(this.#path(op.path), { version: op.version });
        return () => "ok";
      case "setData": {
        const stat = this.#stat(
          await zk.setData(this.#path(op.path), op.data, { version: op.version }),
        );
        return (n) => `ok ${stat(n)}`;
      }
      case "exists": {
        const path = this.#path(op.path);
        const found = op.watch
          ? await this.#watching(session, path, zk.exists(path, { watch: listenerOf(op.watch) }))
          : await zk.exists(path);
        if (found === null) return () => "null";
        const stat = this.#stat(found);
        return (n) => `ok ${stat(n)}`;
      }
      case "getData": {
        const path = this.#path(op.path);
        const { data, stat } = op.watch
          ? await this.#watching(session, path, zk.getData(path, { watch: listenerOf(op.watch) }))
          : await zk.getData(path);
        const rendered = this.#stat(stat);
        return (n) => `ok ${JSON.stringify(data.toString("utf8"))} ${rendered(n)}`;
      }
      case "getChildren": {
        const path = this.#path(op.path);
        const children = op.watch
          ? await this.#watching(
              session,
              path,
              zk.getChildren(path, { watch: listenerOf(op.watch) }),
            )
          : await zk.getChildren(path);
        return () => `ok ${this.#names(children)}`;
      }
      case "getChildren2": {
        const path = this.#path(op.path);
        const { children, stat } = op.watch
          ? await this.#watching(
              session,
              path,
              zk.getChildrenWithStat(path, { watch: listenerOf(op.watch) }),
            )
          : await zk.getChildrenWithStat(path);
        const rendered = this.#stat(stat);
        return (n) => `ok ${this.#names(children)} ${rendered(n)}`;
      }
      default:
        return this.#executeMore(session, op);
    }
  }

  async #executeMore(session: Session, op: Op): Promise<Render> {
    const { zk } = session;
    switch (op.kind) {
      case "getACL": {
        const { acl, stat } = await zk.getACL(this.#path(op.path));
        const rendered = this.#stat(stat);
        return (n) => `ok ${renderAcl(acl)} ${rendered(n)}`;
      }
      case "setACL": {
        const stat = this.#stat(
          await zk.setACL(this.#path(op.path), aclOf(op.acl), { version: op.version }),
        );
        return (n) => `ok ${stat(n)}`;
      }
      case "addAuth":
        if (op.user === "nosuch-scheme") await zk.addAuth("nosuch-scheme", "x");
        else await zk.addAuth("digest", `${op.user}:pw`);
        return () => "ok";
      case "sync": {
        const path = await zk.sync(this.#path(op.path));
        return () => `ok ${path}`;
      }
      case "getAllChildrenNumber": {
        const count = await zk.getAllChildrenNumber(this.#path(op.path));
        return () => `ok ${count}`;
      }
      case "getEphemerals": {
        const paths = await zk.getEphemerals(this.#path(op.path));
        return () => `ok ${this.#names(paths, "ephemerals")}`;
      }
      case "multi":
        return this.#multi(zk, op.ops);
      case "multiRead": {
        const results = await zk.multiRead(
          op.ops.map((r) => ({ type: r.type, path: this.#path(r.path) })),
        );
        const rendered = results.map((r) => this.#readResult(r));
        return (n) => `ok [${rendered.map((r) => r(n)).join("; ")}]`;
      }
      default:
        return this.#executeWatchesAndSessions(session, op);
    }
  }

  async #executeWatchesAndSessions(session: Session, op: Op): Promise<Render> {
    const { zk } = session;
    switch (op.kind) {
      case "addWatch": {
        const path = this.#path(op.path);
        const watch = await this.#watching(
          session,
          path,
          zk.addWatch(path, { recursive: op.recursive }),
        );
        session.persistent.push({ path, watch });
        return () => "ok";
      }
      case "removeWatches":
        await zk.removeWatches(
          this.#path(op.path, session),
          op.type,
          op.listener === "A" ? { listener: LISTENER_A } : {},
        );
        return () => "ok";
      case "removePersistent": {
        const path = this.#path(op.path, session, true);
        const index = session.persistent.map((p) => p.path).lastIndexOf(path);
        const found = index === -1 ? undefined : session.persistent.splice(index, 1)[0];
        if (found === undefined) return () => "no persistent watch here";
        await found.watch.remove();
        return () => "ok";
      }
      case "close":
        this.#sessions[op.s] = undefined;
        await zk.close({ timeoutMs: this.#timeoutMs });
        return () => `ok (${zk.state})`;
      case "pipeline": {
        // Sent back to back (the client writes each at once); settled in reply order.
        const settled = await Promise.allSettled(op.ops.map((o) => this.#execute(session, o)));
        const rendered = settled.map((r) =>
          r.status === "fulfilled" ? r.value : renderError(r.reason),
        );
        return (n) => `[${rendered.map((r) => r(n)).join("; ")}]`;
      }
      case "disconnect": {
        // Wait until the client knows: a request sent before that would die with the socket.
        const lost = stateReached(zk, "disconnected", this.#timeoutMs);
        this.#partitioned.add(op.s);
        this.#taps[op.s]!.partition();
        await lost;
        return () => "ok";
      }
      case "whoAmI": {
        const identities = await zk.whoAmI();
        const text = identities.map((c) => `${c.authScheme}:${c.user}`).join(", ");
        return () => `ok [${text}]`;
      }
      case "getConfig": {
        const { data, stat } = await zk.getConfig();
        const rendered = this.#stat(stat);
        return (n) => `ok ${JSON.stringify(data.toString("utf8"))} ${rendered(n)}`;
      }
      default:
        throw new Error(`op ${op.kind} has no executor`);
    }
  }

  async #multi(zk: ZooKeeper, subOps: readonly SubOp[]): Promise<Render> {
    const clientOps = subOps.map((sub) => toClientOp(sub, this.#path(sub.path)));
    const names = subOps.map((sub) =>
      sub.type === "create" ? this.#creating(sub.mode) : { path: undefined },
    );
    const results = await zk.multi(clientOps);
    results.forEach((result, i) => {
      const name = names[i];
      if (result.type === "create" && name !== undefined) name.path = result.path;
    });
    const rendered = results.map((r) => this.#opResult(r));
    return (n) => `ok [${rendered.map((r) => r(n)).join("; ")}]`;
  }

  /** A slot for a create's name, in send order; only sequential creates count for "$seq". */
  #creating(mode: Mode): { path: string | undefined } {
    const name: { path: string | undefined } = { path: undefined };
    if (SEQUENTIAL.has(mode)) this.#sequential.push(name);
    return name;
  }

  #opResult(result: OpResult): Render {
    switch (result.type) {
      case "create": {
        const stat = result.stat ? this.#stat(result.stat) : undefined;
        return (n) => `create ${result.path}${stat ? ` ${stat(n)}` : ""}`;
      }
      case "setData": {
        const stat = this.#stat(result.stat);
        return (n) => `setData ${stat(n)}`;
      }
      case "delete":
      case "check":
        return () => result.type;
      case "error":
        return () => `error ${codeName(result.err)}`;
    }
  }

  #readResult(result: ReadOpResult): Render {
    switch (result.type) {
      case "getData": {
        const stat = this.#stat(result.stat);
        const data = JSON.stringify(result.data.toString("utf8"));
        return (n) => `getData ${data} ${stat(n)}`;
      }
      case "getChildren":
        return () => `getChildren ${this.#names(result.children)}`;
      case "error":
        return () => `error ${codeName(result.err)}`;
    }
  }

  /** sync("/") on every open session, then the frames each tap saw during the op. */
  /**
   * `unordered`: the op was a closeSession, whose ephemerals ZooKeeper deletes in its hash
   * set's order (which depends on the paths' full names): the notifications between two replies
   * are then sorted, since no order among them is promised.
   */
  async #barrier(opSlot: number, unordered: boolean): Promise<void> {
    const notes: string[] = [];
    await Promise.all(
      this.#sessions.map(async (session, slot) => {
        if (session === undefined || !this.#reachable(slot)) return;
        await session.zk.sync("/").catch((error: unknown) => {
          notes.push(`   ${session.label} barrier sync failed: ${errorName(error)}`);
        });
      }),
    );
    // The op's own session first: its reply sets the zxid the others' frames compare with.
    const order = [opSlot, ...this.#taps.keys()].filter((slot, i, all) => all.indexOf(slot) === i);
    const lines: string[] = [];
    for (const slot of order) {
      const open = this.#reachable(slot);
      const window = this.#windowLines(slot, this.#taps[slot]!.take(), open);
      const sort = unordered && !this.#options.strictOrder?.has("close");
      lines.push(...(sort ? sortEventRuns(window) : window));
    }
    for (const line of [...lines, ...notes]) this.#lines.push(() => line);
  }

  /**
   * The lines for what one session's server sent during an op. The last reply is the barrier's
   * sync (when the session is open): left out unless it is not a plain "ok, nothing new".
   */
  #windowLines(slot: number, entries: readonly WireEntry[], open: boolean): string[] {
    const barrierAt = open ? lastReplyIndex(entries) : -1;
    const label = slotLabel(slot, this.#incarnations[slot] ?? 0);
    let running = this.#maxZxid;
    const lines: string[] = [];
    entries.forEach((entry, i) => {
      let flag = "";
      if (entry.kind === "reply") {
        flag = zxidFlag(entry.zxid, running);
        if (entry.zxid > running) running = entry.zxid;
      }
      if (i === barrierAt && entry.kind === "reply" && entry.opcode === OpCode.sync) {
        if (entry.err !== 0 || flag !== "=") {
          lines.push(`   ${label} barrier sync ${codeName(entry.err)} zxid${flag}`);
        }
        return;
      }
      const line = this.#wireLine(entry, flag);
      if (line !== undefined) lines.push(`   ${label} ${line}`);
    });
    if (running > this.#maxZxid) this.#maxZxid = running;
    return withAuthAfterSetWatches(lines);
  }

  #wireLine(entry: WireEntry, flag: string): string | undefined {
    const ignore = this.#options.ignore;
    switch (entry.kind) {
      case "event": {
        const state =
          entry.state === KeeperState.SyncConnected ? "" : ` ${keeperStateName(entry.state)}`;
        const zxid = entry.zxid === -1n ? "" : " zxid≠-1";
        return `⇠ event ${eventTypeName(entry.type)} ${this.#unchroot(entry.path)}${state}${zxid}`;
      }
      case "reply": {
        if (ignore?.has("wire")) return undefined;
        const zxid = ignore?.has("replyZxid") || entry.xid < 0 ? "" : ` zxid${flag}`;
        return `⇠ reply ${opcodeName(entry.opcode)} ${codeName(entry.err)}${zxid}`;
      }
      case "garbage":
        return `⇠ undecodable frame: ${entry.error}`;
    }
  }

  #unchroot(path: string): string {
    if (this.#chroot === "") return path;
    if (path === this.#chroot) return "/";
    return path.startsWith(`${this.#chroot}/`) ? path.slice(this.#chroot.length) : `!${path}`;
  }

  /** Whether the slot has a session that answers (open, not cut off by "disconnect"). */
  #reachable(slot: number): boolean {
    const session = this.#sessions[slot];
    return session !== undefined && !TERMINAL.has(session.zk.state) && !this.#partitioned.has(slot);
  }

  /**
   * Ends every session of the run, those that failed auth included (ZooKeeper keeps them until
   * they expire, and an expiry during a later run would shift that run's zxids).
   */
  async closeAll(): Promise<void> {
    for (const tap of this.#taps) tap.heal();
    this.#partitioned.clear();
    for (const session of this.#sessions) {
      if (session?.zk.state === "authFailed") this.#orphans.push(session.zk);
    }
    const { host, port } = this.#address;
    await Promise.all([
      ...this.#sessions.map(async (session) => {
        if (session === undefined || TERMINAL.has(session.zk.state)) return;
        // A client that is not connected closes only itself: its session would linger in the
        // server and expire in the middle of a later run.
        await stateReached(session.zk, "connected", this.#timeoutMs).catch(() => {});
        await session.zk.close({ timeoutMs: this.#timeoutMs });
      }),
      ...this.#orphans.map(async (orphan) => {
        const zk = await connect(`${host}:${port}`, {
          sessionId: orphan.sessionId,
          sessionPassword: orphan.sessionPassword,
          initialConnectTimeoutMs: 2000,
        }).catch(() => undefined);
        await zk?.close({ timeoutMs: 2000 });
      }),
    ]);
    this.#sessions.length = 0;
  }

  render(): string[] {
    const n = this.#normalizer;
    const lines = this.#lines.map((line) => line(n));
    if (!this.#options.ignore?.has("time")) lines.push(`time/zxid order: ${n.timeOrder()}`);
    if (this.#options.ignore?.has("time")) {
      return lines.map((line) => line.replace(/ ct=\S+ mt\S+/g, ""));
    }
    return lines;
  }
}

function toClientOp(sub: SubOp, path: string): ClientOp {
  switch (sub.type) {
    case "create":
      return {
        type: "create",
        path,
        data: sub.data,
        mode: MODES[sub.mode],
        ...(sub.mode === "TTL" || sub.mode === "TTLS" ? { ttlMs: TTL_MS } : {}),
      };
    case "delete":
      return { type: "delete", path, version: sub.version };
    case "setData":
      return { type: "setData", path, data: sub.data, version: sub.version };
    case "check":
      return { type: "check", path, version: sub.version };
  }
}

/**
 * On a reconnection the client sends setWatches, then its auth packets, then its requests.
 * ZooKeeper answers auth at once, on its network thread, but setWatches (and the catch-up
 * events before its reply) in its request pipeline, so the two replies race: the auth replies
 * are put right after the setWatches reply.
 */
function withAuthAfterSetWatches(lines: readonly string[]): string[] {
  const setWatches = lines.findIndex((line) => line.includes("⇠ reply setWatches"));
  if (setWatches === -1) return [...lines];
  const isAuth = (line: string) => line.includes("⇠ reply auth");
  const rest = lines.filter((line) => !isAuth(line));
  const at = rest.findIndex((line) => line.includes("⇠ reply setWatches")) + 1;
  return [...rest.slice(0, at), ...lines.filter(isAuth), ...rest.slice(at)];
}

/** Sorts each run of consecutive event lines, leaving every other line where it is. */
function sortEventRuns(lines: readonly string[]): string[] {
  const out: string[] = [];
  let run: string[] = [];
  const flush = () => {
    out.push(...run.sort());
    run = [];
  };
  for (const line of lines) {
    if (line.includes("⇠ event ")) run.push(line);
    else {
      flush();
      out.push(line);
    }
  }
  flush();
  return out;
}

/** s1 for the slot's first session, s1' for the one after it closed, and so on. */
function slotLabel(slot: number, incarnations: number): string {
  return `s${slot}${"'".repeat(Math.max(0, incarnations - 1))}`;
}

function lastReplyIndex(entries: readonly WireEntry[]): number {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.kind === "reply") return i;
  return -1;
}

/** How a reply's header zxid compares with the highest seen before it on any connection. */
function zxidFlag(zxid: bigint, before: bigint): string {
  if (zxid === before) return "=";
  return zxid > before ? "+" : "<";
}

function codeName(code: number): string {
  return code === 0 ? "ok" : (errorCodeName(code) ?? `err${code}`);
}

function errorName(error: unknown): string {
  if (error instanceof ZooKeeperError) return error.name;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function renderError(error: unknown): Render {
  if (error instanceof ZooKeeperError && error.opIndex !== undefined) {
    const results = (error.results ?? []) as OpResult[];
    const text = results
      .map((r) => (r.type === "error" ? `error ${codeName(r.err)}` : r.type))
      .join("; ");
    return () => `${error.name} @${error.opIndex} [${text}]`;
  }
  const name = errorName(error);
  return () => name;
}
