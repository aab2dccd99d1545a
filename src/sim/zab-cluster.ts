/**
 * Zab peers in a simulated world: a seeded network, disks and clock, and a fault schedule —
 * dropped, delayed, duplicated and reordered election notifications; quorum links that break
 * (a loss on a FIFO link is a reset, as on TCP); partitions; crashes with restarts from what
 * was durable, with or without the last unsynced Readies (fsync not done: neither persisted
 * nor sent). After every step it checks Zab's promises:
 *
 * - at most one leader establishes itself per epoch;
 * - every peer applies a prefix of one committed sequence (so nothing committed is lost,
 *   reordered or changed, and nothing uncommitted is applied);
 * - (checked by the caller with `settle`) once the faults stop, a leader is elected, a new
 *   proposal commits, and every peer applies everything.
 */
import type { Entry } from "../zab/log.js";
import type { Message } from "../zab/messages.js";
import { type ZabConfig, ZabPeer } from "../zab/peer.js";
import { isCommitOnly, isEager, type Ready } from "../zab/ready.js";
import { Rng } from "./rng.js";

export interface Faults {
  /** Per notification: lost, sent twice. */
  readonly dropNotification: number;
  readonly duplicateNotification: number;
  /** Per quorum message: the link breaks instead. */
  readonly breakLink: number;
  /** Extra delivery delay, uniformly 0..maxDelay ticks. */
  readonly maxDelay: number;
  /** Per tick: a peer crashes; a crashed peer restarts. */
  readonly crash: number;
  readonly restart: number;
  /** Per tick: a random partition starts; one in place heals. */
  readonly partition: number;
  readonly heal: number;
  /** Per Ready: its fsync is still pending at the end of the tick (lost if the peer crashes). */
  readonly slowSync: number;
}

/** Applied txns a peer keeps in memory for DIFF (retainApplied). */
const RETAIN_APPLIED = 16;

export const NO_FAULTS: Faults = {
  dropNotification: 0,
  duplicateNotification: 0,
  breakLink: 0,
  maxDelay: 0,
  crash: 0,
  restart: 1,
  partition: 0,
  heal: 1,
  slowSync: 0,
};

export interface SimPeer {
  readonly id: number;
  peer: ZabPeer<string> | undefined;
  durable: {
    acceptedEpoch: bigint;
    currentEpoch: bigint;
    history: Entry<string>[];
    /** The state machine as last saved: the txns applied up to a point (a snapshot). */
    snapshot?: { zxid: bigint; applied: Entry<string>[] };
  };
  applied: Entry<string>[];
  pending: Ready<string>[];
}

interface InFlight {
  readonly from: number;
  readonly to: number;
  readonly message: Message<string>;
  readonly at: number;
  /** Quorum messages travel on a link incarnation; a reset discards what is in flight. */
  readonly link: number | undefined;
}

export class SimViolation extends Error {
  override readonly name = "SimViolation";
}

export class ZabCluster {
  readonly rng: Rng;
  readonly peers = new Map<number, SimPeer>();
  readonly config: Omit<ZabConfig, "id">;
  faults: Faults;
  now = 0;
  private inFlight: InFlight[] = [];
  private readonly links = new Map<string, number>();
  private readonly lastDelivery = new Map<string, number>();
  private partition: Set<number> | undefined;
  /** The one committed sequence every peer's applied txns must be a prefix of. */
  readonly committed: Entry<string>[] = [];
  readonly leaders = new Map<bigint, number>();
  private proposals = 0;
  /** SNAP syncs seen (so a test can tell the path was taken). */
  snapshotsInstalled = 0;
  /** Peers whose disks are stalled by the test: their Readies wait until it ends. */
  private readonly stalled = new Set<number>();
  /** Pending Readies whose messages and commits went out before their sync. */
  private readonly carriedOut = new WeakSet<Ready<string>>();
  readonly trace: string[] = [];

  /**
   * `initial` gives peers a durable state to start from (a history left by earlier epochs);
   * `down` starts those peers crashed (boot them with `restartPeer`).
   */
  constructor(
    seed: number,
    voters: number,
    observers: number,
    faults: Faults,
    initial: ReadonlyMap<number, SimPeer["durable"]> = new Map(),
    down: ReadonlySet<number> = new Set(),
  ) {
    this.rng = new Rng(seed);
    this.faults = faults;
    const ids = Array.from({ length: voters + observers }, (_, i) => i + 1);
    this.config = {
      voters: ids.slice(0, voters),
      observers: ids.slice(voters),
      // As in a real deployment, the limits leave room for many round trips: a tick here is
      // ZooKeeper's tickTime, a message's delay a fraction of it.
      initLimit: 20 + 8 * faults.maxDelay,
      syncLimit: 10 + 4 * faults.maxDelay,
      finalizeWait: 2,
      notificationInterval: 4,
    };
    for (const id of ids) {
      const peer: SimPeer = {
        id,
        peer: undefined,
        durable: structuredClone(
          initial.get(id) ?? { acceptedEpoch: 0n, currentEpoch: 0n, history: [] },
        ),
        applied: [],
        pending: [],
      };
      this.peers.set(id, peer);
      if (!down.has(id)) this.boot(peer);
    }
  }

  private boot(sim: SimPeer): void {
    const saved = sim.durable.snapshot ?? { zxid: 0n, applied: [] };
    sim.applied = [...saved.applied];
    sim.pending = [];
    const snapshot = () => ({ zxid: sim.applied.at(-1)?.zxid ?? 0n, data: [...sim.applied] });
    sim.peer = new ZabPeer(
      { ...this.config, id: sim.id, snapshot },
      { ...sim.durable, committed: saved.zxid },
    );
    this.log(
      `${sim.id} boots: epoch ${sim.durable.currentEpoch}, ${sim.durable.history.length} txns`,
    );
    this.drain(sim);
  }

  private log(line: string): void {
    this.trace.push(`[${this.now}] ${line}`);
    if (this.trace.length > 400) this.trace.shift();
  }

  /** One tick: faults, deliveries, timers, Readies, checks. */
  step(): void {
    this.now++;
    this.injectFaults();
    const due = this.inFlight.filter((m) => m.at <= this.now);
    this.inFlight = this.inFlight.filter((m) => m.at > this.now);
    for (const m of due) this.deliver(m);
    for (const sim of this.peers.values()) {
      if (sim.peer === undefined) continue;
      sim.peer.tick();
      this.drain(sim);
    }
    for (const sim of this.peers.values()) {
      if (sim.peer === undefined || this.stalled.has(sim.id)) continue;
      if (!this.rng.chance(this.faults.slowSync)) this.sync(sim);
    }
  }

  /** Stalls (or frees) a peer's disk: nothing it persists completes meanwhile. */
  stallDisk(id: number, stalled: boolean): void {
    if (stalled) this.stalled.add(id);
    else this.stalled.delete(id);
  }

  /** Crashes a peer now (a scripted crash): its unsynced Readies are lost. */
  crashPeer(id: number): void {
    const sim = this.peers.get(id) as SimPeer;
    if (sim.peer !== undefined) this.crash(sim);
  }

  /** Boots a peer that is down (a scripted restart). */
  restartPeer(id: number): void {
    const sim = this.peers.get(id) as SimPeer;
    if (sim.peer === undefined) this.boot(sim);
  }

  /** The serving leader's id, if there is one. */
  servingLeader(): number | undefined {
    for (const sim of this.peers.values()) {
      if (sim.peer?.state === "LEADING" && sim.peer.serving) return sim.id;
    }
    return undefined;
  }

  /** Proposes on the serving leader, if there is one. */
  propose(): bigint | undefined {
    for (const sim of this.peers.values()) {
      const peer = sim.peer;
      if (peer?.state === "LEADING" && peer.serving) {
        const zxid = peer.propose(`v${++this.proposals}`);
        this.drain(sim);
        return zxid;
      }
    }
    return undefined;
  }

  private injectFaults(): void {
    const f = this.faults;
    for (const sim of this.peers.values()) {
      if (sim.peer !== undefined && this.rng.chance(f.crash)) this.crash(sim);
      else if (sim.peer === undefined && this.rng.chance(f.restart)) this.boot(sim);
    }
    if (this.partition === undefined && this.rng.chance(f.partition)) {
      const side = new Set([...this.peers.keys()].filter(() => this.rng.chance(0.5)));
      this.partition = side;
      this.log(`partition ${[...side].join(",")} | rest`);
      for (const key of this.links.keys()) {
        const [a, b] = key.split("-").map(Number) as [number, number];
        if (side.has(a) !== side.has(b)) this.resetLink(a, b);
      }
    } else if (this.partition !== undefined && this.rng.chance(f.heal)) {
      this.partition = undefined;
      this.log("partition healed");
    }
  }

  private crash(sim: SimPeer): void {
    // What was not yet fsynced is gone, and so is everything it would have sent.
    this.log(`${sim.id} crashes (${sim.pending.length} unsynced Readies lost)`);
    sim.pending = [];
    sim.peer = undefined;
    for (const other of this.peers.keys()) if (other !== sim.id) this.resetLink(sim.id, other);
  }

  private cut(a: number, b: number): boolean {
    return this.partition !== undefined && this.partition.has(a) !== this.partition.has(b);
  }

  private deliver(m: InFlight): void {
    const sim = this.peers.get(m.to) as SimPeer;
    if (sim.peer === undefined || this.cut(m.from, m.to)) return;
    if (m.link !== undefined && this.links.get(linkKey(m.from, m.to)) !== m.link) return;
    sim.peer.step(m.from, m.message);
    this.drain(sim);
  }

  /**
   * Takes the peer's Ready; it takes effect once synced (fsync), now or in a later tick. An
   * established leader's broadcast Ready is carried out at once when nothing before it waits
   * (ready.ts's isEager): only its appends wait for the sync, and a crash first loses them.
   */
  private drain(sim: SimPeer): void {
    const peer = sim.peer;
    const ready = peer?.ready();
    if (peer === undefined || ready === undefined) return;
    this.checkEstablished(sim.id, ready);
    const leading = peer.state === "LEADING" && peer.serving;
    const learning = (peer.state === "FOLLOWING" || peer.state === "OBSERVING") && peer.serving;
    if (
      learning &&
      isCommitOnly(ready) &&
      sim.pending.every((r) => this.carriedOut.has(r) || r.commit.length === 0)
    ) {
      // As the shell: a serving learner applies commits before earlier fsyncs complete.
      for (const entry of ready.commit) this.apply(sim, entry);
      this.retainApplied(sim);
      return;
    }
    if (leading && isEager(ready) && sim.pending.every((r) => this.carriedOut.has(r))) {
      for (const { to, message } of ready.messages) this.send(sim.id, to, message);
      for (const entry of ready.commit) this.apply(sim, entry);
      this.retainApplied(sim);
      const rest: Ready<string> = { ...ready, messages: [], commit: [] };
      this.carriedOut.add(rest);
      sim.pending.push(rest);
      return;
    }
    sim.pending.push(ready);
  }

  /** Persist, disconnect, send, apply: for each pending Ready, in order. */
  private sync(sim: SimPeer): void {
    const readies = sim.pending;
    sim.pending = [];
    let appended: bigint | undefined;
    for (const ready of readies) {
      appended = ready.append.at(-1)?.zxid ?? appended;
      const d = sim.durable;
      if (ready.snapshot !== undefined) this.installSnapshot(sim, ready.snapshot);
      if (ready.acceptedEpoch !== undefined) d.acceptedEpoch = ready.acceptedEpoch;
      if (ready.currentEpoch !== undefined) d.currentEpoch = ready.currentEpoch;
      if (ready.truncateTo !== undefined) {
        const to = ready.truncateTo;
        d.history = d.history.filter((e) => e.zxid <= to);
      }
      for (const entry of ready.append) d.history.push(entry);
      for (const peer of ready.disconnect) this.resetLink(sim.id, peer);
      for (const { to, message } of ready.messages) this.send(sim.id, to, message);
      for (const entry of ready.commit) this.apply(sim, entry);
      this.retainApplied(sim);
      // Now and then a peer saves its state machine and drops the log before it (purge).
      if (this.rng.chance(0.05)) this.saveSnapshot(sim);
      if (ready.role) {
        this.log(
          `${sim.id} is ${ready.role.state} (leader ${ready.role.leader}, epoch ${ready.role.epoch})`,
        );
      }
    }
    // The shell tells the peer what is on disk now (a leader's own ack).
    if (appended !== undefined && sim.peer !== undefined) {
      sim.peer.persisted(appended);
      this.drain(sim);
    }
  }

  private installSnapshot(sim: SimPeer, snapshot: { zxid: bigint; data: unknown }): void {
    const applied = snapshot.data as Entry<string>[];
    this.log(`${sim.id} installs a snapshot at 0x${snapshot.zxid.toString(16)}`);
    this.snapshotsInstalled++;
    sim.applied = [];
    for (const entry of applied) this.apply(sim, entry);
    sim.durable.history = [];
    sim.durable.snapshot = { zxid: snapshot.zxid, applied: [...applied] };
  }

  /**
   * Keeps RETAIN_APPLIED applied txns in the peer's memory (ZooKeeper's commitLogCount, here
   * small so that learners that fall behind are synced by SNAP too). What leaves memory must be
   * applied, not just committed: a SNAP sends the state machine as applied, and a commit the
   * shell has not applied yet (a Ready still pending) is not in it.
   */
  private retainApplied(sim: SimPeer): void {
    const drop = sim.applied.length - RETAIN_APPLIED;
    const last = sim.applied[drop - 1];
    if (drop > 0 && last !== undefined) sim.peer?.compact(last.zxid);
  }

  private saveSnapshot(sim: SimPeer): void {
    const zxid = sim.applied.at(-1)?.zxid ?? 0n;
    sim.durable.snapshot = { zxid, applied: [...sim.applied] };
    sim.durable.history = sim.durable.history.filter((e) => e.zxid > zxid);
  }

  private send(from: number, to: number, message: Message<string>): void {
    if (this.cut(from, to)) {
      if (message.type !== "NOTIFICATION") this.resetLink(from, to);
      return;
    }
    const delay = this.rng.int(this.faults.maxDelay + 1);
    if (message.type === "NOTIFICATION") {
      if (this.rng.chance(this.faults.dropNotification)) return;
      const copies = this.rng.chance(this.faults.duplicateNotification) ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        const at = this.now + 1 + this.rng.int(this.faults.maxDelay + 1);
        this.inFlight.push({ from, to, message, at, link: undefined });
      }
      return;
    }
    if (this.rng.chance(this.faults.breakLink)) {
      this.resetLink(from, to);
      return;
    }
    const key = linkKey(from, to);
    if (!this.links.has(key)) this.links.set(key, 1);
    // FIFO on the link: never deliver before an earlier message of the same direction.
    const direction = `${from}>${to}`;
    const at = Math.max(this.now + 1 + delay, this.lastDelivery.get(direction) ?? 0);
    this.lastDelivery.set(direction, at);
    this.inFlight.push({ from, to, message, at, link: this.links.get(key) });
  }

  /** A broken quorum link: what is in flight is lost and both ends hear of it. */
  private resetLink(a: number, b: number): void {
    const key = linkKey(a, b);
    const incarnation = this.links.get(key);
    if (incarnation === undefined) return;
    this.links.set(key, incarnation + 1);
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const sim = this.peers.get(x) as SimPeer;
      if (sim.peer !== undefined) {
        sim.peer.disconnected(y);
        this.drain(sim);
      }
    }
  }

  private checkEstablished(id: number, ready: Ready<string>): void {
    if (ready.established === undefined) return;
    const epoch = ready.established;
    const earlier = this.leaders.get(epoch);
    this.log(`${id} established as leader of epoch ${epoch}`);
    if (earlier !== undefined && earlier !== id) {
      throw new SimViolation(`two leaders established in epoch ${epoch}: ${earlier} and ${id}`);
    }
    this.leaders.set(epoch, id);
  }

  private apply(sim: SimPeer, entry: Entry<string>): void {
    const i = sim.applied.length;
    const agreed = this.committed[i];
    if (agreed === undefined) this.committed.push(entry);
    else if (agreed.zxid !== entry.zxid || agreed.payload !== entry.payload) {
      throw new SimViolation(
        `peer ${sim.id} applied 0x${entry.zxid.toString(16)} (${entry.payload}) as txn #${i}, ` +
          `where 0x${agreed.zxid.toString(16)} (${agreed.payload}) was committed`,
      );
    }
    sim.applied.push(entry);
  }

  /**
   * Faults off, every peer up (but `keepDown`), partitions healed: within `bound` ticks a
   * leader serves, a new proposal commits, and every peer up has applied all that is
   * committed. Throws if not.
   */
  settle(bound: number, keepDown: ReadonlySet<number> = new Set()): void {
    this.faults = keepDown.size === 0 ? NO_FAULTS : { ...NO_FAULTS, restart: 0 };
    for (const id of this.peers.keys()) if (!keepDown.has(id)) this.restartPeer(id);
    this.partition = undefined;
    let proposed: bigint | undefined;
    for (let i = 0; i < bound; i++) {
      this.step();
      proposed ??= this.propose();
      if (proposed !== undefined && this.allApplied(proposed)) return;
    }
    const states = [...this.peers.values()]
      .map((s) => `${s.id}:${s.peer?.state ?? "down"}/${s.peer?.serving}/${s.applied.length}`)
      .join(" ");
    throw new SimViolation(
      `no progress within ${bound} ticks after the faults stopped (proposed: ${proposed}; ${states})`,
    );
  }

  private allApplied(zxid: bigint): boolean {
    return [...this.peers.values()].every(
      (s) =>
        s.peer === undefined ||
        (s.applied.length === this.committed.length && s.applied.at(-1)?.zxid === zxid),
    );
  }
}

function linkKey(a: number, b: number): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}
