/**
 * `zkts purge`: ZooKeeper's `PurgeTxnLog dataLogDir [snapDir] -n count` and zkCleanup.sh. Keeps
 * the COUNT most recent valid snapshots and the txn logs they need; removes older ones. Prints
 * one line per removed file, then a summary line, and exits 0.
 *
 * Bad arguments, a COUNT below 3 or a bad zoo.cfg: one line on stderr, exit 2 (ZooKeeper exits 1
 * for all of these; 2 is this CLI's usage code). A directory that does not exist, a layout
 * ZooKeeper refuses, or a file that could not be removed: one line each, exit 1, as ZooKeeper's
 * PurgeTxnLog exits 1 for a missing path.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { InvalidArgumentError } from "../../protocol/errors.js";
import { optionsFromConfig, parseZooCfg, resolveOptions } from "../../server/config.js";
import { MIN_RETAIN_COUNT, type PurgeOptions, purge } from "../../storage/purge.js";

export const PURGE_USAGE = `usage: zkts purge <dataLogDir> [<snapDir>] [-n COUNT]
       zkts purge --config zoo.cfg [-n COUNT]

Removes old snapshots and transaction logs, as ZooKeeper's PurgeTxnLog (zkCleanup.sh) does:
keeps the COUNT most recent valid snapshots in <snapDir>/version-2 and the logs in
<dataLogDir>/version-2 needed to recover them. snapDir defaults to dataLogDir.

  -n, --count COUNT   snapshots to keep, at least 3 (default 3, or the config's
                      autopurge.snapRetainCount)
  -c, --config FILE   take dataDir, dataLogDir and autopurge.snapRetainCount from a zoo.cfg

Prints one line per removed file, then a summary.`;

const DEFAULT_COUNT = 3;

/** A bad argument or config: one line on stderr, exit 2. */
class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Runs `zkts purge` with the arguments after "purge"; resolves with the exit code. */
export async function purgeCommand(argv: readonly string[]): Promise<number> {
  let request: PurgeOptions;
  try {
    const parsed = parse(argv);
    if (parsed === "help") {
      console.log(PURGE_USAGE);
      return 0;
    }
    request = parsed;
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof InvalidArgumentError)) throw error;
    return fail(error.message, 2);
  }
  let result: ReturnType<typeof purge>;
  try {
    result = purge(request);
  } catch (error) {
    return fail((error as Error).message, error instanceof InvalidArgumentError ? 2 : 1);
  }
  for (const path of result.removed) console.log(`removed ${path}`);
  for (const { path, reason } of result.failed) fail(`failed to remove ${path}: ${reason}`, 1);
  const files = result.removed.length === 1 ? "file" : "files";
  console.log(
    `purged ${result.removed.length} ${files}, keeping the ${request.retainCount} most recent ` +
      "valid snapshots and their logs",
  );
  return result.failed.length > 0 ? 1 : 0;
}

/** The purge the command line asks for, or "help". Throws UsageError or InvalidArgumentError. */
function parse(argv: readonly string[]): PurgeOptions | "help" {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    // parseArgs explains at length; the first sentence says what was wrong.
    throw new UsageError((error as Error).message.split(". ")[0]!);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  const count = values.count === undefined ? undefined : parseCount(values.count);
  if (values.config !== undefined) {
    if (positionals.length > 0)
      throw new UsageError("give either --config or directories, not both");
    return fromConfig(values.config, count);
  }
  if (positionals.length === 0)
    throw new UsageError("missing <dataLogDir> (try: zkts purge --help)");
  if (positionals.length > 2) throw new UsageError(`unexpected argument "${positionals[2]}"`);
  // PurgeTxnLog's order: the log dir first, then the snapshot dir, which defaults to it.
  const [dataLogDir, snapDir = dataLogDir] = positionals as [string, string?];
  return { dataDir: snapDir, dataLogDir, retainCount: count ?? DEFAULT_COUNT };
}

function parseFlags(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      count: { type: "string", short: "n" },
      config: { type: "string", short: "c" },
    },
  });
}

/** Integer.parseInt's digits, and PurgeTxnLog's floor of 3. */
function parseCount(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new UsageError(`'${text}' can not be parsed to integer`);
  const count = Number(text);
  if (count < MIN_RETAIN_COUNT || count > 0x7fffffff) {
    throw new UsageError(`count should be greater than or equal to ${MIN_RETAIN_COUNT}`);
  }
  return count;
}

/** zkCleanup.sh's reading of zoo.cfg, plus autopurge.snapRetainCount when -n is not given. */
function fromConfig(file: string, count: number | undefined): PurgeOptions {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`cannot read config ${file}: ${reason}`);
  }
  let props: Map<string, string>;
  try {
    props = parseZooCfg(text);
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message}`);
  }
  // resolveOptions raises a snapRetainCount below 3 to 3, as QuorumPeerConfig does.
  const options = resolveOptions(optionsFromConfig(props, (key) => `${file}: ${key}`));
  if (options.dataDir === undefined) throw new UsageError(`${file} has no dataDir`);
  return {
    dataDir: options.dataDir,
    ...(options.dataLogDir !== undefined && { dataLogDir: options.dataLogDir }),
    retainCount: count ?? options.autopurgeSnapRetainCount,
  };
}

function fail(message: string, code: number): number {
  console.error(`zkts purge: ${message.split("\n")[0]}`);
  return code;
}
