/**
 * The command table: zkCli 3.8's commands with its flags, usage strings and output. One entry
 * per command; the runner (runner.ts) looks the name up, parses the flags with args.ts and
 * prints the Reply. Data-tree walks (ls -R, deleteall, setAcl -R) are in tree.ts.
 */
import {
  type ACL,
  CreateMode,
  NoNodeError,
  type WatcherType,
  type WatchListener,
  type WatchOption,
  type ZooKeeper,
} from "../../index.js";
import { type FlagSpec, type ParsedArgs, parseInt32 } from "./args.js";
import { EMPTY, type Reply, type ShellContext } from "./context.js";
import { CommandError, UsageError } from "./errors.js";
import {
  aclJson,
  aclLines,
  dataText,
  decodeData,
  javaList,
  statJson,
  statLines,
} from "./format.js";
import { parseAcl } from "./parse-acl.js";
import { deleteAll, listTree, setAclTree } from "./tree.js";

export interface Command {
  readonly name: string;
  /** zkCli's option string, shown after the name in usage lines. */
  readonly usage: string;
  readonly flags: FlagSpec;
  /** Arguments the command needs (after the flags). */
  readonly minArgs: number;
  /** False for the commands that work without a session (history, printwatches, ...). */
  readonly needsSession: boolean;
  run(ctx: ShellContext, args: ParsedArgs, zk: ZooKeeper | undefined): Promise<Reply>;
}

const NONE: FlagSpec = { switches: "", valued: "" };

function command(spec: Omit<Command, "flags" | "needsSession" | "minArgs"> & Partial<Command>) {
  return { flags: NONE, needsSession: true, minArgs: 1, ...spec } as Command;
}

const opts = (ctx: ShellContext) => ({ signal: ctx.signal });
const has = (args: ParsedArgs, flag: string) => args.flags.has(flag);
const arg = (args: ParsedArgs, i: number) => args.positionals[i]!;

function version(args: ParsedArgs): number | undefined {
  const value = args.flags.get("v");
  return typeof value === "string" ? parseInt32(value, "-v argument") : undefined;
}

/** The call's options, with the shell's watcher when the command has -w. */
function readOptions(ctx: ShellContext, args: ParsedArgs): WatchOption<WatchListener> {
  return has(args, "w") ? { signal: ctx.signal, watch: ctx.watcher } : { signal: ctx.signal };
}

function withStat(reply: Reply, stat: Parameters<typeof statLines>[0] | undefined): Reply {
  if (!stat) return reply;
  return {
    text: [...reply.text, ...statLines(stat)],
    json: { ...reply.json, stat: statJson(stat) },
  };
}

const ls = command({
  name: "ls",
  usage: "[-s] [-w] [-R] path",
  flags: { switches: "swR", valued: "" },
  async run(ctx, args, zk) {
    const path = arg(args, 0);
    if (has(args, "R")) {
      const paths = await listTree(zk!, path, readOptions(ctx, args));
      return { text: paths, json: { paths } };
    }
    if (has(args, "s")) {
      const { children, stat } = await zk!.getChildrenWithStat(path, readOptions(ctx, args));
      children.sort();
      return withStat({ text: [javaList(children)], json: { children } }, stat);
    }
    const children = await zk!.getChildren(path, readOptions(ctx, args));
    children.sort();
    return { text: [javaList(children)], json: { children } };
  },
});

const get = command({
  name: "get",
  usage: "[-s] [-w] path",
  flags: { switches: "sw", valued: "" },
  async run(ctx, args, zk) {
    const { data, stat } = await zk!.getData(arg(args, 0), readOptions(ctx, args));
    const decoded = decodeData(data);
    const reply = { text: [dataText(decoded)], json: { ...decoded } };
    return withStat(reply, has(args, "s") ? stat : undefined);
  },
});

const set = command({
  name: "set",
  usage: "[-s] [-v version] path data",
  flags: { switches: "s", valued: "v" },
  minArgs: 2,
  async run(ctx, args, zk) {
    const v = version(args);
    const stat = await zk!.setData(arg(args, 0), arg(args, 1), {
      ...opts(ctx),
      ...(v !== undefined && { version: v }),
    });
    return withStat({ text: [], json: {} }, has(args, "s") ? stat : undefined);
  },
});

const stat = command({
  name: "stat",
  usage: "[-w] path",
  flags: { switches: "w", valued: "" },
  async run(ctx, args, zk) {
    const path = arg(args, 0);
    const found = await zk!.exists(path, readOptions(ctx, args));
    if (found === null) throw new NoNodeError(path);
    return withStat(EMPTY, found);
  },
});

const create = command({
  name: "create",
  usage: "[-s] [-e] [-c] [-t ttl] path [data] [acl]",
  flags: { switches: "sec", valued: "t" },
  async run(ctx, args, zk) {
    const { mode, ttlMs } = createMode(args);
    const [path, data, acl] = args.positionals as [string, string?, string?];
    const created = await zk!.create(path, data ?? null, {
      ...opts(ctx),
      mode,
      ...(ttlMs !== undefined && { ttlMs }),
      ...(acl !== undefined && { acl: parseAcl(acl) }),
    });
    return { text: [`Created ${created}`], json: { created } };
  },
});

/** CreateCommand's rules for combining -s, -e, -c and -t. */
function createMode(args: ParsedArgs): { mode: CreateMode; ttlMs?: number } {
  const [e, s, c] = [has(args, "e"), has(args, "s"), has(args, "c")];
  const ttlText = args.flags.get("t");
  if (c && (e || s)) {
    throw new UsageError(
      "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.",
    );
  }
  let ttlMs: number | undefined;
  if (typeof ttlText === "string") {
    if (!/^[+-]?\d+$/.test(ttlText)) throw new UsageError("-t argument must be a long value");
    if (e) throw new UsageError("TTLs cannot be used with Ephemeral znodes");
    if (c) throw new UsageError("TTLs cannot be used with Container znodes");
    ttlMs = Number(ttlText);
    if (ttlMs <= 0 || ttlMs > 0xffffffffff) {
      throw new UsageError("ttl must be positive and cannot be larger than: 1099511627775");
    }
  }
  const ttl = ttlMs !== undefined;
  let mode: CreateMode = ttl ? CreateMode.PERSISTENT_WITH_TTL : CreateMode.PERSISTENT;
  if (e && s) mode = CreateMode.EPHEMERAL_SEQUENTIAL;
  else if (e) mode = CreateMode.EPHEMERAL;
  else if (s)
    mode = ttl ? CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL : CreateMode.PERSISTENT_SEQUENTIAL;
  else if (c) mode = CreateMode.CONTAINER;
  return ttlMs === undefined ? { mode } : { mode, ttlMs };
}

const del = command({
  name: "delete",
  usage: "[-v version] path",
  flags: { switches: "", valued: "v" },
  async run(ctx, args, zk) {
    const v = version(args);
    await zk!.delete(arg(args, 0), { ...opts(ctx), ...(v !== undefined && { version: v }) });
    return EMPTY;
  },
});

const deleteall = command({
  name: "deleteall",
  usage: "path [-b batch size]",
  flags: { switches: "", valued: "b" },
  async run(ctx, args, zk) {
    const batch = args.flags.get("b");
    if (typeof batch === "string" && parseInt32(batch, "-b argument") <= 0) {
      throw new UsageError("batch size must be greater than 0");
    }
    await deleteAll(zk!, arg(args, 0), opts(ctx));
    return EMPTY;
  },
});

const getAcl = command({
  name: "getAcl",
  usage: "[-s] path",
  flags: { switches: "s", valued: "" },
  async run(ctx, args, zk) {
    const { acl, stat } = await zk!.getACL(arg(args, 0), opts(ctx));
    return withStat(
      { text: aclLines(acl), json: { acl: aclJson(acl) } },
      has(args, "s") ? stat : undefined,
    );
  },
});

const setAcl = command({
  name: "setAcl",
  usage: "[-s] [-v version] [-R] path acl",
  flags: { switches: "sR", valued: "v" },
  minArgs: 2,
  async run(ctx, args, zk) {
    const acl: ACL[] = parseAcl(arg(args, 1));
    const v = version(args);
    const options = { ...opts(ctx), ...(v !== undefined && { version: v }) };
    const path = arg(args, 0);
    const stat = has(args, "R")
      ? await setAclTree(zk!, path, acl, options)
      : await zk!.setACL(path, acl, options);
    return withStat(EMPTY, has(args, "s") ? stat : undefined);
  },
});

const addauth = command({
  name: "addauth",
  usage: "scheme auth",
  async run(_ctx, args, zk) {
    await zk!.addAuth(arg(args, 0), args.positionals[1] ?? "");
    return EMPTY;
  },
});

const sync = command({
  name: "sync",
  usage: "path",
  async run(ctx, args, zk) {
    await zk!.sync(arg(args, 0), opts(ctx));
    return { text: ["Sync is OK"], json: {} };
  },
});

const ADD_WATCH_MODES = ["PERSISTENT", "PERSISTENT_RECURSIVE"];

const addWatch = command({
  name: "addWatch",
  usage:
    "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
  flags: { switches: "", valued: "m" },
  async run(ctx, args, zk) {
    const mode = args.flags.get("m") ?? "PERSISTENT_RECURSIVE";
    if (typeof mode !== "string" || !ADD_WATCH_MODES.includes(mode)) {
      throw new UsageError(`Unsupported mode: ${mode}`);
    }
    const watch = await zk!.addWatch(arg(args, 0), {
      ...opts(ctx),
      recursive: mode === "PERSISTENT_RECURSIVE",
    });
    void (async () => {
      for await (const event of watch) ctx.event(event);
      // The iterator swallows its own end; zkCli's watcher shows removewatches' removal.
      if (zk!.state === "connected" || zk!.state === "connectedReadOnly") {
        ctx.event({
          type: "PersistentWatchRemoved",
          state: "SyncConnected",
          path: watch.path,
          zxid: -1n,
        });
      }
    })().catch(() => {});
    return EMPTY;
  },
});

const removewatches = command({
  name: "removewatches",
  usage: "path [-c|-d|-a] [-l]",
  flags: { switches: "cdpral", valued: "" },
  async run(ctx, args, zk) {
    let type: WatcherType = "Any";
    if (has(args, "c")) type = "Children";
    else if (has(args, "d")) type = "Data";
    else if (has(args, "p")) type = "Persistent";
    else if (has(args, "r")) type = "PersistentRecursive";
    await zk!.removeWatches(arg(args, 0), type, { ...opts(ctx), local: has(args, "l") });
    return EMPTY;
  },
});

const getEphemerals = command({
  name: "getEphemerals",
  usage: "path",
  minArgs: 0,
  async run(ctx, args, zk) {
    const ephemerals = await zk!.getEphemerals(args.positionals[0] ?? "/", opts(ctx));
    return { text: [javaList(ephemerals)], json: { ephemerals } };
  },
});

const getAllChildrenNumber = command({
  name: "getAllChildrenNumber",
  usage: "path",
  async run(ctx, args, zk) {
    const count = await zk!.getAllChildrenNumber(arg(args, 0), opts(ctx));
    return { text: [String(count)], json: { count } };
  },
});

const whoami = command({
  name: "whoami",
  usage: "",
  minArgs: 0,
  async run(ctx, _args, zk) {
    const ids = await zk!.whoAmI(opts(ctx));
    return {
      text: ["Auth scheme: User", ...ids.map((id) => `${id.authScheme}: ${id.user}`)],
      json: { ids: ids.map((id) => ({ scheme: id.authScheme, user: id.user })) },
    };
  },
});

const config = command({
  name: "config",
  usage: "[-c] [-w] [-s]",
  flags: { switches: "cws", valued: "" },
  minArgs: 0,
  async run(ctx, args, zk) {
    const { data, stat } = await zk!.getConfig(readOptions(ctx, args));
    const text = data.toString("utf8");
    const shown = has(args, "c") ? clientConfig(text) : text;
    const reply = {
      text: shown.split("\n").filter((line, i) => i === 0 || line !== ""),
      json: { config: shown },
    };
    return withStat(reply, has(args, "s") ? stat : undefined);
  },
});

/**
 * ConfigUtils.getClientConfigStr: the config's version and the servers' client addresses
 * (`version=100000000` and `server.1=h:2888:3888;2181` give `100000000 h:2181`).
 */
function clientConfig(text: string): string {
  let version = "";
  const addresses: string[] = [];
  for (const line of text.split("\n")) {
    const [key, value = ""] = line.split("=", 2) as [string, string?];
    if (key === "version") version = value;
    if (!key.startsWith("server.")) continue;
    const [quorum = "", client] = value.split(";", 2);
    if (client === undefined) continue;
    const host = quorum.split(":")[0] ?? "";
    addresses.push(client.includes(":") ? client : `${host}:${client}`);
  }
  return `${version} ${addresses.join(",")}`;
}

const history = command({
  name: "history",
  usage: "",
  minArgs: 0,
  needsSession: false,
  async run(ctx) {
    const last = ctx.history.length - 1;
    const entries = ctx.history.map((line, n) => ({ n, line })).filter(({ n }) => n >= last - 10);
    return {
      text: entries.map(({ n, line }) => `${n} - ${line}`),
      json: { history: entries.map(({ n, line }) => ({ number: n, command: line })) },
    };
  },
});

const redo = command({
  name: "redo",
  usage: "cmdno",
  needsSession: false,
  async run(ctx, args) {
    const text = arg(args, 0);
    const index = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    const current = ctx.history.length - 1;
    if (!(index >= 0 && index < current)) throw new CommandError("Command index out of range");
    const line = ctx.history[index]!;
    if (line.trim().split(/\s+/)[0] === "redo") throw new CommandError("No redoing redos");
    // zkCli keeps the redone line in history, in place of "redo N".
    ctx.history[current] = line;
    return ctx.rerun(line);
  },
});

const printwatches = command({
  name: "printwatches",
  usage: "on|off",
  minArgs: 0,
  needsSession: false,
  async run(ctx, args) {
    const value = args.positionals[0];
    if (value === undefined) {
      const state = ctx.printWatches ? "on" : "off";
      return { text: [`printwatches is ${state}`], json: { printwatches: state } };
    }
    ctx.printWatches = value === "on";
    return EMPTY;
  },
});

const connectCommand = command({
  name: "connect",
  usage: "host:port",
  minArgs: 0,
  needsSession: false,
  async run(ctx, args) {
    ctx.connection.open(args.positionals[0]);
    await ctx.connection.session();
    return EMPTY;
  },
});

const close = command({
  name: "close",
  usage: "",
  minArgs: 0,
  needsSession: false,
  async run(ctx) {
    await ctx.connection.close();
    return EMPTY;
  },
});

const quit = command({
  name: "quit",
  usage: "",
  minArgs: 0,
  needsSession: false,
  async run(ctx) {
    ctx.quit();
    return EMPTY;
  },
});

const help = command({
  name: "help",
  usage: "",
  minArgs: 0,
  needsSession: false,
  async run(ctx) {
    const lines = ctx.usage();
    return { text: lines, json: { commands: lines } };
  },
});

export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  [
    addauth,
    addWatch,
    close,
    config,
    connectCommand,
    create,
    del,
    deleteall,
    get,
    getAcl,
    getAllChildrenNumber,
    getEphemerals,
    help,
    history,
    ls,
    printwatches,
    quit,
    redo,
    removewatches,
    set,
    setAcl,
    stat,
    sync,
    whoami,
  ].map((c) => [c.name, c]),
);

/** Older names zkCli still accepts. */
export const ALIASES: ReadonlyMap<string, string> = new Map([["rmr", "deleteall"]]);

/** zkCli's usage line for a command, e.g. `ls [-s] [-w] [-R] path`. */
export function usageOf(command: Command): string {
  return `${command.name} ${command.usage}`.trimEnd();
}
