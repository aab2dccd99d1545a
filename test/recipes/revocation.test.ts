/**
 * Revocable locks against the server fixture.ts picks (Apache ZooKeeper, or zkts): a waiter in
 * another session asks the holder to let go, the holder's listener hears it and releases, and
 * the waiter gets the lock; a holder that ignores the request keeps it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ZooKeeper } from "../../src/index.js";
import {
  Mutex,
  makeRevocable,
  REVOKE_DATA,
  type RevocationRequest,
  requestRevoke,
} from "../../src/recipes/index.js";
import { Clients, SERVER_NAME, serverSkip, uniquePath } from "../interop/fixture.js";
import { childrenCount } from "./contention.js";

describe(`revocable locks against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let observer: ZooKeeper;
  before(async () => {
    await clients.start();
    observer = await clients.open();
  });
  after(() => clients.stop());

  test("the holder hears a waiter's request from another session and releases", async () => {
    const lockPath = uniquePath("revoke-release");
    const zkA = await clients.open();
    const heard: RevocationRequest[] = [];
    const holder = makeRevocable(zkA, new Mutex(zkA, lockPath), (request) => {
      heard.push(request);
      void request.lock.release();
    });
    assert.equal(await holder.acquire(), true);
    const holderNode = holder.nodePath!;
    const zkB = await clients.open();
    const waiter = new Mutex(zkB, lockPath);
    const waited = waiter.acquire({ timeoutMs: 10_000 });
    await childrenCount(observer, lockPath, 2);
    const [first] = await waiter.participantNodes();
    assert.equal(first, holderNode);
    assert.equal(await requestRevoke(zkB, first!), true);
    assert.equal(await waited, true);
    assert.equal(holder.isHeld, false);
    assert.deepEqual(
      heard.map((r) => r.path),
      [holderNode],
    );
    await waiter.release();
    assert.deepEqual(await observer.getChildren(lockPath), []);
  });

  test("a request made while the holder was still waiting is heard once it holds", async () => {
    const lockPath = uniquePath("revoke-early");
    const first = new Mutex(observer, lockPath);
    assert.equal(await first.acquire(), true);
    const zkB = await clients.open();
    let heard!: (request: RevocationRequest) => void;
    const request = new Promise<RevocationRequest>((resolve) => {
      heard = resolve;
    });
    const second = makeRevocable(zkB, new Mutex(zkB, lockPath), heard);
    const acquiring = second.acquire();
    await childrenCount(observer, lockPath, 2);
    const [, secondNode] = await first.participantNodes();
    assert.equal(await requestRevoke(observer, secondNode!), true);
    await first.release();
    assert.equal(await acquiring, true);
    assert.equal((await request).path, secondNode);
    await second.release();
  });

  test("a holder that ignores the request keeps the lock; a gone node is no request", async () => {
    const lockPath = uniquePath("revoke-ignore");
    const zkA = await clients.open();
    let heard!: () => void;
    const requested = new Promise<void>((resolve) => {
      heard = resolve;
    });
    const holder = makeRevocable(zkA, new Mutex(zkA, lockPath), () => heard());
    assert.equal(await holder.acquire(), true);
    const holderNode = holder.nodePath!;
    assert.equal(await requestRevoke(observer, holderNode), true);
    await requested;
    assert.equal((await observer.getData(holderNode)).data.toString(), REVOKE_DATA);
    const waiter = new Mutex(await clients.open(), lockPath);
    assert.equal(await waiter.acquire({ timeoutMs: 300 }), false);
    assert.equal(holder.isHeld, true);
    await holder.release();
    assert.equal(await requestRevoke(observer, holderNode), false);
    assert.deepEqual(await observer.getChildren(lockPath), []);
  });
});
