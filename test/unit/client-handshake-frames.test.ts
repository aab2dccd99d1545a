/**
 * The client against a scripted server, for what a real one rarely does on cue: a frame that
 * arrives in the same chunk as the connect response (here a watch notification, right after a
 * reconnect) must reach the session, not be taken for part of the handshake and dropped.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, test } from "node:test";
import { connect, type ZooKeeper } from "../../src/index.js";
import {
  ConnectResponse,
  GetDataResponse,
  ReplyHeader,
  WatcherEvent,
  Writer,
} from "../../src/jute/index.js";
import { FrameDecoder } from "../../src/protocol/frames.js";
import { OpCode, Xid } from "../../src/protocol/opcodes.js";
import { within } from "../harness/client-helpers.js";

const NODE_DATA_CHANGED = 3;
const SYNC_CONNECTED = 3;
const STAT = {
  czxid: 1n,
  mzxid: 1n,
  ctime: 0n,
  mtime: 0n,
  version: 0,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: 0n,
  dataLength: 1,
  numChildren: 0,
  pzxid: 1n,
};

function frame(encode: (w: Writer) => void): Buffer {
  const w = new Writer(256);
  const at = w.reserveInt();
  encode(w);
  w.patchInt(at, w.length - at - 4);
  return w.take();
}

const sockets: net.Socket[] = [];
let connections = 0;
/** Connection 1 answers getData; connection 2 sends its connect response and a notification in one write. */
const server = net.createServer((socket) => {
  sockets.push(socket);
  const n = ++connections;
  const decoder = new FrameDecoder(1 << 20);
  let handshaken = false;
  socket.on("error", () => {});
  socket.on("data", (chunk) =>
    decoder.push(chunk, (request) => {
      if (!handshaken) {
        handshaken = true;
        const reply = frame((w) =>
          ConnectResponse.write(w, {
            protocolVersion: 0,
            timeOut: 30_000,
            sessionId: 0x77n,
            passwd: Buffer.alloc(16),
            readOnly: false,
          }),
        );
        const event = frame((w) => {
          ReplyHeader.write(w, { xid: Xid.notification, zxid: -1n, err: 0 });
          WatcherEvent.write(w, { type: NODE_DATA_CHANGED, state: SYNC_CONNECTED, path: "/w" });
        });
        socket.write(n === 1 ? reply : Buffer.concat([reply, event]));
        return;
      }
      const xid = request.readInt32BE(0);
      const opcode = request.readInt32BE(4);
      if (opcode === OpCode.getData) {
        socket.write(
          frame((w) => {
            ReplyHeader.write(w, { xid, zxid: 1n, err: 0 });
            GetDataResponse.write(w, { data: Buffer.from("x"), stat: STAT });
          }),
        );
      } else if (opcode === OpCode.ping || opcode === OpCode.setWatches) {
        socket.write(frame((w) => ReplyHeader.write(w, { xid, zxid: 1n, err: 0 })));
      }
    }),
  );
});

let zk: ZooKeeper | undefined;
after(async () => {
  await zk?.close({ timeoutMs: 0 });
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test("a notification in the connect response's chunk reaches its watch", async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  zk = await connect(`127.0.0.1:${port}`);
  const { watch } = await zk.getData("/w", { watch: true });
  sockets[0]?.destroy(); // the client reconnects, to connection 2
  const event = await within(watch, 10_000, "the watch event");
  assert.deepEqual([event.type, event.path], ["NodeDataChanged", "/w"]);
  assert.equal(connections, 2);
});
