/**
 * A watch storm on a live server: one setData of a znode 1,000 sessions watch. Past the
 * pacer's per-turn budget the notifications wait and go out over later turns
 * (notification-pacer.ts), and still every session sees its watch event before any reply that
 * shows the change: each session asks for the data as soon as the first event is out, and a
 * reply carrying the new data must come after the session's own event.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect, type ZooKeeper } from "../../src/index.js";
import { createLogger, type RunningServer, startServer } from "../../src/server/index.js";
import {
  NOTIFICATIONS_PER_TURN,
  notificationPacer,
} from "../../src/server/net/notification-pacer.js";
import { getDataFrame, RawSession } from "../harness/raw-session.js";

/** Per turn while this test runs: small, so the storm takes many turns and reads meet held events. */
const PER_TURN = 10;
const WATCHERS = 1000;

describe("a watch storm", { timeout: 120_000 }, () => {
  let server: RunningServer;
  let writer: ZooKeeper;
  const sessions: RawSession[] = [];

  before(async () => {
    notificationPacer.perTurn = PER_TURN;
    server = await startServer(
      { clientPort: 0, clientPortAddress: "127.0.0.1", maxClientCnxns: 0 },
      createLogger("warn"),
    );
    writer = await connect(server.address);
    await writer.create("/storm", "old");
  });

  after(async () => {
    notificationPacer.perTurn = NOTIFICATIONS_PER_TURN;
    for (const s of sessions) s.destroy();
    await writer?.close();
    await server?.close();
  });

  it("spreads the notifications, and none is overtaken by a reply showing the change", async () => {
    const port = Number(server.address.split(":").at(-1));
    for (let i = 0; i < WATCHERS; i += 100) {
      const opened = await Promise.all(Array.from({ length: 100 }, () => RawSession.open(port)));
      const errs = await Promise.all(opened.map((s) => s.call(getDataFrame(1, "/storm", true))));
      assert.deepEqual(new Set(errs), new Set([0]));
      sessions.push(...opened);
    }
    const deferralsBefore = notificationPacer.deferrals;
    // Once the first event is in, every session asks for the data: the server reads many of
    // those reads while it still holds other sessions' events back.
    let asked: Promise<({ frame: Buffer; notificationsBefore: number } | undefined)[]> | undefined;
    const notified = Promise.all(
      sessions.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.onNotification = () => {
              asked ??= Promise.all(sessions.map((t) => t.exchange(getDataFrame(2, "/storm"))));
              resolve();
            };
          }),
      ),
    );
    await writer.setData("/storm", "new");
    await notified;
    const replies = await (asked as NonNullable<typeof asked>);

    let sawNew = 0;
    for (const [i, reply] of replies.entries()) {
      assert.ok(reply !== undefined, `session ${i} was closed`);
      const data = readData(reply.frame);
      if (data === "new") {
        sawNew++;
        assert.equal(
          reply.notificationsBefore,
          1,
          `session ${i} got the new data before its event`,
        );
      } else {
        assert.equal(data, "old");
      }
    }
    for (const s of sessions) assert.equal(s.notifications, 1);
    // The storm was paced (else this test proves nothing about held events), and many reads
    // came in while events were held back.
    assert.ok(notificationPacer.deferrals - deferralsBefore >= WATCHERS - PER_TURN);
    assert.ok(sawNew > 0);
  });
});

/** The data of a GetDataResponse frame (xid, zxid, err, then the data's length and bytes). */
function readData(frame: Buffer): string {
  const length = frame.readInt32BE(16);
  return frame.toString("utf8", 20, 20 + length);
}
