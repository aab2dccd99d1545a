/**
 * The shell's session: which servers, the client once connected, and the state the prompt
 * shows. Connecting runs in the background, so the interactive prompt appears at once and shows
 * CONNECTING; a command that needs the session waits for it. `connect` and `close` swap or end it.
 */
import { type ClientState, connect, type WatchEvent, type ZooKeeper } from "../../index.js";
import { NotConnectedError } from "./errors.js";

export interface ConnectionOptions {
  /** zkCli's -timeout: the session timeout asked of the server, in ms. */
  readonly sessionTimeoutMs: number;
  /** zkCli's -r: accept a read-only server. */
  readonly readOnly: boolean;
  /** Called with every watch event and every state change after the first connect. */
  readonly onEvent: (event: WatchEvent) => void;
  /** Called whenever the state the prompt shows changes. */
  readonly onStateChange: () => void;
}

/** zkCli's prompt names for the client's states. */
const STATE_LABELS: Record<ClientState, string> = {
  connecting: "CONNECTING",
  connected: "CONNECTED",
  connectedReadOnly: "CONNECTEDREADONLY",
  disconnected: "DISCONNECTED",
  expired: "EXPIRED",
  authFailed: "AUTH_FAILED",
  closed: "CLOSED",
};

/** Watcher.Event.KeeperState for a state change, as zkCli's default watcher reports it. */
const KEEPER_STATES: Partial<Record<ClientState, WatchEvent["state"]>> = {
  connected: "SyncConnected",
  connectedReadOnly: "ConnectedReadOnly",
  disconnected: "Disconnected",
  expired: "Expired",
  authFailed: "AuthFailed",
};

export class ShellConnection {
  /** The connect string of the current (or last) session. */
  connectString: string;
  private readonly options: ConnectionOptions;
  private client: ZooKeeper | undefined;
  private pending: Promise<ZooKeeper> | undefined;
  private failure: string | undefined;
  private generation = 0;

  constructor(connectString: string, options: ConnectionOptions) {
    this.connectString = connectString;
    this.options = options;
  }

  /** What the prompt shows: CONNECTING, CONNECTED, DISCONNECTED, CLOSED, ... */
  get state(): string {
    if (this.client) return STATE_LABELS[this.client.state];
    if (this.pending) return "CONNECTING";
    return this.failure === undefined ? "CLOSED" : "NOT_CONNECTED";
  }

  /** The client if it is connected now, without waiting (tab completion must not block). */
  get connected(): ZooKeeper | undefined {
    const state = this.client?.state;
    return state === "connected" || state === "connectedReadOnly" ? this.client : undefined;
  }

  /** The live client, connecting first if no session was ever opened. */
  async session(): Promise<ZooKeeper> {
    if (this.client) {
      if (isFinal(this.client.state)) throw new NotConnectedError();
      return this.client;
    }
    if (!this.pending) {
      if (this.failure !== undefined || this.generation > 0) throw new NotConnectedError();
      this.open();
    }
    return this.pending!;
  }

  /** Starts a session with `connectString` (default: the current one), closing any old one. */
  open(connectString = this.connectString): void {
    const old = this.client;
    this.client = undefined;
    if (old) void old.close().catch(() => {});
    this.connectString = connectString;
    this.failure = undefined;
    const generation = ++this.generation;
    const pending = this.start(connectString, generation);
    this.pending = pending;
    // The failure is reported by whoever awaits it; unobserved, it must not crash the shell.
    pending.catch(() => {});
    this.options.onStateChange();
  }

  private async start(connectString: string, generation: number): Promise<ZooKeeper> {
    const { sessionTimeoutMs } = this.options;
    let client: ZooKeeper;
    try {
      client = await connect(connectString, {
        sessionTimeoutMs,
        initialConnectTimeoutMs: sessionTimeoutMs,
        requestTimeoutMs: sessionTimeoutMs,
        canBeReadOnly: this.options.readOnly,
      });
    } catch (error) {
      if (generation === this.generation) {
        this.pending = undefined;
        this.failure = (error as Error).message;
        this.options.onStateChange();
      }
      throw new NotConnectedError(
        `cannot connect to ${connectString}: ${(error as Error).message}`,
      );
    }
    if (generation !== this.generation) {
      // A newer connect or a close overtook this one.
      void client.close().catch(() => {});
      throw new NotConnectedError();
    }
    this.client = client;
    this.pending = undefined;
    client.onState((state) => {
      if (this.client !== client) return;
      const keeperState = KEEPER_STATES[state];
      if (keeperState)
        this.options.onEvent({ type: "None", state: keeperState, path: "", zxid: -1n });
      this.options.onStateChange();
    });
    this.options.onStateChange();
    return client;
  }

  /** Ends the session (its ephemerals go at once). */
  async close(): Promise<void> {
    this.generation++;
    const client = this.client;
    this.client = undefined;
    this.pending = undefined;
    this.options.onStateChange();
    if (client) await client.close();
  }
}

function isFinal(state: ClientState): boolean {
  return state === "closed" || state === "expired" || state === "authFailed";
}
