/**
 * Service discovery that survives a lost session: two instances of an "api" service register,
 * a client watches the live list, and one instance's session is made to expire (as Curator's
 * KillSession does: another client takes the session over and closes it). Its client renews
 * the session (renewExpiredSession) and the instance registers again by itself.
 *
 *   npx tsx examples/service-discovery.ts [connectString]   (default 127.0.0.1:2181)
 */
import { connect, type ZooKeeper } from "../src/index.js";
import { ServiceDiscovery } from "../src/recipes/index.js";

interface Instance {
  host: string;
  port: number;
}

const connectString = process.argv[2] ?? process.env.ZK ?? "127.0.0.1:2181";
const path = `/zkts-services-example-${process.pid}/api`;

const start = async (id: string, port: number) => {
  const zk = await connect(connectString, { renewExpiredSession: true });
  const instance = new ServiceDiscovery<Instance>(zk, path, id, { host: "127.0.0.1", port });
  await instance.start();
  return { zk, instance };
};
const api1 = await start("api-1", 8081);
const api2 = await start("api-2", 8082);

const names = () => [...api2.instance.instances().keys()].sort().join(", ");
console.log(`instances: ${names()}`);

/** Resolves once api-2's live view satisfies `test` (it changes with every (de)registration). */
const viewed = (test: (ids: string[]) => boolean) =>
  new Promise<void>((resolve) => {
    const check = () => {
      if (!test([...api2.instance.instances().keys()])) return false;
      off();
      resolve();
      return true;
    };
    const off = api2.instance.onChange(() => check());
    check();
  });

// Expire api-1's session from outside, as a long network partition would.
const kill = async (zk: ZooKeeper) => {
  const taker = await connect(connectString, {
    sessionId: zk.sessionId,
    sessionPassword: zk.sessionPassword,
  });
  await taker.close();
};
const oldSession = api1.zk.sessionId;
const gone = viewed((ids) => !ids.includes("api-1"));
const back = gone.then(() => viewed((ids) => ids.includes("api-1")));
await kill(api1.zk);
await gone;
console.log(`api-1's session 0x${oldSession.toString(16)} expired; instances: ${names()}`);
await back;
console.log(
  `api-1 registered again on session 0x${api1.zk.sessionId.toString(16)}; instances: ${names()}`,
);

for (const { zk, instance } of [api1, api2]) {
  await instance.close();
  await zk.close();
}
const cleanup = await connect(connectString);
await cleanup.delete(path).catch(() => {});
await cleanup.delete(path.slice(0, path.lastIndexOf("/"))).catch(() => {});
await cleanup.close();
