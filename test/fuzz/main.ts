/**
 * `npm run fuzz`: hostile input against the server, for as long as asked.
 *
 *     npm run fuzz                                   # 10,000 runs of each target
 *     npm run fuzz -- --runs=1000000                 # the long run: 10^6 inputs per target
 *     npm run fuzz -- --target=live --runs=20000 --seed=42
 *     npm run fuzz -- --minutes=20                   # stop each target after that long
 *
 * Targets: `core` (the connection shell and server core in this process, fake sockets: fast)
 * and `live` (a `zkts server` process over TCP, with a well-behaved client watching it). A run
 * is 1-4 connections; an input is one piece a connection sends (its opening, a frame, a bad
 * length prefix, raw bytes), so `--runs` counts runs and the figures count inputs too.
 * A failure prints the seed and the shrunk counterexample (`--seed=S --path=P` replays it) and
 * exits 1. Options: --target=core,live --runs=N --seed=S --minutes=M --connections=K (live).
 */
import fc from "fast-check";
import { CoreTarget } from "./core.js";
import { script } from "./inputs.js";
import { LiveTarget } from "./live.js";

interface Options {
  targets: string[];
  runs: number;
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
    if (!Number.isFinite(value) || value < 0) {
      console.error(`fuzz: --${name} must be a number`);
      process.exit(2);
    }
    return value;
  };
  const minutes = args.get("minutes");
  return {
    targets: (args.get("target") ?? "core,live").split(","),
    runs: number("runs", 10_000),
    seed: number("seed", Date.now() % 2 ** 31),
    path: args.get("path"),
    minutes: minutes === undefined ? undefined : number("minutes", 0),
  };
}

export const runArbitrary = fc.array(script, { minLength: 1, maxLength: 4 });

async function fuzz(
  name: string,
  options: Options,
  run: (s: typeof runArbitrary extends fc.Arbitrary<infer T> ? T : never) => Promise<void>,
  figures: () => string,
): Promise<boolean> {
  const started = performance.now();
  const deadline = options.minutes === undefined ? Infinity : started + options.minutes * 60_000;
  let timedOut = false;
  const progress = setInterval(() => {
    console.error(
      `fuzz ${name}: ${figures()}, ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
  }, 30_000);
  try {
    await fc.assert(
      fc.asyncProperty(runArbitrary, async (scripts) => {
        if (performance.now() > deadline) {
          timedOut = true;
          return;
        }
        await run(scripts);
      }),
      {
        numRuns: options.runs,
        seed: options.seed,
        ...(options.path === undefined ? {} : { path: options.path }),
        endOnFailure: name === "live",
      },
    );
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
      `fuzz ${name}: seed ${options.seed}, ${figures()}, ${seconds.toFixed(1)} s` +
        `${timedOut ? " (stopped at --minutes)" : ""}, fuzzer peak RSS ${rss} MiB`,
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
      () =>
        `${f.runs} runs, ${f.connections} connections, ${f.pieces} inputs, ${(f.bytes / 2 ** 20).toFixed(1)} MiB, ${f.answered} answered, ${f.closed} closed`,
    );
  }
  if (options.targets.includes("live") && ok) {
    const live = await LiveTarget.start();
    try {
      const f = live.figures;
      ok &&= await fuzz(
        "live",
        options,
        (s) => live.run(s),
        () => live.describe(),
      );
      void f;
    } finally {
      await live.stop();
    }
  }
  process.exit(ok ? 0 : 1);
}

await main();
