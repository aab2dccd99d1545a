/**
 * `zkts shell` on a terminal: the prompt shows the connection state, Tab completes commands and
 * znode paths, a watch event arrives while a line is being typed without losing a character of
 * it, Up recalls history (also from an earlier run, through the history file), and quit leaves
 * with status 0.
 *
 * Method: the shell runs in a tmux pane on a private tmux server (its own socket, 120x40);
 * keys go in with send-keys, the screen comes back with capture-pane. Every wait is a bounded
 * poll for the text expected on the screen, never a fixed sleep. Against a zkts server, which
 * needs no Java.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connect, type ZooKeeper } from "../../src/index.js";
import {
  apacheZooKeeperSkip,
  startZooKeeper,
  type ZooKeeperProcess,
} from "../harness/apache-zookeeper.js";
import { startZkts } from "../harness/zkts-server.js";

const TMUX = "/usr/bin/tmux";
const MAIN = resolve("src/cli/main.ts");
const WAIT_MS = 15_000;
const POLL_MS = 25;

function tmuxSkip(): false | string {
  return existsSync(TMUX) ? false : `${TMUX} is not installed`;
}

/** One tmux pane on a tmux server of its own, running one command. */
class Pane {
  private readonly socket: string;

  constructor(socket: string) {
    this.socket = socket;
  }

  /** Starts `command` (a shell line) in a 120x40 pane; the pane stays after it exits. */
  static start(socket: string, command: string): Pane {
    const pane = new Pane(socket);
    // After the command, the pane shows its exit status and stays for capture.
    pane.tmux(
      "new-session",
      "-d",
      "-s",
      "shell",
      "-x",
      "120",
      "-y",
      "40",
      `${command}; echo "[exit $?]"; sleep 600`,
    );
    return pane;
  }

  tmux(...args: string[]): string {
    const result = spawnSync(TMUX, ["-S", this.socket, "-f", "/dev/null", ...args], {
      encoding: "utf8",
      timeout: 10_000,
    });
    if (result.status !== 0) throw new Error(`tmux ${args[0]}: ${result.stderr.trim()}`);
    return result.stdout;
  }

  /** Types text literally (no key names). */
  type(text: string): void {
    this.tmux("send-keys", "-t", "shell", "-l", text);
  }

  /** Presses keys by tmux's names: Enter, Tab, Up, C-c, C-d. */
  press(...keys: string[]): void {
    this.tmux("send-keys", "-t", "shell", ...keys);
  }

  screen(): string {
    return this.tmux("capture-pane", "-p", "-t", "shell");
  }

  /** The screen's lines, without the empty ones below the cursor. */
  lines(): string[] {
    const lines = this.screen().split("\n");
    while (lines.length > 0 && lines.at(-1)!.trim() === "") lines.pop();
    return lines;
  }

  /** Waits until the screen satisfies `check`; fails with the screen if it never does. */
  async waitFor(what: string, check: (lines: string[]) => boolean): Promise<string[]> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const lines = this.lines();
      if (check(lines)) return lines;
      if (Date.now() > deadline) {
        assert.fail(`no ${what} on the screen within ${WAIT_MS} ms:\n${lines.join("\n")}`);
      }
      await sleep(POLL_MS);
    }
  }

  /**
   * Waits for the last line to be `line` (the prompt and what is typed after it), up to
   * trailing spaces, which capture-pane does not keep.
   */
  lastLine(what: string, line: string): Promise<string[]> {
    return this.waitFor(what, (lines) => (lines.at(-1) ?? "") === line.trimEnd());
  }

  kill(): void {
    try {
      this.tmux("kill-server");
    } catch {
      // Already gone.
    }
  }
}

const SERVERS = {
  zkts: { start: () => startZkts(), skip: tmuxSkip },
  "Apache ZooKeeper": {
    start: () => startZooKeeper(),
    skip: () => tmuxSkip() || apacheZooKeeperSkip(),
  },
} as const;

for (const [kind, { start, skip }] of Object.entries(SERVERS)) {
  describe(`zkts shell on a terminal, against ${kind}`, { skip: skip() }, () => {
    let server: ZooKeeperProcess;
    let client: ZooKeeper;
    let dir: string;
    let historyFile: string;
    const panes: Pane[] = [];
    let prompt: (count: number, state?: string) => string;

    function startShell(): Pane {
      // A socket in the test's own dir: a private tmux server, gone with the dir.
      const socket = join(dir, `tmux-${panes.length}`);
      const command = [
        `ZKTS_HISTORY='${historyFile}'`,
        `'${process.execPath}' --import tsx '${MAIN}' shell -server ${server.connectString}`,
      ].join(" ");
      const pane = Pane.start(socket, command);
      panes.push(pane);
      return pane;
    }

    before(async () => {
      server = await start();
      client = await connect(server.connectString);
      await client.create("/tty");
      await client.create("/tty/alpha", "a");
      await client.create("/tty/w", "w");
      dir = await mkdtemp(join(tmpdir(), "zkts-shell-tty-"));
      historyFile = join(dir, "history");
      prompt = (count, state = "CONNECTED") =>
        `[zkts: ${server.connectString}(${state}) ${count}] `;
    });

    after(async () => {
      for (const pane of panes) pane.kill();
      await client?.close();
      await server?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test("prompt, completion, a watch event while typing, history, quit", async () => {
      const pane = startShell();
      // The prompt shows the connect string and the session's state, zkCli style.
      await pane.lastLine("the connected prompt", prompt(0).trimEnd());

      // Tab completes a command name, then a znode path asked of the server.
      pane.type("getAllC");
      pane.press("Tab");
      await pane.lastLine("the completed command", `${prompt(0)}getAllChildrenNumber `);
      pane.type("/tty/al");
      pane.press("Tab");
      await pane.lastLine("the completed path", `${prompt(0)}getAllChildrenNumber /tty/alpha`);
      pane.press("Enter");
      await pane.lastLine("the next prompt", prompt(1).trimEnd());
      assert.deepEqual(pane.lines().slice(-2, -1), ["0"]);

      // A watch fires while a line is half typed: the event prints above, the line survives.
      pane.type("get -w /tty/w");
      pane.press("Enter");
      await pane.lastLine("get's prompt", prompt(2).trimEnd());
      pane.type("ls /tt");
      await pane.lastLine("the half-typed line", `${prompt(2)}ls /tt`);
      await client.setData("/tty/w", "changed");
      const event = "WatchedEvent state:SyncConnected type:NodeDataChanged path:/tty/w";
      const lines = await pane.waitFor("the watch event", (l) => l.at(-2) === event);
      assert.equal(lines.at(-1), `${prompt(2)}ls /tt`, "the typed line is intact after the event");
      // ...and keeps working: the cursor is still at its end.
      pane.type("y");
      pane.press("Enter");
      await pane.lastLine("ls's prompt", prompt(3).trimEnd());
      assert.equal(pane.lines().at(-2), "[alpha, w]");

      // Up recalls the last command, and the one before it.
      pane.press("Up");
      await pane.lastLine("the last command", `${prompt(3)}ls /tty`);
      pane.press("Up");
      await pane.lastLine("the command before", `${prompt(3)}get -w /tty/w`);
      pane.press("C-u");
      pane.type("quit");
      pane.press("Enter");
      await pane.lastLine("the exit status", "[exit 0]");
      const saved = (await readFile(historyFile, "utf8")).trimEnd().split("\n");
      assert.deepEqual(saved.slice(-3), ["get -w /tty/w", "ls /tty", "quit"]);
    });

    test("history from an earlier run; the prompt follows the state; Ctrl-C, Ctrl-D", async () => {
      const pane = startShell();
      await pane.lastLine("the connected prompt", prompt(0).trimEnd());
      pane.press("Up");
      await pane.lastLine("the earlier run's last command", `${prompt(0)}quit`);
      // Ctrl-C drops the line being typed.
      pane.press("C-c");
      await pane.lastLine("a fresh prompt", prompt(0).trimEnd());
      pane.type("close");
      pane.press("Enter");
      await pane.lastLine("the closed prompt", prompt(1, "CLOSED").trimEnd());
      pane.type("ls /");
      pane.press("Enter");
      await pane.lastLine("the prompt after", prompt(2, "CLOSED").trimEnd());
      assert.equal(pane.lines().at(-2), "Not connected");
      pane.type(`connect ${server.connectString}`);
      pane.press("Enter");
      await pane.lastLine("the reconnected prompt", prompt(3).trimEnd());
      pane.press("C-d");
      await pane.lastLine("the exit status", "[exit 0]");
    });

    test("the prompt shows a lost server and the session coming back; Ctrl-C interrupts a command", {
      skip: kind !== "zkts",
    }, async () => {
      const pane = startShell();
      await pane.lastLine("the connected prompt", prompt(0));
      pane.type("ls /t");
      await server.kill();
      const lost = await pane.lastLine(
        "the disconnected prompt",
        `${prompt(0, "DISCONNECTED")}ls /t`,
      );
      assert.equal(lost.at(-2), "WatchedEvent state:Disconnected type:None path:null");
      // With no server a command waits (up to the session timeout); Ctrl-C gives up on it.
      pane.type("ty");
      pane.press("Enter");
      await pane.waitFor(
        "the command running",
        (lines) => lines.at(-1)?.endsWith("ls /tty") ?? false,
      );
      pane.press("C-c");
      const interrupted = await pane.lastLine("the prompt after", prompt(1, "DISCONNECTED"));
      assert.equal(interrupted.at(-2), "Interrupted");
      await server.start();
      const back = await pane.lastLine("the reconnected prompt", prompt(1));
      assert.equal(back.at(-2), "WatchedEvent state:SyncConnected type:None path:null");
      pane.type("ls /tty");
      pane.press("Enter");
      await pane.lastLine("ls's prompt", prompt(2));
      assert.equal(pane.lines().at(-2), "[alpha, w]");
    });
  });
}
