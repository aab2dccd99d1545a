/** Small waits on our client's own events, for tests: no sleeps, always bounded. */
import { type ClientState, connect, SessionExpiredError, type ZooKeeper } from "../../src/index.js";
import type { TcpProxy } from "./tcp-proxy.js";

/**
 * Resolves when `zk` enters `state` (register this before the action that causes it), rejects
 * after `timeoutMs` naming the states it saw instead.
 */
export function stateReached(zk: ZooKeeper, state: ClientState, timeoutMs = 20_000): Promise<void> {
  if (zk.state === state) return Promise.resolve();
  const seen: ClientState[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(
          `state ${state} not reached in ${timeoutMs} ms; saw ${seen.join(" → ") || "nothing"}`,
        ),
      );
    }, timeoutMs);
    const off = zk.onState((s) => {
      seen.push(s);
      if (s !== state) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/**
 * Resolves with the new session's id once `zk` (made with renewExpiredSession) has heard
 * `expired` and then `connected`; register it before the expiry.
 */
export function sessionRenewed(zk: ZooKeeper, timeoutMs = 20_000): Promise<bigint> {
  const seen: ClientState[] = [];
  const renewed = new Promise<bigint>((resolve) => {
    const off = zk.onState((s) => {
      seen.push(s);
      if (s !== "connected" || !seen.includes("expired")) return;
      off();
      resolve(zk.sessionId);
    });
  });
  return within(renewed, timeoutMs, "a renewed session (expired, then connected)");
}

/**
 * Curator's KillSession: another client takes `victim`'s session over and closes it, until the
 * server refuses the session id as expired (so the close is known to have landed). Used by
 * killWhileAway, which keeps the victim from winning its session back meanwhile.
 */
async function expireSession(
  connectString: string,
  victim: ZooKeeper,
  attempts = 20,
): Promise<void> {
  const sessionId = victim.sessionId;
  const sessionPassword = victim.sessionPassword;
  for (let attempt = 0; attempt < attempts; attempt++) {
    let taker: ZooKeeper;
    try {
      taker = await connect(connectString, { sessionId, sessionPassword });
    } catch (error) {
      if (error instanceof SessionExpiredError) return;
      throw error;
    }
    await taker.close();
  }
  throw new Error(`session 0x${sessionId.toString(16)} still open after ${attempts} closes`);
}

/**
 * Keeps `victim` away (its proxy refuses and cuts) while its session is taken over and closed
 * (expireSession). Nothing can race the kill then: with the victim free to reconnect, it may
 * win its session back mid-kill, and Apache ZooKeeper 3.8 was seen to leave that connection
 * open on the closed session, the victim none the wiser until a ping. `proxy.refuse(false)`
 * lets it back, to hear "expired".
 */
export async function killWhileAway(
  connectString: string,
  victim: ZooKeeper,
  proxy: TcpProxy,
): Promise<void> {
  const down = stateReached(victim, "disconnected");
  proxy.refuse(true);
  proxy.cut();
  await down;
  await expireSession(connectString, victim);
}

/** killWhileAway, then lets the victim back: it hears "expired" on its next attempt. */
export async function expireBehindProxy(
  connectString: string,
  victim: ZooKeeper,
  proxy: TcpProxy,
): Promise<void> {
  await killWhileAway(connectString, victim, proxy);
  proxy.refuse(false);
}

/** Records every state `zk` goes through from now on. */
export function recordStates(zk: ZooKeeper): ClientState[] {
  const seen: ClientState[] = [];
  zk.onState((s) => seen.push(s));
  return seen;
}

/** Rejects after `timeoutMs` if `promise` has not settled: a bound for waits on events. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}
