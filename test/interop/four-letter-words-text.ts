/**
 * Reading four-letter-word answers for the differential test (four-letter-words.test.ts): each
 * word's text split into its lines, keys or groups, values that must differ between two servers
 * checked for format and replaced by a placeholder, session ids replaced by labels.
 */
import assert from "node:assert/strict";

/** What one server's answers are normalized against. */
export interface Names {
  /** "0x<session id>" → a label ("A", "B") that is the same on both servers. */
  readonly labels: ReadonlyMap<string, string>;
  /** The server's zxid before the test's requests: zxids are compared as advances from it. */
  readonly baseZxid: bigint;
}

export const JAVA_DOUBLE = /^-?\d+\.\d+(E-?\d+)?$/;
export const INTEGER = /^-?\d+$/;
const JAVA_DATE = /^\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} \S+ \d{4}$/;

/** Session ids in `text` replaced by their labels (unknown ids stay as they are). */
export function label(names: Names, text: string): string {
  return text.replace(/0x[0-9a-f]+/g, (id) => names.labels.get(id) ?? id);
}

export function linesOf(text: string): string[] {
  return text.split("\n");
}

/** "key<sep>value" lines → [key, value][], in order. */
export function pairs(text: string, separator: string): [string, string][] {
  return linesOf(text)
    .filter((line) => line !== "")
    .map((line) => {
      const at = line.indexOf(separator);
      assert.ok(at > 0, `no "${separator}" in ${JSON.stringify(line)}`);
      return [line.slice(0, at), line.slice(at + separator.length)];
    });
}

/** srvr's lines with the values that must differ checked for format and replaced. */
export function normalizeServerStats(names: Names, text: string): string[] {
  return linesOf(text).map((line) => {
    const [key, value = ""] = line.split(": ");
    switch (key) {
      case "Zookeeper version":
        return `${key}: <version>`;
      case "Latency min/avg/max": {
        const [min = "", avg = "", max = "", ...extra] = value.split("/");
        assert.match(min, INTEGER, line);
        assert.match(avg, JAVA_DOUBLE, line);
        assert.match(max, INTEGER, line);
        assert.equal(extra.length, 0, line);
        return `${key}: <latency>`;
      }
      case "Received":
      case "Sent":
        assert.match(value, INTEGER, line);
        return `${key}: <count>`;
      case "Zxid":
        return `${key}: +${BigInt(value) - names.baseZxid}`;
      default:
        return line;
    }
  });
}

/** A cons/stat connection line with ports, times, counts and latencies replaced. */
export function normalizeConnection(names: Names, line: string): string {
  const match = /^ \/127\.0\.0\.1:(\d+)\[([0-9a-f]+)\]\((.*)\)$/.exec(line);
  assert.ok(match, `not a connection line: ${JSON.stringify(line)}`);
  const [, , ops = "", fields = ""] = match;
  const normalized = fields.split(",").map((field) => {
    const [key = "", value = ""] = field.split("=");
    switch (key) {
      case "sid":
        return `${key}=${label(names, value)}`;
      case "est":
      case "lresp":
      case "llat":
      case "minlat":
      case "avglat":
      case "maxlat":
        assert.match(value, INTEGER, field);
        return `${key}=<n>`;
      case "lzxid":
        assert.match(value, /^0x[0-9a-f]+$/, field);
        return `${key}=<zxid>`;
      case "recved":
      case "sent":
        // The asking connection's figures are exact: one packet in (the word), none out.
        if (ops === "0") return field;
        assert.match(value, INTEGER, field);
        return `${key}=<n>`;
      default:
        return field;
    }
  });
  return ` /127.0.0.1:<port>[${ops}](${normalized.join(",")})`;
}

/** wchc/wchp: header lines, each followed by tab-indented lines; an empty line ends it. */
export function groups(names: Names, text: string): Map<string, string[]> {
  assert.ok(text.endsWith("\n\n") || text === "\n", `no empty last line: ${JSON.stringify(text)}`);
  const result = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of linesOf(label(names, text.slice(0, -2)))) {
    if (line.startsWith("\t")) {
      assert.ok(current, `an entry before any header: ${line}`);
      current.push(line.slice(1));
    } else if (line !== "") {
      current = [];
      result.set(line, current);
    }
  }
  for (const entries of result.values()) entries.sort();
  return new Map([...result].sort(([x], [y]) => (x < y ? -1 : 1)));
}

/** stat's parts: the client lines, and srvr's lines (the version line first) around them. */
export function sections(stat: string): [string[], string[]] {
  const lines = linesOf(stat);
  assert.match(lines[0] ?? "", /^Zookeeper version: /, stat);
  assert.equal(lines[1], "Clients:", stat);
  const end = lines.indexOf("", 2);
  assert.ok(end > 2, stat);
  return [lines.slice(2, end), [lines[0] ?? "", ...lines.slice(end + 1)]];
}

export interface Dump {
  sessions: string[];
  ephemerals: Map<string, string[]>;
  connections: string[];
}

/** dump's three parts, with bucket counts and dates checked for format and left out. */
export function parseDump(names: Names, text: string): Dump {
  const lines = linesOf(label(names, text));
  assert.equal(lines[0], "SessionTracker dump:", text);
  const ephemeralsAt = lines.indexOf("ephemeral nodes dump:");
  const connectionsAt = lines.indexOf("Connections dump:");
  assert.ok(ephemeralsAt > 0 && connectionsAt > ephemeralsAt, text);
  assert.equal(lines.at(-1), "", "ends with a newline");
  const sessions = expiryQueue("Session", lines.slice(1, ephemeralsAt));
  const ephemerals = new Map<string, string[]>();
  const header = lines[ephemeralsAt + 1] ?? "";
  assert.match(header, /^Sessions with Ephemerals \(\d+\):$/);
  let current: string[] = [];
  for (const line of lines.slice(ephemeralsAt + 2, connectionsAt)) {
    if (line.startsWith("\t")) {
      current.push(line.slice(1));
    } else {
      current = [];
      ephemerals.set(line.replace(/:$/, ""), current);
    }
  }
  assert.equal(header, `Sessions with Ephemerals (${ephemerals.size}):`);
  const connections = expiryQueue("Connections", lines.slice(connectionsAt + 1, -1)).map((line) =>
    line.replace(/:\d+ sessionId/, ":<port> sessionId"),
  );
  return {
    sessions: sessions.sort(),
    ephemerals: new Map([...ephemerals].sort()),
    connections: connections.sort(),
  };
}

/**
 * ExpiryQueue.dump: "<prefix> Sets (n)/(m):", then "k expire at <date>:" and k entries each.
 * The counts and dates are checked; the entries are returned.
 */
function expiryQueue(prefix: string, lines: string[]): string[] {
  const head = new RegExp(`^${prefix} Sets \\((\\d+)\\)/\\((\\d+)\\):$`).exec(lines[0] ?? "");
  assert.ok(head, `${prefix}: ${lines[0]}`);
  const elements: string[] = [];
  let buckets = 0;
  for (const line of lines.slice(1)) {
    if (line.startsWith("\t")) {
      elements.push(line.slice(1));
      continue;
    }
    const bucket = /^(\d+) expire at (.+):$/.exec(line);
    assert.ok(bucket, `${prefix}: ${line}`);
    assert.match(bucket[2] ?? "", JAVA_DATE);
    buckets++;
  }
  assert.equal(String(buckets), head[1], `${prefix}: bucket count`);
  assert.equal(String(elements.length), head[2], `${prefix}: element count`);
  return elements;
}
