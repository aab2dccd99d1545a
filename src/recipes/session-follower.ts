/**
 * What a recipe needs to hear of its client's session, as Curator's ConnectionStateListener
 * tells RECONNECTED and LOST: the same session back after a lost connection, a new session after
 * an expiry (only with connect's renewExpiredSession), or the end of the client.
 */
import type { ClientState, ZooKeeper } from "../index.js";

export interface SessionHandlers {
  /** The same session is back: its watches were set again, but changes made meanwhile may
   *  have fired them while away, so a view should read again. */
  readonly reconnected?: () => void;
  /** A new session follows an expired one: the old one's ephemerals and watches are gone. */
  readonly renewed?: () => void;
  /** The client is done: closed, auth failed, or expired with no renewal. */
  readonly ended?: () => void;
}

/** Calls the handlers as the client's state moves; returns a function that stops it. */
export function followSession(zk: ZooKeeper, handlers: SessionHandlers): () => void {
  let previous: ClientState = zk.state;
  let expired = false;
  return zk.onState((state) => {
    if (state === "expired") {
      if (zk.renewsExpiredSession) expired = true;
      else handlers.ended?.();
    } else if (state === "closed" || state === "authFailed") {
      handlers.ended?.();
    } else if (state === "connected") {
      if (expired) {
        expired = false;
        handlers.renewed?.();
      } else if (previous === "disconnected") {
        handlers.reconnected?.();
      }
    }
    previous = state;
  });
}
