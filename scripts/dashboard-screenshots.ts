/**
 * The README's dashboard screenshots (docs/dashboard-*.png): a 3-server ensemble on free
 * loopback ports (the test harness's), some znodes, a mutex at the demo's path with a holder
 * and two waiters, a little traffic for the sparklines, then one PNG per view from headless
 * Chromium. Not part of `npm test`.
 *
 *     npx tsx scripts/dashboard-screenshots.ts
 */
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { connect, type ZooKeeper } from "../src/index.js";
import { Mutex } from "../src/recipes/index.js";
import { launchChromium } from "../test/harness/chromium.js";
import { freePorts } from "../test/harness/free-ports.js";
import { startEnsemble } from "../test/harness/zkts-ensemble.js";

const OUT = "docs";
const superDigest = `super:${createHash("sha1").update("super:secret").digest("base64")}`;

const adminPorts = await freePorts(3);
const ensemble = await startEnsemble({
  config: {
    "admin.enableServer": "true",
    "admin.serverAddress": "127.0.0.1",
    "DigestAuthenticationProvider.superDigest": superDigest,
    ...Object.fromEntries(adminPorts.map((p, i) => [`admin.peer.${i + 1}`, `127.0.0.1:${p}`])),
  },
  memberConfig: (id) => ({ "admin.serverPort": String(adminPorts[id - 1]) }),
});
const hosts = ensemble.members.map((m) => m.address).join(",");
const clients: ZooKeeper[] = [];
const browser = await launchChromium();
try {
  const zk = await connect(hosts);
  clients.push(zk);
  await zk.create("/app", "");
  await zk.create("/app/config", JSON.stringify({ replicas: 3, region: "eu-west" }, null, 2));
  await zk.create("/app/workers", "");
  for (let i = 0; i < 12; i++) await zk.create(`/app/workers/w-${String(i).padStart(3, "0")}`, "");
  await zk.create("/app/blob", Buffer.from([0, 1, 2, 0xfe, 0xff]));
  await zk.getData("/app/config", { watch: true });
  const lock = "/zkts-demo-mutex-screenshot/lock";
  for (let i = 0; i < 3; i++) {
    const c = await connect(hosts);
    clients.push(c);
    const m = new Mutex(c, lock);
    if (i === 0) await m.acquire();
    else void m.acquire().catch(() => undefined); // ends when its client closes
  }
  let stop = false;
  const traffic = (async () => {
    for (let n = 0; !stop; n++) {
      await zk.setData("/app/config", JSON.stringify({ replicas: 3, region: "eu-west", n }));
      for (let i = 0; i < 20; i++) await zk.getData("/app/config");
    }
  })();
  const page = await browser.newPage({ viewport: { width: 1200, height: 640 } });
  await page.goto(`http://127.0.0.1:${adminPorts[0]}/`);
  await page.waitForSelector("#servers .card[data-role=leader]");
  await page.waitForTimeout(8_000); // sparklines: some history
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: `${OUT}/dashboard-ensemble.png` });
  await page.goto(`http://127.0.0.1:${adminPorts[0]}/#tree`);
  await page.click('.tree .name[data-path="/app"]');
  await page.click('.tree li[data-path="/app"] > .toggle');
  await page.click('.tree li[data-path="/app/workers"] > .toggle');
  await page.click('.tree .name[data-path="/app/config"]');
  await page.fill("#super-password", "secret");
  await page.click("#signin button");
  await page.waitForSelector("#set-button");
  await page.screenshot({ path: `${OUT}/dashboard-tree.png` });
  await page.goto(`http://127.0.0.1:${adminPorts[0]}/#sessions`);
  await page.waitForSelector("#sessions tr[data-session]");
  await page.waitForSelector("#watches tr[data-watch]");
  await page.screenshot({ path: `${OUT}/dashboard-sessions.png` });
  await page.goto(`http://127.0.0.1:${adminPorts[0]}/#recipes`);
  await page.waitForFunction('document.querySelectorAll("#recipe-queue li").length === 2');
  await page.screenshot({ path: `${OUT}/dashboard-recipes.png` });
  stop = true;
  await traffic;
  console.log(`screenshots in ${OUT}/dashboard-{ensemble,tree,sessions,recipes}.png`);
} finally {
  await browser.close();
  for (const c of clients) await c.close().catch(() => undefined);
  await ensemble.stop();
}
