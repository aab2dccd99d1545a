/**
 * The server log's two formats and its rate limit: JSON lines in pino's shape wherever the
 * lines go to a file or a pipe (what tests and tools parse), a readable line on a terminal,
 * and at most one line per interval for a message that comes in floods, with the rest counted.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger, prettyLine, rateLimited } from "../../src/server/logger.js";

function capture(level: Parameters<typeof createLogger>[0], format?: "json" | "pretty") {
  const lines: string[] = [];
  return { lines, log: createLogger(level, (line) => lines.push(line), format) };
}

describe("server log", () => {
  it("writes one JSON line per event in pino's shape, bigints as strings", () => {
    const { lines, log } = capture("info");
    log.info({ session: 5n, timeout: 4000 }, "session expired");
    log.debug({}, "not at info");
    assert.equal(lines.length, 1);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(record.level, 30);
    assert.equal(record.msg, "session expired");
    assert.equal(record.session, "5");
    assert.equal(record.timeout, 4000);
    assert.equal(typeof record.time, "number");
    assert.ok(lines[0]!.endsWith("}\n"));
  });

  it("writes a readable line for a terminal: time, level, message, key=value", () => {
    const time = new Date(2024, 0, 2, 3, 4, 5, 6).getTime();
    const line = prettyLine("warn", time, "connection rejected", {
      client: "127.0.0.1",
      reason: "not serving",
    });
    assert.match(line, /^03:04:05\.006 \S*WARN \S* connection rejected {2}/);
    assert.match(line, /client=127\.0\.0\.1 reason="not serving"\n$/);
    const { lines, log } = capture("info", "pretty");
    log.info({ zxid: "0x5" }, "snapshot taken");
    assert.match(lines[0]!, /INFO.* snapshot taken {2}zxid=0x5\n$/);
  });

  it("rate-limits a flood: the first line per interval, then how many were left out", () => {
    const { lines, log } = capture("info");
    let now = 0;
    const rejected = rateLimited(log, "warn", 1_000, () => now);
    for (let i = 0; i < 5; i++) rejected({ client: `c${i}` }, "connection rejected");
    rejected({}, "another message");
    now = 1_000;
    rejected({ client: "c9" }, "connection rejected");
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      records.map((r) => [r.msg, r.client, r.suppressed, r.level]),
      [
        ["connection rejected", "c0", undefined, 40],
        ["another message", undefined, undefined, 40],
        ["connection rejected", "c9", 4, 40],
      ],
    );
  });
});
