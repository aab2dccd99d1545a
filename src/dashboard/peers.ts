/**
 * The ensemble as one answer: this server's own view, and every other server's asked over its
 * AdminServer, each bounded by a short timeout so that a dead server shows as down at once
 * instead of holding the page.
 */
import type { AdminContext } from "../server/admin/commands.js";
import type { Json } from "./views.js";

/** Past this a server counts as down for this round (the page asks again shortly). */
const PEER_TIMEOUT_MS = 800;

export interface ServerAnswer {
  readonly id: number;
  /** host:port of its AdminServer. */
  readonly admin: string | null;
  readonly up: boolean;
  readonly view: Json;
  readonly error?: string;
}

/** `/dashboard/api/<name>` from every server in `peers`; ours from `own`, not over HTTP. */
export async function fetchAll(
  ctx: AdminContext,
  peers: ReadonlyMap<number, string>,
  name: string,
  own: Json,
): Promise<Json> {
  const myId = ctx.quorum?.myId ?? 1;
  const ids = new Set([myId, ...peers.keys(), ...(ctx.quorum?.servers ?? []).map((s) => s.id)]);
  const answers = await Promise.all(
    [...ids]
      .sort((a, b) => a - b)
      .map(async (id): Promise<ServerAnswer> => {
        const admin = peers.get(id) ?? null;
        if (id === myId) return { id, admin, up: true, view: own };
        if (admin === null) return { id, admin, up: false, view: null, error: "no admin address" };
        try {
          const response = await fetch(`http://${admin}/dashboard/api/${name}`, {
            signal: AbortSignal.timeout(PEER_TIMEOUT_MS),
          });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          return { id, admin, up: true, view: (await response.json()) as Json };
        } catch (error) {
          return { id, admin, up: false, view: null, error: (error as Error).message };
        }
      }),
  );
  return answers as unknown as Json;
}
