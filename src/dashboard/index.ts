/**
 * The live dashboard, served by a server's AdminServer: the page at `/` and its JSON API under
 * `/dashboard/api/`. It sits beside cli/ (it may use both server/ and the client): reads come
 * straight from this server's DataTree and figures; writes go through the client port like
 * any client's, authenticated as the super user, with the version the user saw.
 *
 *     GET  /                                   the page (one HTML file, no build step)
 *     GET  /dashboard/api/self                 this server's role, epoch, zxid, counters
 *     GET  /dashboard/api/all/<self|watches>   the same from every server of the ensemble
 *     GET  /dashboard/api/children?path=&offset=   one page of children, sorted
 *     GET  /dashboard/api/node?path=           data, Stat, ACL
 *     GET  /dashboard/api/sessions             sessions, timeouts, ephemerals
 *     GET  /dashboard/api/watches              this server's watches by path
 *     GET  /dashboard/api/recipe?path=         a mutex's holder and queue, an election's leader
 *     GET  /dashboard/api/demos                the paths `zkts demo` uses right now
 *     GET  /dashboard/api/whoami               {super}: checks the Basic credentials
 *     POST /dashboard/api/write                {op: create|set|delete, path, data, version}
 *
 * Every API answer allows any origin (CORS), so a page served by one server can ask another
 * when its own goes down. Writes need `Authorization: Basic <super:password>` matching the
 * server's DigestAuthenticationProvider.superDigest; without one configured the dashboard is
 * read-only.
 */
import type http from "node:http";
import type { AdminContext } from "../server/admin/commands.js";
import type { AdminExtension } from "../server/admin/http.js";
import { generateDigest } from "../server/auth.js";
import { DASHBOARD_HTML } from "./page.js";
import { fetchAll } from "./peers.js";
import {
  childrenView,
  demoPaths,
  type Json,
  nodeView,
  recipeView,
  selfView,
  sessionsView,
  watchesView,
} from "./views.js";
import { type WriteRequest, writeThroughClientPort } from "./writes.js";

export interface DashboardOptions {
  /**
   * Every server's AdminServer as host:port, by server id (zoo.cfg's `admin.peer.N`). When
   * empty, an ensemble's servers are taken to run theirs on this server's admin port.
   */
  readonly peers?: ReadonlyMap<number, string>;
}

const API = "/dashboard/api/";
/** The most a write's JSON body may be: jute.maxbuffer is the server's own bound on data. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** The dashboard as AdminServer routes. */
export function createDashboard(options: DashboardOptions = {}): AdminExtension {
  return (req, res, ctx) => {
    const url = new URL(req.url ?? "/", "http://dashboard");
    if (url.pathname === "/" || url.pathname === "/index.html") {
      if (req.method !== "GET" && req.method !== "HEAD") return false;
      res.writeHead(200, {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
      });
      res.end(DASHBOARD_HTML);
      return true;
    }
    if (url.pathname === "/favicon.ico") {
      res.writeHead(204);
      res.end();
      return true;
    }
    if (!url.pathname.startsWith(API)) return false;
    const route = url.pathname.slice(API.length);
    if (req.method === "OPTIONS") {
      res.writeHead(204, corsHeaders());
      res.end();
      return true;
    }
    handle(route, url, req, res, ctx, options).catch((error: unknown) => {
      send(res, 500, { error: (error as Error).message });
    });
    return true;
  };
}

async function handle(
  route: string,
  url: URL,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ctx: AdminContext,
  options: DashboardOptions,
): Promise<void> {
  const path = normalize(url.searchParams.get("path"));
  const isSuper = superUser(req, ctx) !== undefined;
  if (route === "write") return write(req, res, ctx);
  if (req.method !== "GET") return send(res, 405, { error: `${req.method} not allowed` });
  switch (route) {
    case "self":
      return send(res, 200, selfView(ctx));
    case "all/self":
    case "all/watches": {
      const own = route === "all/self" ? selfView(ctx) : watchesView(ctx);
      const servers = await fetchAll(ctx, peerAddresses(ctx, options), route.slice(4), own);
      return send(res, 200, { servers });
    }
    case "children": {
      const offset = Math.max(0, Number(url.searchParams.get("offset") ?? 0) | 0);
      return send(res, 200, childrenView(ctx, path, offset));
    }
    case "node":
      return send(res, 200, nodeView(ctx, path, isSuper));
    case "sessions":
      return send(res, 200, sessionsView(ctx));
    case "watches":
      return send(res, 200, watchesView(ctx));
    case "recipe":
      return send(res, 200, recipeView(ctx, path));
    case "demos":
      return send(res, 200, demoPaths(ctx));
    case "whoami":
      return send(res, 200, {
        super: isSuper,
        writable: ctx.server.options.superDigest !== undefined,
      });
    default:
      return send(res, 404, { error: `no such API: ${route}` });
  }
}

async function write(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ctx: AdminContext,
): Promise<void> {
  if (req.method !== "POST") return send(res, 405, { error: "POST only" });
  const password = superUser(req, ctx);
  if (password === undefined) {
    return send(res, 403, { error: "read-only: sign in as the super user to change znodes" });
  }
  let body: WriteRequest;
  try {
    body = JSON.parse(await readBody(req)) as WriteRequest;
  } catch (error) {
    return send(res, 400, { error: `bad request: ${(error as Error).message}` });
  }
  const result = await writeThroughClientPort(ctx, password, body);
  send(res, result.ok ? 200 : 409, result);
}

/**
 * The super user's password when the request carries Basic credentials whose digest is the
 * server's superDigest (DigestAuthenticationProvider's check), else undefined.
 */
function superUser(req: http.IncomingMessage, ctx: AdminContext): string | undefined {
  const superDigest = ctx.server.options.superDigest;
  const header = req.headers.authorization;
  if (superDigest === undefined || header === undefined) return undefined;
  const match = /^Basic\s+(.+)$/i.exec(header);
  if (match === null) return undefined;
  const credentials = Buffer.from(match[1] as string, "base64").toString("utf8");
  if (!credentials.startsWith("super:")) return undefined;
  return generateDigest(credentials) === superDigest ? credentials.slice(6) : undefined;
}

/** Every server's admin host:port by id: zoo.cfg's admin.peer.N, else ours on each host. */
function peerAddresses(ctx: AdminContext, options: DashboardOptions): Map<number, string> {
  if (options.peers !== undefined && options.peers.size > 0) return new Map(options.peers);
  const port = ctx.server.options.adminServerPort;
  return new Map((ctx.quorum?.servers ?? []).map((s) => [s.id, `${s.host}:${port}`]));
}

function normalize(path: string | null): string {
  if (path === null || path === "" || path === "/") return "/";
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error("body too large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function corsHeaders(): Record<string, string> {
  return {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
  };
}

function send(res: http.ServerResponse, status: number, body: Json): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...corsHeaders(),
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
  });
  res.end(text);
}
