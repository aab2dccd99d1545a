/**
 * `zkts cluster`: three `zkts server --config` processes from the zoo.cfg and myid files it
 * writes; it reports each server and the leader, clients write on one server and read on
 * another, and SIGTERM stops them all with exit 0. Bad arguments: one line, exit 2.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, describe, test } from "node:test";
import { connect } from "../../src/index.js";

const MAIN = "src/cli/main.ts";

/** Free at the moment: binding each in turn succeeds. */
async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ host: "127.0.0.1", port, exclusive: true }, () =>
      probe.close(() => resolve(true)),
    );
  });
}

/** A base port with base..base+2, base+707.., base+1707.. free (client, quorum, election). */
async function freeBase(): Promise<{ client: number; quorum: number }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const client = 20000 + Math.floor(Math.random() * 8000);
    const quorum = client + 707;
    const ports = [0, 1, 2].flatMap((i) => [client + i, quorum + i, quorum + 1000 + i]);
    let all = true;
    for (const port of ports) all &&= await isFree(port);
    if (all) return { client, quorum };
  }
  throw new Error("no free block of ports");
}

describe("zkts cluster", () => {
  const data = mkdtempSync(join(tmpdir(), "zkts-cluster-"));
  let child: ChildProcess | undefined;
  after(() => {
    if (child?.exitCode === null) child.kill("SIGKILL");
    rmSync(data, { recursive: true, force: true });
  });

  test("bad arguments: one line, exit 2", () => {
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", MAIN, "cluster", "--nodes", "x"],
      {
        encoding: "utf8",
      },
    );
    assert.equal(result.status, 2);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    assert.match(result.stderr, /--nodes must be an integer/);
  });

  test("three servers, a leader, writes on one read on another, SIGTERM stops all", async () => {
    const { client, quorum } = await freeBase();
    child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        MAIN,
        "cluster",
        "--data",
        data,
        "--client-port",
        String(client),
        "--quorum-port",
        String(quorum),
        "--tick-time",
        "500",
        // The AdminServers' default ports (8080-8082) are not the test's to take.
        "--admin-port",
        "0",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const lines: string[] = [];
    const connectLine = new Promise<string>((resolve, reject) => {
      createInterface({ input: child?.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        lines.push(line);
        const match = /^connect string: (.+)$/.exec(line);
        if (match) resolve(match[1] as string);
      });
      child?.once("exit", (code) =>
        reject(new Error(`cluster exited ${code}: ${lines.join("\n")}`)),
      );
    });
    const connectString = await connectLine;
    assert.equal(connectString.split(",").length, 3);
    assert.equal(readFileSync(join(data, "2", "myid"), "utf8"), "2\n");
    const [first, , third] = connectString.split(",");
    const a = await connect(first as string);
    await a.create("/lab", Buffer.from("zab"));
    const b = await connect(third as string);
    await b.sync("/lab");
    assert.equal((await b.getData("/lab")).data?.toString(), "zab");
    await Promise.all([a.close(), b.close()]);
    assert.ok(
      lines.some((line) => /^server \d leads$/.test(line)),
      lines.join("\n"),
    );
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = await exited;
    assert.equal(code, 0);
  });
});
