/**
 * The live fuzz target: a `zkts server` process (durable, on a free loopback port, tickTime 200 so
 * that abandoned sessions expire within seconds) taking hostile connections over TCP, a few at a
 * time, while a well-behaved client of ours checks that it is still served.
 *
 * Each connection must be answered or closed: when what it sent is whole frames after a
 * handshake, a last exists("/") with a reserved xid follows and its reply (or the server
 * closing the connection) must come within REPLY_WAIT_MS; otherwise the fuzzer half-closes and
 * the server must close. Findings: the server process gone, an "internal error" line in its log,
 * a connection neither answered nor closed, the well-behaved client not answered within
 * REPLY_WAIT_MS, or the server's resident memory past the bound.
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import { connect, type ZooKeeper } from "../../src/index.js";
import { ConnectResponse, Reader } from "../../src/jute/index.js";
import { FrameDecoder } from "../../src/protocol/frames.js";
import type { ZooKeeperProcess } from "../harness/apache-zookeeper.js";
import { startZkts } from "../harness/zkts-server.js";
import { Finding, isWholeFrames } from "./core.js";
import {
  chunked,
  type KnownSession,
  openingBytes,
  type Script,
  SENTINEL_XID,
  sentinelFrame,
} from "./inputs.js";

const REPLY_WAIT_MS = 10_000;
/** How often (in runs) the well-behaved client asks and the server's memory is read. */
const CHECK_EVERY_RUNS = 25;

export interface LiveOptions {
  /** Resident memory the server may reach, MiB. */
  readonly rssBoundMiB?: number;
}

export class LiveTarget {
  readonly figures = {
    runs: 0,
    connections: 0,
    inputs: 0,
    bytes: 0,
    answered: 0,
    closed: 0,
    checks: 0,
    checkMaxMs: 0,
    rssMaxKiB: 0,
  };
  private readonly known: KnownSession[] = [];
  private logOffset = 0;
  private readonly server: ZooKeeperProcess;
  private readonly client: ZooKeeper;
  private readonly rssBoundKiB: number;

  private constructor(server: ZooKeeperProcess, client: ZooKeeper, options: LiveOptions) {
    this.server = server;
    this.client = client;
    this.rssBoundKiB = (options.rssBoundMiB ?? 1024) * 1024;
  }

  static async start(options: LiveOptions = {}): Promise<LiveTarget> {
    const server = await startZkts({
      config: { tickTime: "200", maxClientCnxns: "0", "4lw.commands.whitelist": "*" },
    });
    try {
      const client = await connect(server.connectString, { sessionTimeoutMs: 4000 });
      return new LiveTarget(server, client, options);
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  get pid(): number {
    return this.server.pid;
  }

  describe(): string {
    const f = this.figures;
    return (
      `${f.runs} runs, ${f.connections} connections, ${f.inputs} inputs, ` +
      `${(f.bytes / 2 ** 20).toFixed(1)} MiB, ${f.answered} answered, ${f.closed} closed; ` +
      `well-behaved client asked ${f.checks} times, slowest ${f.checkMaxMs.toFixed(1)} ms; ` +
      `server peak RSS ${(this.peakKiB() / 1024).toFixed(0)} MiB`
    );
  }

  /** One run: `scripts` as concurrent connections; throws a Finding. */
  async run(scripts: readonly Script[]): Promise<void> {
    this.figures.runs++;
    await Promise.all(scripts.map((script) => this.drive(script)));
    this.checkAlive();
    if (this.figures.runs % CHECK_EVERY_RUNS === 0) await this.check();
  }

  /** The well-behaved client is answered, the log holds no internal error, memory is bounded. */
  async check(): Promise<void> {
    this.checkAlive();
    const started = performance.now();
    const answer = await Promise.race([
      this.client.exists("/").then(() => "answered" as const),
      new Promise<"late">((resolve) => setTimeout(() => resolve("late"), REPLY_WAIT_MS).unref()),
    ]);
    if (answer === "late")
      throw new Finding(`the well-behaved client waited over ${REPLY_WAIT_MS} ms`);
    const ms = performance.now() - started;
    this.figures.checks++;
    this.figures.checkMaxMs = Math.max(this.figures.checkMaxMs, ms);
    const rss = status(this.server.pid, "VmRSS");
    this.figures.rssMaxKiB = Math.max(this.figures.rssMaxKiB, rss);
    if (rss > this.rssBoundKiB) {
      throw new Finding(
        `server resident memory ${rss} KiB, over the bound of ${this.rssBoundKiB} KiB`,
      );
    }
    const log = this.newLog();
    const bad = log.split("\n").filter((line) => /internal error|uncaught|unhandled/i.test(line));
    if (bad.length > 0) throw new Finding(`server log: ${bad.join("\n")}`);
  }

  /**
   * Once the fuzz connections are gone (bounded wait for `cons` to list only the well-behaved
   * client and the asking connection), no watch may be left: a watch of a closed connection is
   * never removed, and holds that connection's memory for the life of the server.
   */
  async checkNothingLeft(): Promise<void> {
    let connections = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 500 && connections > 2; i++) {
      const cons = await this.server.fourLetterWord("cons");
      connections = cons.split("\n").filter((line) => line.startsWith(" /")).length;
    }
    if (connections > 2) throw new Finding(`${connections - 2} fuzz connections still open`);
    const wchs = await this.server.fourLetterWord("wchs");
    if (!wchs.startsWith("0 connections watching")) {
      throw new Finding(`watches left behind by closed connections: ${wchs.trim()}`);
    }
  }

  /** What the server holds now, from mntr: where its memory went. */
  async holdings(): Promise<string> {
    const mntr = await this.server.fourLetterWord("mntr");
    const keys = [
      "zk_znode_count",
      "zk_approximate_data_size",
      "zk_watch_count",
      "zk_ephemerals_count",
      "zk_num_alive_connections",
      "zk_global_sessions",
    ];
    return mntr
      .split("\n")
      .filter((line) => keys.includes(line.split("\t")[0] ?? ""))
      .map((line) => line.replace("\t", " "))
      .join(", ");
  }

  peakKiB(): number {
    try {
      return status(this.server.pid, "VmHWM");
    } catch {
      return 0;
    }
  }

  async stop(): Promise<void> {
    await this.client.close();
    await this.server.stop();
  }

  private checkAlive(): void {
    if (!this.server.running) {
      const tail = this.newLog().split("\n").slice(-40).join("\n");
      throw new Finding(`the server process exited; its last output:\n${tail}`);
    }
  }

  private newLog(): string {
    try {
      const bytes = readFileSync(this.server.logFile);
      const text = bytes.subarray(this.logOffset).toString("utf8");
      this.logOffset = bytes.length;
      return text;
    } catch {
      return "";
    }
  }

  /** One connection: its opening, its pieces in chunks, then the sentinel or a half-close. */
  private async drive(script: Script): Promise<void> {
    const stream = Buffer.concat([
      openingBytes(script.opening, this.known),
      ...script.pieces.map((p) => p.bytes),
    ]);
    const handshake = script.opening.kind !== "fourLetterWord" && stream.length > 0;
    const intact = handshake && isWholeFrames(stream);
    this.figures.connections++;
    this.figures.inputs += script.pieces.length + 1;
    this.figures.bytes += stream.length;
    const socket = net.connect({ host: this.server.host, port: this.server.port });
    socket.setNoDelay(true);
    const outcome = new Promise<"answered" | "closed">((resolve) => {
      const decoder = new FrameDecoder(256 * 1024 * 1024);
      let first = handshake;
      socket.on("data", (chunk: Buffer) => {
        try {
          decoder.push(chunk, (frame) => {
            if (first) this.learn(frame);
            first = false;
            if (frame.length >= 4 && frame.readInt32BE(0) === SENTINEL_XID) resolve("answered");
          });
        } catch {
          // A four-letter word's answer is text, not frames.
        }
      });
      socket.on("close", () => resolve("closed"));
      socket.on("error", () => {});
    });
    if (!script.reads) socket.pause();
    await new Promise<void>((resolve) => socket.once("connect", resolve).once("close", resolve));
    for (const chunk of chunked(stream, script.cuts)) socket.write(chunk);
    if (intact) socket.write(sentinelFrame());
    else socket.end();
    // A client that lags takes its replies only once it has sent everything.
    if (!script.reads) setImmediate(() => socket.resume());
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      outcome,
      new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), REPLY_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    socket.destroy();
    if (result === "late") {
      throw new Finding(
        `${intact ? "whole frames" : "a broken stream, half-closed,"} neither answered nor closed in ${REPLY_WAIT_MS} ms`,
      );
    }
    this.figures[result]++;
  }

  private learn(frame: Buffer): void {
    if (frame.length < 36) return;
    try {
      const response = ConnectResponse.read(new Reader(frame));
      if (response.sessionId === 0n) return;
      this.known.push({ sessionId: response.sessionId, passwd: Buffer.from(response.passwd) });
      if (this.known.length > 64) this.known.shift();
    } catch {
      // Not a ConnectResponse.
    }
  }
}

/** A field of /proc/<pid>/status, KiB. */
function status(pid: number, field: "VmRSS" | "VmHWM"): number {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(text);
  return match === null ? 0 : Number(match[1]);
}
