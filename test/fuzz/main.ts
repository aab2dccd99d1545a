/**
 * `npm run fuzz`: hostile input against the server, for as long as asked.
 *
 *     npm run fuzz                                   # 10,000 runs of each target
 *     npm run fuzz -- --inputs=1000000               # the long run: 10^6 inputs per target
 *     npm run fuzz -- --target=live --runs=20000 --seed=42
 *     npm run fuzz -- --inputs=1000000 --minutes=20  # ... or 20 minutes a target, if sooner
 *
 * Targets: `core` (the connection shell and server core in this process, fake sockets: fast)
 * and `live` (a `zkts server` process over TCP, with a well-behaved client watching it). A run
 * is 1-4 connections; an input is one piece a connection sends (its opening, a frame, a bad
 * length prefix, raw bytes), so `--runs` counts runs and the figures count inputs too.
 * Runs go in batches of 1,000, batch i with seed S + i. A failure prints its batch's seed and
 * the shrunk counterexample (`--seed=<that seed> --path=P` replays it) and exits 1.
 * Options: --target=core,live --runs=N --inputs=N --minutes=M --seed=S --path=P.
 */
import fc from "fast-check";
import { CoreTarget } from "./core.js";
import { script } from "./inputs.js";
import { LiveTarget } from "./live.js";

interface Options {
  targets: string[];
  runs: number;
  inputs: number;
  seed: number;
  path: string | undefined;
  minutes: number | undefined;
}

function parse(argv: readonly string[]): Options {
  const args = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (match === null) {
      console.error(`fuzz: unknown argument ${arg} (expected --name=value)`);
      process.exit(2);
    }
    args.set(match[1] as string, match[2] as string);
  }
  const number = (name: string, fallback: number): number => {
    const value = Number(args.get(name) ?? fallback);
    if (Number.isNaN(value) || value < 0) {
      console.error(`fuzz: --${name} must be a number`);
      process.exit(2);
    }
    return value;
  };
  const minutes = args.get("minutes");
  return {
    targets: (args.get("target") ?? "core,live").split(","),
    runs: number("runs", args.has("inputs") || minutes !== undefined ? Infinity : 10_000),
    inputs: number("inputs", Infinity),
    seed: number("seed", Date.now() % 2 ** 31),
    path: args.get("path"),
    minutes: minutes === undefined ? undefined : number("minutes", 0),
  };
}

export const runArbitrary = fc.array(script, { minLength: 1, maxLength: 4 });

const BATCH_RUNS = 1000;

/**
 * Runs batches of BATCH_RUNS fast-check runs, batch i with seed + i, until `runs` runs, `inputs`
 * inputs or `minutes` minutes, whichever comes first. A failure names its batch's seed.
 */
async function fuzz(
  name: string,
  options: Options,
  run: (s: typeof runArbitrary extends fc.Arbitrary<infer T> ? T : never) => Promise<void>,
  inputs: () => number,
  figures: () => string,
): Promise<boolean> {
  const started = performance.now();
  const deadline = options.minutes === undefined ? Infinity : started + options.minutes * 60_000;
  const progress = setInterval(() => {
    console.error(
      `fuzz ${name}: ${figures()}, ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
  }, 30_000);
  let done = 0;
  let stop = "runs";
  try {
    for (let batch = 0; done < options.runs; batch++) {
      if (inputs() >= options.inputs) {
        stop = "inputs";
        break;
      }
      if (performance.now() > deadline) {
        stop = "minutes";
        break;
      }
      const numRuns = Math.min(BATCH_RUNS, options.runs - done);
      const seed = options.seed + batch;
      await fc.assert(
        fc.asyncProperty(runArbitrary, (scripts) => run(scripts)),
        {
          numRuns,
          seed,
          ...(options.path === undefined ? {} : { path: options.path }),
          // Shrinking against a live server replays on changed state: report the first failure.
          endOnFailure: name === "live",
        },
      );
      done += numRuns;
    }
    return true;
  } catch (error) {
    // The counterexample holds frames of up to 1 MiB: print its head; the seed and path replay it.
    const message = String((error as Error).message ?? error);
    console.error(message.length > 4000 ? `${message.slice(0, 4000)} ...(cut)` : message);
    console.error(
      `cause: ${String(((error as Error).cause as Error)?.stack ?? (error as Error).cause)}`,
    );
    return false;
  } finally {
    clearInterval(progress);
    const seconds = (performance.now() - started) / 1000;
    const rss = (process.resourceUsage().maxRSS / 1024).toFixed(0);
    console.log(
      `fuzz ${name}: seed ${options.seed}, ${figures()}, ${seconds.toFixed(1)} s ` +
        `(stopped at --${stop}), fuzzer peak RSS ${rss} MiB`,
    );
  }
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  let ok = true;
  if (options.targets.includes("core")) {
    const core = new CoreTarget();
    const f = core.figures;
    ok &&= await fuzz(
      "core",
      options,
      (s) => core.run(s),
      () => f.pieces,
      () =>
        `${f.runs} runs, ${f.connections} connections, ${f.pieces} inputs, ${(f.bytes / 2 ** 20).toFixed(1)} MiB, ${f.answered} answered, ${f.closed} closed`,
    );
  }
  if (options.targets.includes("live") && ok) {
    const live = await LiveTarget.start();
    try {
      ok &&= await fuzz(
        "live",
        options,
        (s) => live.run(s),
        () => live.figures.inputs,
        () => live.describe(),
      );
      if (ok) {
        await live.check();
        await live.checkNothingLeft();
      }
      console.log(`fuzz live: the server holds ${await live.holdings()}`);
    } finally {
      await live.stop();
    }
  }
  process.exit(ok ? 0 : 1);
}

await main();
