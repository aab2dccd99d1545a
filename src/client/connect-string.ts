/**
 * Parses ZooKeeper's connect string: `host:port,host:port,...[/chroot]`. IPv6 hosts go in
 * brackets (`[::1]:2181`); a host without a port gets 2181, as in ZooKeeper's own client.
 */
import { InvalidArgumentError } from "../protocol/errors.js";
import { validatePath } from "./paths.js";

export interface HostAddress {
  readonly host: string;
  readonly port: number;
}

export interface ConnectString {
  readonly hosts: readonly HostAddress[];
  /** The chroot without a trailing slash, or "" for none. */
  readonly chroot: string;
}

const DEFAULT_PORT = 2181;

export function parseConnectString(text: string): ConnectString {
  const slash = text.indexOf("/");
  const hostPart = slash === -1 ? text : text.slice(0, slash);
  let chroot = slash === -1 ? "" : text.slice(slash);
  if (chroot === "/") chroot = "";
  if (chroot !== "") validatePath(chroot);
  const hosts = hostPart
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map(parseHost);
  if (hosts.length === 0) throw new InvalidArgumentError(`no host in connect string "${text}"`);
  return { hosts, chroot };
}

function parseHost(entry: string): HostAddress {
  let host: string;
  let portText: string | undefined;
  if (entry.startsWith("[")) {
    const close = entry.indexOf("]");
    if (close === -1) throw new InvalidArgumentError(`bad IPv6 host "${entry}"`);
    host = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) throw new InvalidArgumentError(`bad host "${entry}"`);
    portText = rest === "" ? undefined : rest.slice(1);
  } else {
    const colon = entry.lastIndexOf(":");
    host = colon === -1 ? entry : entry.slice(0, colon);
    portText = colon === -1 ? undefined : entry.slice(colon + 1);
  }
  // Decimal digits only: Number() would also take "0x10", "1e3", " 21" and "21.0".
  const decimal = portText === undefined || /^[0-9]+$/.test(portText);
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (host === "" || !decimal || port < 1 || port > 65535) {
    throw new InvalidArgumentError(`bad host:port "${entry}"`);
  }
  return { host, port };
}

/** Fisher–Yates, so that clients of one connect string spread over the ensemble. */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}
