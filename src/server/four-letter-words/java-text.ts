/**
 * Values printed as Java prints them. ZooKeeper's four-letter words are text made by Java's
 * StringBuilder and PrintWriter, and scripts parse that text, so a double reads "7.0" (not "7"),
 * a negative long in hex is its two's complement, a date is java.util.Date.toString() and a
 * socket address is InetSocketAddress.toString().
 */

/** A value Java holds as a double (printed "7.0", not "7"), where its type matters to a reader. */
export interface JavaDouble {
  readonly double: number;
}

/** Double.toString: "7.0", "0.4444", "1.0E-4", "1.2345E7". */
export function javaDouble(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const text = String(x);
    return text.includes(".") ? text : `${text}.0`;
  }
  const [mantissa = "", exponent = "0"] = x.toExponential().split("e");
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

/** AvgMinMaxCounter.getAvg: the mean rounded half-up to 4 decimals, 0 when nothing was counted. */
export function average4(total: number, count: number): number {
  return count === 0 ? 0 : Math.round((total / count) * 10_000) / 10_000;
}

/** Long.toHexString: a Java long (so -1 is ffffffffffffffff), without a 0x prefix. */
export function javaHex(value: bigint | number): string {
  return BigInt.asUintN(64, BigInt(value)).toString(16);
}

const DATE_FORMAT = new Intl.DateTimeFormat("en-US", {
  weekday: "short",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  year: "numeric",
  hourCycle: "h23",
  timeZoneName: "short",
});

/** java.util.Date.toString() in the local time zone: "Thu Nov 26 13:46:32 UTC 2026". */
export function javaDate(ms: number): string {
  const parts: Record<string, string> = {};
  for (const part of DATE_FORMAT.formatToParts(new Date(ms))) parts[part.type] = part.value;
  const { weekday, month, day, hour, minute, second, timeZoneName, year } = parts;
  return `${weekday} ${month} ${day} ${hour}:${minute}:${second} ${timeZoneName} ${year}`;
}

/**
 * InetSocketAddress.toString() of a resolved address: "/127.0.0.1:41902", and for IPv6 Java's
 * uncompressed form "/0:0:0:0:0:0:0:1:41902". `remote` is "ip:port" (ClientConnection.remote).
 */
export function javaSocketAddress(remote: string): string {
  const colon = remote.lastIndexOf(":");
  const ip = remote.slice(0, colon);
  const port = remote.slice(colon + 1);
  return `/${ip.includes(":") ? expandIPv6(ip) : ip}:${port}`;
}

function expandIPv6(ip: string): string {
  const [address = "", zone] = ip.split("%");
  const [head = "", tail] = address.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill("0");
  const groups = [...left, ...zeros, ...right].map((group) =>
    group.includes(".") ? group : Number.parseInt(group, 16).toString(16),
  );
  return zone === undefined ? groups.join(":") : `${groups.join(":")}%${zone}`;
}
