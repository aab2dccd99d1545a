/**
 * `zkts cluster`: a local ensemble, one `zkts server --config` process per server, as the
 * classic lab ran ZooKeeper in docker-compose. Server i gets data/<i> (its zoo.cfg, myid, logs
 * and snapshots), client port 2180+i, quorum port 2887+i and election port 3887+i, and its
 * AdminServer on 8079+i (by default; ZooKeeper's 8080 for server 1, and each its own, since
 * they share one machine); with --metrics-port P, Prometheus's /metrics on P-1+i.
 * It prints each server as it serves, then who leads, the connect string and the dashboard's
 * URL (server 1's AdminServer; every zoo.cfg lists every server's as admin.peer.N, so any
 * server's dashboard shows the whole ensemble); --open opens it in the desktop's browser.
 * Ctrl-C (or SIGTERM) stops every server and exits 0.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

export const CLUSTER_USAGE = `usage: zkts cluster [options]

Runs a local ensemble, one server process each, until Ctrl-C:

      --nodes N          voting servers (default 3)
      --observers N      observers besides them (default 0)
      --data DIR         where server i keeps data/<i> (default ./data)
      --host ADDR        address of every port (default 127.0.0.1)
      --client-port P    client port of server 1; server i gets P+i-1 (default 2181)
      --quorum-port P    quorum port of server 1 (default 2888); election ports from 3888
      --tick-time MS     tickTime (default 2000, zoo_sample.cfg's)
      --admin-port P     AdminServer HTTP port of server 1; server i gets P+i-1
                         (default 8080; 0: no AdminServer)
      --metrics-port P   Prometheus /metrics port of server 1; server i gets P+i-1
                         (default: none)
      --log-level LEVEL  the servers' log level (default warn)
      --open             open the dashboard (server 1's AdminServer at /) in a browser`;

interface Member {
  readonly id: number;
  readonly observer: boolean;
  readonly clientPort: number;
  readonly dataDir: string;
  /** Where its AdminServer and /metrics are, if it has them. */
  readonly http: readonly string[];
  child?: ChildProcess;
  address?: string;
}

export async function clusterCommand(argv: readonly string[]): Promise<number> {
  let values: ReturnType<typeof parse>["values"];
  try {
    ({ values } = parse(argv));
  } catch (error) {
    console.error(`zkts cluster: ${(error as Error).message.split(". ")[0]}`);
    return 2;
  }
  if (values.help) {
    console.log(CLUSTER_USAGE);
    return 0;
  }
  const number = (name: keyof typeof values, fallback: number, min: number) => {
    const text = values[name] as string | undefined;
    const n = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  let members: Member[];
  try {
    const nodes = number("nodes", 3, 1);
    const observers = number("observers", 0, 0);
    const clientPort = number("client-port", 2181, 1);
    const quorumPort = number("quorum-port", 2888, 1);
    const tickTime = number("tick-time", 2000, 1);
    const adminPort = number("admin-port", 8080, 0);
    const metricsPort = number("metrics-port", 0, 0);
    const host = (values.host as string | undefined) ?? "127.0.0.1";
    const data = resolve((values.data as string | undefined) ?? "data");
    const ports = { clientPort, quorumPort, adminPort, metricsPort };
    members = writeConfigs({ nodes, observers, ...ports, tickTime, host, data });
  } catch (error) {
    console.error(`zkts cluster: ${(error as Error).message}`);
    return 2;
  }
  return run(members, (values["log-level"] as string | undefined) ?? "warn", values.open === true);
}

function parse(argv: readonly string[]) {
  const value = { type: "string" } as const;
  return parseArgs({
    args: [...argv],
    allowPositionals: false,
    options: {
      help: { type: "boolean", short: "h" },
      open: { type: "boolean" },
      nodes: value,
      observers: value,
      data: value,
      host: value,
      "client-port": value,
      "quorum-port": value,
      "tick-time": value,
      "admin-port": value,
      "metrics-port": value,
      "log-level": value,
    },
  });
}

/** Each server's zoo.cfg and myid, ZooKeeper's layout. */
function writeConfigs(o: {
  nodes: number;
  observers: number;
  clientPort: number;
  quorumPort: number;
  /** 0: none. */
  adminPort: number;
  /** 0: none. */
  metricsPort: number;
  tickTime: number;
  host: string;
  data: string;
}): Member[] {
  const total = o.nodes + o.observers;
  const lines = Array.from({ length: total }, (_, i) => {
    const role = i >= o.nodes ? ":observer" : "";
    const electionPort = o.quorumPort + 1000 + i;
    return `server.${i + 1}=${o.host}:${o.quorumPort + i}:${electionPort}${role};${o.clientPort + i}`;
  });
  return Array.from({ length: total }, (_, i) => {
    const id = i + 1;
    const dataDir = join(o.data, String(id));
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "myid"), `${id}\n`);
    const config = [
      `tickTime=${o.tickTime}`,
      "initLimit=10",
      "syncLimit=5",
      `dataDir=${dataDir}`,
      `clientPort=${o.clientPort + i}`,
      `clientPortAddress=${o.host}`,
      ...(i >= o.nodes ? ["peerType=observer"] : []),
      ...monitoringConfig(o, i),
      ...adminPeers(o, total),
      ...lines,
    ];
    writeFileSync(join(dataDir, "zoo.cfg"), `${config.join("\n")}\n`);
    const http = [
      ...(o.adminPort === 0 ? [] : [`http://${o.host}:${o.adminPort + i}/commands`]),
      ...(o.metricsPort === 0 ? [] : [`http://${o.host}:${o.metricsPort + i}/metrics`]),
    ];
    return { id, observer: i >= o.nodes, clientPort: o.clientPort + i, dataDir, http };
  });
}

/** Server i's AdminServer and /metrics lines: each its own port, on the cluster's address. */
function monitoringConfig(
  o: { adminPort: number; metricsPort: number; host: string },
  i: number,
): string[] {
  const admin =
    o.adminPort === 0
      ? ["admin.enableServer=false"]
      : [`admin.serverAddress=${o.host}`, `admin.serverPort=${o.adminPort + i}`];
  const metrics =
    o.metricsPort === 0
      ? []
      : [
          "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
          `metricsProvider.httpHost=${o.host}`,
          `metricsProvider.httpPort=${o.metricsPort + i}`,
        ];
  return [...admin, ...metrics];
}

/** Every server's AdminServer, for the dashboard: zkts's admin.peer.N=host:port. */
function adminPeers(o: { adminPort: number; host: string }, total: number): string[] {
  if (o.adminPort === 0) return [];
  return Array.from(
    { length: total },
    (_, i) => `admin.peer.${i + 1}=${o.host}:${o.adminPort + i}`,
  );
}

/** The desktop's opener for a URL; a failure to open is only a hint, the URL is printed anyway. */
function openInBrowser(url: string): void {
  const opener =
    process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  try {
    const child = spawn(opener, [url], { stdio: "ignore", detached: true });
    child.on("error", () => console.error(`zkts cluster: could not run ${opener}; open ${url}`));
    child.unref();
  } catch {
    console.error(`zkts cluster: could not run ${opener}; open ${url}`);
  }
}

/** Starts every server, reports them and the leader, and waits for Ctrl-C. */
async function run(members: Member[], logLevel: string, open: boolean): Promise<number> {
  const main = process.argv[1] as string;
  let leader: number | undefined;
  const ready = members.map(
    (member) =>
      new Promise<void>((resolveReady, rejectReady) => {
        const args = [
          ...process.execArgv,
          main,
          "server",
          "--config",
          join(member.dataDir, "zoo.cfg"),
        ];
        const child = spawn(
          process.execPath,
          [...args, "--log-level", logLevel === "warn" ? "info" : logLevel],
          {
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        member.child = child;
        createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
          const match = /^zkts server listening on (.+)$/.exec(line);
          if (match) {
            member.address = match[1] as string;
            console.log(
              `server ${member.id}${member.observer ? " (observer)" : ""} serves clients on ` +
                `${member.address}${member.http.map((url) => `, ${url}`).join("")}`,
            );
            resolveReady();
          }
        });
        createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => {
          if (/"msg":"leader established"/.test(line) && leader !== member.id) {
            leader = member.id;
            console.log(`server ${member.id} leads`);
          } else if (/"level":(40|50|60)/.test(line) && logLevel !== "silent") {
            console.error(`server ${member.id}: ${line}`);
          } else if (!line.startsWith("{")) {
            console.error(`server ${member.id}: ${line}`);
          }
        });
        child.once("exit", (code) => {
          rejectReady(new Error(`server ${member.id} exited with ${code}`));
        });
      }),
  );
  try {
    await Promise.all(ready);
  } catch (error) {
    console.error(`zkts cluster: ${(error as Error).message}`);
    await stopAll(members);
    return 1;
  }
  const connect = members.map((m) => m.address).join(",");
  console.log(`connect string: ${connect}`);
  const admin = members[0]?.http.find((url) => url.endsWith("/commands"));
  if (admin !== undefined) {
    const dashboard = admin.replace(/\/commands$/, "/");
    console.log(`dashboard: ${dashboard}`);
    if (open) openInBrowser(dashboard);
  }
  return new Promise<number>((resolveExit) => {
    const stop = () => {
      void stopAll(members).then(() => resolveExit(0));
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

async function stopAll(members: readonly Member[]): Promise<void> {
  await Promise.all(
    members.map(
      (m) =>
        new Promise<void>((done) => {
          const child = m.child;
          if (child === undefined || child.exitCode !== null) return done();
          child.once("exit", () => done());
          child.kill("SIGTERM");
        }),
    ),
  );
}
