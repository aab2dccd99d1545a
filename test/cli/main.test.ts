/** The `zkts` command line: what it prints and its exit codes (0 ok, 2 bad arguments). */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

const packageJson = JSON.parse(
  readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
);

function zkts(...args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("zkts command line", () => {
  it("prints its version", () => {
    const { status, stdout } = zkts("--version");
    assert.equal(status, 0);
    assert.equal(stdout.trim(), packageJson.version);
  });

  it("prints help with exit 0", () => {
    const { status, stdout } = zkts("help");
    assert.equal(status, 0);
    assert.match(stdout, /^usage: zkts/);
  });

  it("refuses an unknown command with one line and exit 2", () => {
    const { status, stderr } = zkts("frobnicate");
    assert.equal(status, 2);
    assert.equal(stderr.trim().split("\n").length, 1);
    assert.match(stderr, /unknown command "frobnicate"/);
  });

  it("refuses an unknown option with one line and exit 2, no stack trace", () => {
    const { status, stderr } = zkts("--bogus");
    assert.equal(status, 2);
    assert.equal(stderr.trim().split("\n").length, 1);
    assert.doesNotMatch(stderr, /^\s+at /m);
  });
});
