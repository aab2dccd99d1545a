/**
 * The HTTP side of monitoring, on node:http: the AdminServer (JettyAdminServer's behaviour) and
 * the Prometheus endpoint (PrometheusMetricsProvider's), each on its own port as in ZooKeeper.
 *
 * AdminServer: GET <commandURL> lists the commands as links; GET <commandURL>/<name>?k=v runs
 * one (a primary name or an alias; arguments as query parameters, set_trace_mask's traceMask)
 * and answers 200 with JSON, errors included (as ZooKeeper 3.8 does); other methods get 405 and
 * other paths 404. Prometheus: GET /metrics.
 *
 * An AdminExtension (the dashboard, src/dashboard/) may answer other paths of the AdminServer
 * first; server/ itself knows nothing of what it serves.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ResolvedServerOptions } from "../config.js";
import { PROMETHEUS_METRICS_PROVIDER } from "../config.js";
import type { Logger } from "../logger.js";
import { type AdminContext, PRIMARY_NAMES, runCommand } from "./commands.js";
import { jacksonJson } from "./jackson-json.js";
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from "./prometheus.js";

/**
 * More routes on the AdminServer's port: answers the request and returns true, or returns
 * false to leave it to the commands.
 */
export type AdminExtension = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ctx: AdminContext,
) => boolean;

export interface MonitoringEndpoints {
  /** The AdminServer's port, when it runs. */
  readonly adminPort: number | undefined;
  /** The /metrics port, when the Prometheus provider is configured. */
  readonly metricsPort: number | undefined;
  close(): Promise<void>;
}

/**
 * Starts what `resolved` asks for. A port that cannot be bound fails the start, as ZooKeeper
 * refuses to run without an AdminServer or metrics provider it was told to start.
 */
export async function startMonitoring(
  ctx: AdminContext,
  resolved: ResolvedServerOptions,
  log: Logger,
  { adminExtension: extension }: { readonly adminExtension?: AdminExtension | undefined } = {},
): Promise<MonitoringEndpoints> {
  const servers: http.Server[] = [];
  const closeAll = () => Promise.all(servers.map(closeServer)).then(() => {});
  try {
    let adminPort: number | undefined;
    let metricsPort: number | undefined;
    if (resolved.adminEnableServer) {
      const server = http.createServer((req, res) => {
        if (extension?.(req, res, ctx) === true) return;
        adminRequest(ctx, resolved.adminCommandUrl, req, res);
      });
      servers.push(server);
      adminPort = await listen(server, resolved.adminServerAddress, resolved.adminServerPort);
      log.info({ address: resolved.adminServerAddress, port: adminPort }, "admin server started");
    }
    if (resolved.metricsProviderClassName === PROMETHEUS_METRICS_PROVIDER) {
      const exportJvmInfo = resolved.metricsProviderExportJvmInfo;
      const server = http.createServer((req, res) => metricsRequest(ctx, exportJvmInfo, req, res));
      servers.push(server);
      const host = resolved.metricsProviderHttpHost;
      metricsPort = await listen(server, host, resolved.metricsProviderHttpPort);
      log.info({ address: host, port: metricsPort }, "/metrics endpoint started");
    }
    return { adminPort, metricsPort, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

function adminRequest(
  ctx: AdminContext,
  commandUrl: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  const url = new URL(req.url ?? "/", "http://admin");
  const base = commandUrl === "/" ? "" : commandUrl;
  const path = url.pathname;
  if (path !== base && path !== `${base}/` && !path.startsWith(`${base}/`)) {
    return plain(res, 404, "Not Found");
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    return plain(res, 405, `HTTP method ${req.method} is not supported by this URL`);
  }
  const name = decodeURIComponent(path.slice(base.length + 1));
  if (name === "") {
    const links = PRIMARY_NAMES.map((n) => `<a href="${base}/${n}">${n}</a>\n<br/>\n`);
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end(links.join(""));
    return;
  }
  const args = new Map(url.searchParams);
  const body = jacksonJson(runCommand(name, ctx, args));
  res.writeHead(200, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

function metricsRequest(
  ctx: AdminContext,
  exportJvmInfo: boolean,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  const path = new URL(req.url ?? "/", "http://metrics").pathname;
  if (path !== "/metrics") return plain(res, 404, "Not Found");
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    return plain(res, 405, `HTTP method ${req.method} is not supported by this URL`);
  }
  const body = prometheusText(ctx, exportJvmInfo);
  res.writeHead(200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
  res.end(body);
}

function plain(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
  res.end(`${message}\n`);
}

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    // A scraper's keep-alive connection must not hold the server open.
    server.closeAllConnections();
  });
}
