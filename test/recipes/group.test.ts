/**
 * GroupMember and ServiceDiscovery against the server fixture.ts picks: members appear in every
 * view, a member that closes (or whose session closes) leaves every other view, a member id
 * already held by another session is refused, JSON instances are parsed, and on a client that
 * renews expired sessions a member registers again. Waits are on the views' own change events,
 * bounded by within().
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ZooKeeper } from "../../src/index.js";
import { GroupMember, MemberIdTakenError, ServiceDiscovery } from "../../src/recipes/index.js";
import { expireBehindProxy, sessionRenewed, within } from "../harness/client-helpers.js";
import { Clients, SERVER_NAME, serverSkip, uniquePath } from "../interop/fixture.js";

const BOUND_MS = 20_000;

/** Resolves once the member's view holds exactly `ids` (checked now and on each change). */
function viewIs(member: GroupMember, ids: readonly string[]): Promise<void> {
  const want = [...ids].sort().join(",");
  const matches = () => [...member.members().keys()].sort().join(",") === want;
  const reached = new Promise<void>((resolve) => {
    if (matches()) return resolve();
    const off = member.onChange(() => {
      if (!matches()) return;
      off();
      resolve();
    });
  });
  return within(reached, BOUND_MS, `${member.memberId} sees [${want}]`);
}

/** Resolves once `member`'s view holds `data` for member `id` (register before the change). */
function dataSeen(member: GroupMember, id: string, data: string): Promise<void> {
  const seen = new Promise<void>((resolve) => {
    const off = member.onChange((view) => {
      if (view.get(id)?.toString() !== data) return;
      off();
      resolve();
    });
  });
  return within(seen, BOUND_MS, `${member.memberId} sees ${id}'s data ${data}`);
}

describe(`GroupMember against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let observer: ZooKeeper;
  before(async () => {
    await clients.start();
    observer = await clients.open();
  });
  after(() => clients.stop());

  test("members appear in every view and leave when they close or their session ends", async () => {
    const path = `${uniquePath("group")}/workers`;
    const sessions: ZooKeeper[] = [];
    const members: GroupMember[] = [];
    for (const id of ["a", "b", "c", "d"]) {
      const zk = await clients.open();
      sessions.push(zk);
      const member = new GroupMember(zk, path, id, `data-${id}`);
      await member.start();
      members.push(member);
    }
    const [a, b, c, d] = members as [GroupMember, GroupMember, GroupMember, GroupMember];
    await Promise.all(members.map((m) => viewIs(m, ["a", "b", "c", "d"])));
    assert.equal(a.members().get("d")?.toString(), "data-d");
    assert.equal(d.members().get("a")?.toString(), "data-a");

    // A data change reaches the others.
    const updated = dataSeen(a, "b", "new-b");
    await b.setData("new-b");
    await updated;

    // close() deregisters; closing a session removes its member from the others' views.
    await c.close();
    await Promise.all([a, b, d].map((m) => viewIs(m, ["a", "b", "d"])));
    await sessions[3]?.close();
    await Promise.all([a, b].map((m) => viewIs(m, ["a", "b"])));
    assert.deepEqual((await observer.getChildren(path)).sort(), ["a", "b"]);
    await a.close();
    await b.close();
    assert.deepEqual(await observer.getChildren(path), []);
  });

  test("a member id registered by another session is refused", async () => {
    const path = uniquePath("group-taken");
    const firstSession = await clients.open();
    const first = new GroupMember(firstSession, path, "same");
    await first.start();
    const second = new GroupMember(await clients.open(), path, "same");
    await assert.rejects(second.start(), MemberIdTakenError);
    // The same session registering again takes its own node back.
    const again = new GroupMember(firstSession, path, "same");
    await again.start();
    await first.close();
    await again.close();
  });

  test("service discovery: JSON instances, live", async () => {
    const path = uniquePath("services");
    type Instance = { host: string; port: number };
    const web1 = new ServiceDiscovery<Instance>(await clients.open(), path, "web-1", {
      host: "a",
      port: 80,
    });
    await web1.start();
    const zk2 = await clients.open();
    const joined = new Promise<void>((resolve) => {
      const off = web1.onChange((instances) => {
        if (!instances.has("web-2")) return;
        off();
        resolve();
      });
    });
    const web2 = new ServiceDiscovery<Instance>(zk2, path, "web-2", { host: "b", port: 81 });
    await web2.start();
    await within(joined, BOUND_MS, "web-1 sees web-2");
    assert.deepEqual(web1.instances().get("web-2"), { host: "b", port: 81 });
    assert.deepEqual(web2.instances().get("web-1"), { host: "a", port: 80 });
    const left = new Promise<void>((resolve) => {
      const off = web1.onChange((instances) => {
        if (instances.has("web-2")) return;
        off();
        resolve();
      });
    });
    await zk2.close();
    await within(left, BOUND_MS, "web-2 leaves");
    assert.deepEqual([...web1.instances().keys()], ["web-1"]);
    await web1.close();
  });

  test("GroupMember on a renewing client registers again, and its view follows again", async () => {
    const path = uniquePath("group-renew");
    const { zk, proxy } = await clients.openBehindProxy({ renewExpiredSession: true });
    const other = await clients.open();
    const renewing = new GroupMember(zk, path, "renewing", "r");
    const steady = new GroupMember(other, path, "steady", "s");
    await renewing.start();
    await steady.start();
    const renewed = sessionRenewed(zk);
    await expireBehindProxy(clients.connectString, zk, proxy);
    const newSession = await renewed;
    // Back in the other's view, owned by the new session.
    await within(
      new Promise<void>((resolve) => {
        const check = async () => {
          const stat = await observer.exists(`${path}/renewing`);
          if (stat?.ephemeralOwner === newSession && steady.members().has("renewing")) {
            off();
            resolve();
          }
        };
        const off = steady.onChange(() => void check());
        void check();
      }),
      BOUND_MS,
      "registered again",
    );
    // The renewed member's own view follows changes made after the expiry.
    const seen = dataSeen(renewing, "steady", "s2");
    await steady.setData("s2");
    await seen;
    await renewing.close();
    await steady.close();
    assert.deepEqual(await observer.getChildren(path), []);
  });
});
