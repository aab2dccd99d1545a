/**
 * The classic lab's leader election: three candidates, each in its own session; the leader
 * resigns after a moment of work and the next in line takes over, until each has led once.
 *
 *   npx tsx examples/election.ts [connectString]   (default 127.0.0.1:2181; `npm start` serves it)
 */
import { connect } from "../src/index.js";
import { LeaderElection } from "../src/recipes/index.js";

const connectString = process.argv[2] ?? process.env.ZK ?? "127.0.0.1:2181";
const path = `/zkts-election-example-${process.pid}`;

const observer = await connect(connectString);
const candidates = await Promise.all(
  ["alice", "bob", "carol"].map(async (id) => {
    const zk = await connect(connectString);
    const election = new LeaderElection(zk, path, { id, data: `${id}'s address` });
    election.start();
    return { id, zk, election };
  }),
);

const waiting = [...candidates];
for (let turn = 0; waiting.length > 0; turn++) {
  // Whoever is elected does its work, then steps down for the next one.
  const current = await Promise.race(waiting.map((c) => c.election.elected().then(() => c)));
  const leader = await LeaderElection.currentLeader(observer, path);
  console.log(
    `turn ${turn}: ${current.id} leads; anyone can read it: ${leader?.id} (${leader?.data})`,
  );
  await current.election.resign();
  waiting.splice(waiting.indexOf(current), 1);
}

for (const { zk, election } of candidates) {
  await election.close();
  await zk.close();
}
await observer.delete(path).catch(() => {});
await observer.close();
