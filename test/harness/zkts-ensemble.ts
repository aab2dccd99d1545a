/**
 * A zkts ensemble of real processes for fault tests: N `zkts server --config <dir>/zoo.cfg`
 * children on free loopback ports (client, quorum and election port each), each with its own
 * temporary dataDir holding zoo.cfg, myid, the txn log and snapshots, and `zkts.out` (stdout and
 * stderr, JSON logs at `--log-level info`).
 *
 *     const ensemble = await startEnsemble();        // resolves once a leader serves with all
 *     const leader = await ensemble.leader();        // by srvr's Mode: line
 *     await ensemble.kill(leader);                   // SIGKILL by pid
 *     await ensemble.restart(leader);                // same zoo.cfg, same dataDir, same ports
 *     await ensemble.waitServing([1, 2, 3]);         // every one leader or follower, one leader
 *     await ensemble.stop();                         // SIGTERM (SIGKILL after 5 s), dirs removed
 *
 * Servers are only ever signalled by the pid we spawned (child-processes.ts), and that module
 * SIGKILLs any survivor if the test process exits without stop().
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  killAndWait,
  releaseDir,
  removeAtExit,
  spawnTracked,
  type TrackedProcess,
  terminateAndWait,
} from "./child-processes.js";
import { fourLetterWord, modeOf } from "./four-letter-word.js";
import { freePorts } from "./free-ports.js";
import { fileSize, readSince } from "./output-file.js";

const HOST = "127.0.0.1";
const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const TSX_LOADER = import.meta.resolve("tsx");
const LISTENING = /^zkts server listening on (.+):(\d+)$/m;
const POLL_MS = 25;
/** Node plus tsx start in well under a second; a loaded machine may take several. */
const READY_TIMEOUT_MS = 20_000;
const TAIL_LINES = 30;

export interface EnsembleOptions {
  /** Voting servers (default 3). */
  readonly size?: number;
  /** Observers besides (default 0): ids size+1, size+2, ... with peerType=observer. */
  readonly observers?: number;
  /** More zoo.cfg lines by ZooKeeper's names, e.g. { maxSessionTimeout: "30000" }. */
  readonly config?: Readonly<Record<string, string>>;
  /** Lines for one server only, on top of `config` (e.g. its own admin.serverPort). */
  readonly memberConfig?: (id: number) => Readonly<Record<string, string>>;
  /** Bound on the first waitServing (default 30 000 ms). */
  readonly readyTimeoutMs?: number;
}

export interface Member {
  readonly id: number;
  readonly clientPort: number;
  readonly quorumPort: number;
  readonly electionPort: number;
  readonly dataDir: string;
  readonly configFile: string;
  readonly logFile: string;
  /** host:port of its client port. */
  readonly address: string;
  process: TrackedProcess | undefined;
}

export type Mode = "leader" | "follower" | "observer" | "looking" | "standalone" | "read-only";

/** Starts `size` servers and resolves once every one serves, one of them as leader. */
export async function startEnsemble(options: EnsembleOptions = {}): Promise<Ensemble> {
  const voters = options.size ?? 3;
  const size = voters + (options.observers ?? 0);
  const root = mkdtempSync(join(tmpdir(), "zkts-ensemble-"));
  removeAtExit(root);
  const ports = await freePorts(3 * size);
  const port = (i: number) => ports[i] as number;
  const members: Member[] = Array.from({ length: size }, (_, i) => {
    const id = i + 1;
    const dataDir = join(root, String(id));
    return {
      id,
      clientPort: port(3 * i),
      quorumPort: port(3 * i + 1),
      electionPort: port(3 * i + 2),
      dataDir,
      configFile: join(dataDir, "zoo.cfg"),
      logFile: join(dataDir, "zkts.out"),
      address: `${HOST}:${port(3 * i)}`,
      process: undefined,
    };
  });
  const observer = (m: Member) => m.id > voters;
  const serverLines = members.map(
    (m) =>
      `server.${m.id}=${HOST}:${m.quorumPort}:${m.electionPort}${observer(m) ? ":observer" : ""};${m.clientPort}`,
  );
  for (const m of members) {
    mkdirSync(m.dataDir, { recursive: true });
    writeFileSync(join(m.dataDir, "myid"), `${m.id}\n`);
    const settings: Record<string, string> = {
      tickTime: "200",
      initLimit: "10",
      syncLimit: "5",
      dataDir: m.dataDir,
      clientPort: String(m.clientPort),
      clientPortAddress: HOST,
      ...(observer(m) && { peerType: "observer" }),
      // `zkts server` has ZooKeeper's AdminServer default (port 8080): off unless asked for.
      "admin.enableServer": "false",
      ...options.config,
      ...options.memberConfig?.(m.id),
    };
    const lines = [...Object.entries(settings).map(([k, v]) => `${k}=${v}`), ...serverLines];
    writeFileSync(m.configFile, `${lines.join("\n")}\n`);
  }
  const ensemble = new Ensemble(root, members);
  try {
    await Promise.all(members.map((m) => ensemble.start(m.id)));
    await ensemble.waitServing(
      members.map((m) => m.id),
      options.readyTimeoutMs ?? 30_000,
    );
  } catch (error) {
    await ensemble.stop();
    throw error;
  }
  return ensemble;
}

export class Ensemble {
  readonly root: string;
  readonly members: readonly Member[];

  constructor(root: string, members: readonly Member[]) {
    this.root = root;
    this.members = members;
  }

  member(id: number): Member {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw new Error(`no server ${id}`);
    return m;
  }

  /** Every server's client address, or those of `ids`. */
  connectString(ids: readonly number[] = this.members.map((m) => m.id)): string {
    return ids.map((id) => this.member(id).address).join(",");
  }

  running(id: number): boolean {
    const p = this.member(id).process;
    return p !== undefined && !p.hasExited();
  }

  /** Spawns server `id` (same config, same dataDir) and resolves once its client port is open. */
  async start(id: number): Promise<void> {
    const m = this.member(id);
    if (this.running(id)) return;
    const offset = fileSize(m.logFile);
    const args = [
      "--import",
      TSX_LOADER,
      MAIN,
      "server",
      "--config",
      m.configFile,
      "--log-level",
      "info",
    ];
    const child = spawnTracked(process.execPath, args, m.logFile);
    m.process = child;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const output = readSince(m.logFile, offset);
      if (LISTENING.test(output)) return;
      if (child.hasExited())
        throw new Error(`server ${id} exited before it listened:\n${tail(output)}`);
      if (Date.now() >= deadline) {
        await killAndWait(child);
        throw new Error(`server ${id} did not listen in ${READY_TIMEOUT_MS} ms:\n${tail(output)}`);
      }
      await sleep(POLL_MS);
    }
  }

  /**
   * Sets zoo.cfg lines of server `id` for its next start (a value of undefined removes the
   * line): a rolling change of configuration, one server at a time.
   */
  configure(id: number, settings: Readonly<Record<string, string | undefined>>): void {
    const { configFile } = this.member(id);
    const lines = readFileSync(configFile, "utf8").trimEnd().split("\n");
    const kept = lines.filter((line) => !Object.hasOwn(settings, line.split("=", 1)[0] ?? ""));
    const added = Object.entries(settings).flatMap(([k, v]) =>
      v === undefined ? [] : [`${k}=${v}`],
    );
    writeFileSync(configFile, `${[...added, ...kept].join("\n")}\n`);
  }

  /** SIGKILLs server `id` by pid and waits until it has exited. */
  async kill(id: number): Promise<void> {
    const p = this.member(id).process;
    if (p !== undefined) await killAndWait(p);
  }

  restart(id: number): Promise<void> {
    return this.start(id);
  }

  /** srvr's Mode: line of server `id`, or undefined when it does not answer. */
  async mode(id: number): Promise<Mode | undefined> {
    if (!this.running(id)) return undefined;
    try {
      const reply = await fourLetterWord(HOST, this.member(id).clientPort, "srvr", 1_000);
      return modeOf(reply) as Mode | undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Waits until every server of `ids` answers srvr as leader, follower or observer with exactly one
   * leader among them, and resolves with the leader's id. Rejects after `timeoutMs` naming
   * the modes it saw last.
   */
  async waitServing(ids: readonly number[], timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last: (Mode | undefined)[] = [];
    for (;;) {
      last = await Promise.all(ids.map((id) => this.mode(id)));
      const leaders = ids.filter((_, i) => last[i] === "leader");
      const allServe = last.every((m) => m === "leader" || m === "follower" || m === "observer");
      if (allServe && leaders.length === 1) return leaders[0] as number;
      if (Date.now() >= deadline) {
        const seen = ids.map((id, i) => `${id}=${last[i] ?? "no answer"}`).join(", ");
        throw new Error(`servers ${ids.join(",")} not serving in ${timeoutMs} ms: ${seen}`);
      }
      await sleep(POLL_MS * 2);
    }
  }

  /** Waits until srvr of server `id` satisfies `ok`; resolves with that mode. */
  async waitMode(
    id: number,
    ok: (mode: Mode | undefined) => boolean,
    timeoutMs: number,
  ): Promise<Mode | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const mode = await this.mode(id);
      if (ok(mode)) return mode;
      if (Date.now() >= deadline)
        throw new Error(`server ${id}: mode still ${mode ?? "no answer"} after ${timeoutMs} ms`);
      await sleep(POLL_MS * 2);
    }
  }

  /** The id of the one running server whose srvr says leader (throws if not exactly one). */
  async leader(): Promise<number> {
    const ids = this.members.filter((m) => this.running(m.id)).map((m) => m.id);
    const modes = await Promise.all(ids.map((id) => this.mode(id)));
    const leaders = ids.filter((_, i) => modes[i] === "leader");
    if (leaders.length !== 1) throw new Error(`leaders by srvr: [${leaders.join(",")}]`);
    return leaders[0] as number;
  }

  /** The last lines of server `id`'s output (for failure messages). */
  logTail(id: number, lines = TAIL_LINES): string {
    return tail(readSince(this.member(id).logFile, 0), lines);
  }

  /** The JSON log lines of server `id` whose msg matches. */
  logLines(id: number, msg: RegExp): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const line of readSince(this.member(id).logFile, 0).split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        if (typeof record.msg === "string" && msg.test(record.msg)) out.push(record);
      } catch {
        // A line cut short by SIGKILL.
      }
    }
    return out;
  }

  /** Stops every server (SIGTERM, SIGKILL after 5 s) and removes the dataDirs. */
  async stop(options: { keepDirs?: boolean } = {}): Promise<void> {
    await Promise.all(
      this.members.map((m) => (m.process === undefined ? undefined : terminateAndWait(m.process))),
    );
    if (options.keepDirs === true) return;
    rmSync(this.root, { recursive: true, force: true, maxRetries: 3 });
    releaseDir(this.root);
  }
}

function tail(text: string, lines = TAIL_LINES): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n") || "(empty)";
}
