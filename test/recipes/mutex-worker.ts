/**
 * A contender in its own process, for the mutex contention test: takes the mutex `iterations`
 * times, each time incrementing the counter znode with a plain read-then-write, and prints one
 * line per hold, `hold <id> <start> <end>` (process.hrtime.bigint(), CLOCK_MONOTONIC, which
 * every process on the machine shares), then `done`.
 *
 * Usage: node --import tsx test/recipes/mutex-worker.ts <connectString> <lockPath> <counterPath>
 *        <iterations> <id>
 */
import { connect } from "../../src/index.js";
import { Mutex } from "../../src/recipes/index.js";
import { incrementUnderLock } from "./contention.js";

const [connectString, lockPath, counterPath, iterations, id] = process.argv.slice(2);
if (!connectString || !lockPath || !counterPath || !iterations || !id) {
  console.error("usage: mutex-worker <connectString> <lockPath> <counterPath> <iterations> <id>");
  process.exit(2);
}
const zk = await connect(connectString);
const mutex = new Mutex(zk, lockPath);
for (let i = 0; i < Number(iterations); i++) {
  const hold = await incrementUnderLock(zk, mutex, counterPath, id);
  console.log(`hold ${hold.id} ${hold.start} ${hold.end}`);
}
await zk.close();
console.log("done");
