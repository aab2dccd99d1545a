/**
 * The two clients under test behind one callback shape, so the benchmark's loop costs the same
 * per op for both: `issue(path, ok, fail)`, with `ok` and `fail` made once per run (no per-op
 * closures on the benchmark's side; whatever a client allocates per op is its own cost).
 */
import type * as Zkts from "../src/index.js";

/** What the zkts driver needs of the package: src/ (through tsx) or the built dist/. */
export type ZktsModule = Pick<typeof Zkts, "connect" | "CreateMode">;

/**
 * Loads zkts from src/ (as tsx runs it) or from dist/ (tsc's output, what users run: `npm run
 * build` first). tsx compiles with esbuild's keepNames, which wraps every function created at run
 * time (each closure, per call) in a `__name()` call; dist/ has none of that.
 */
export async function loadZkts(from: "src" | "dist"): Promise<ZktsModule> {
  const specifier = from === "dist" ? "../dist/index.js" : "../src/index.js";
  return (await import(specifier)) as ZktsModule;
}

export const OPS = ["create", "setData", "getData", "exists"] as const;
export type Op = (typeof OPS)[number];

/** Starts one op on `path`; calls `ok` or `fail` exactly once. */
export type Issue = (path: string, ok: () => void, fail: (error: unknown) => void) => void;

export type Client = { readonly name: string; close(): Promise<void> } & Record<Op, Issue>;

/** One function per (ok, fail) pair, made again only when a new run brings a new pair. */
function perRun<F>(make: (ok: () => void, fail: (error: unknown) => void) => F) {
  let lastOk: (() => void) | undefined;
  let lastFail: ((error: unknown) => void) | undefined;
  let made: F | undefined;
  return (ok: () => void, fail: (error: unknown) => void): F => {
    if (made === undefined || ok !== lastOk || fail !== lastFail) {
      lastOk = ok;
      lastFail = fail;
      made = make(ok, fail);
    }
    return made;
  };
}

/** zkts, through its public API: one promise per op. */
export async function zktsClient(
  zkts: ZktsModule,
  connectString: string,
  data: Buffer,
): Promise<Client> {
  const zk = await zkts.connect(connectString, { sessionTimeoutMs: 30_000 });
  const persistent = { mode: zkts.CreateMode.PERSISTENT };
  const existsOk = perRun(
    (ok, fail) => (stat: unknown) => (stat ? ok() : fail(new Error("exists: node missing"))),
  );
  return {
    name: "zkts",
    create: (path, ok, fail) => {
      zk.create(path, data, persistent).then(ok, fail);
    },
    setData: (path, ok, fail) => {
      zk.setData(path, data).then(ok, fail);
    },
    getData: (path, ok, fail) => {
      zk.getData(path).then(ok, fail);
    },
    exists: (path, ok, fail) => {
      zk.exists(path).then(existsOk(ok, fail), fail);
    },
    close: () => zk.close(),
  };
}

type Callback = (error: Error | null | undefined, ...results: unknown[]) => void;

/** The part of node-zookeeper-client 1.1.3 (CommonJS, untyped) that the benchmark uses. */
export interface NzcModule {
  createClient(connectString: string, options?: { sessionTimeout?: number }): NzcClient;
  readonly CreateMode: { readonly PERSISTENT: number };
}

interface NzcClient {
  once(event: "connected" | "disconnected", listener: () => void): void;
  connect(): void;
  close(): void;
  create(path: string, data: Buffer, mode: number, callback: Callback): void;
  setData(path: string, data: Buffer, version: number, callback: Callback): void;
  getData(path: string, callback: Callback): void;
  exists(path: string, callback: Callback): void;
}

const NZC_CONNECT_TIMEOUT_MS = 15_000;
const NZC_CLOSE_TIMEOUT_MS = 5_000;

/** node-zookeeper-client: callbacks. One shared callback per (ok, fail) pair. */
export async function nzcClient(
  nzc: NzcModule,
  connectString: string,
  data: Buffer,
): Promise<Client> {
  const zk = nzc.createClient(connectString, { sessionTimeout: 30_000 });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`nzc: not connected to ${connectString} in 15 s`)),
      NZC_CONNECT_TIMEOUT_MS,
    );
    zk.once("connected", () => {
      clearTimeout(timer);
      resolve();
    });
    zk.connect();
  });
  const mode = nzc.CreateMode.PERSISTENT;
  const done = perRun(
    (ok, fail): Callback =>
      (error) =>
        error ? fail(error) : ok(),
  );
  const existsDone = perRun(
    (ok, fail): Callback =>
      (error, stat) =>
        error ? fail(error) : stat ? ok() : fail(new Error("exists: node missing")),
  );
  const client: Client = {
    name: "nzc",
    create: (path, ok, fail) => zk.create(path, data, mode, done(ok, fail)),
    setData: (path, ok, fail) => zk.setData(path, data, -1, done(ok, fail)),
    getData: (path, ok, fail) => zk.getData(path, done(ok, fail)),
    exists: (path, ok, fail) => zk.exists(path, existsDone(ok, fail)),
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, NZC_CLOSE_TIMEOUT_MS);
        zk.once("disconnected", () => {
          clearTimeout(timer);
          resolve();
        });
        zk.close();
      }),
  };
  return client;
}
