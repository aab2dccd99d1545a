/**
 * The dashboard's writes, through the server's own client port as any client's are: a short
 * session authenticated as the super user (digest super:<password>), so prep checks ACLs and
 * versions and the txn goes through the quorum like every other. The version is the one the
 * user saw: a node changed meanwhile answers BADVERSION instead of being overwritten.
 */
import { connect } from "../client/connect.js";
import type { AdminContext } from "../server/admin/commands.js";

export interface WriteRequest {
  readonly op: "create" | "set" | "delete";
  readonly path: string;
  /** UTF-8 text (create, set). */
  readonly data?: string;
  /** The version the user saw (set, delete); -1 means any. */
  readonly version?: number;
}

export type WriteResult =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly error: string; readonly code: string | null };

const CONNECT_TIMEOUT_MS = 5_000;

export async function writeThroughClientPort(
  ctx: AdminContext,
  password: string,
  request: WriteRequest,
): Promise<WriteResult> {
  const { op, path } = request;
  const version = Number.isInteger(request.version) ? (request.version as number) : -1;
  if (typeof path !== "string" || !path.startsWith("/")) {
    return { ok: false, error: "path must start with /", code: null };
  }
  if (op !== "create" && op !== "set" && op !== "delete") {
    return { ok: false, error: `unknown op ${String(op)}`, code: null };
  }
  const host = ctx.server.options.clientPortAddress;
  const address = `${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host}:${ctx.clientPort}`;
  let zk: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    zk = await connect(address, {
      auth: [{ scheme: "digest", auth: `super:${password}` }],
      initialConnectTimeoutMs: CONNECT_TIMEOUT_MS,
      requestTimeoutMs: CONNECT_TIMEOUT_MS,
    });
    if (op === "create") return { ok: true, path: await zk.create(path, request.data ?? "") };
    if (op === "set") await zk.setData(path, request.data ?? "", { version });
    else await zk.delete(path, { version });
    return { ok: true, path };
  } catch (error) {
    const e = error as Error & { code?: unknown };
    return { ok: false, error: e.message, code: e.name ?? null };
  } finally {
    await zk?.close().catch(() => undefined);
  }
}
