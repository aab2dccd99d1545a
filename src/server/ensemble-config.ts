/**
 * The ensemble part of a zoo.cfg, read as Apache ZooKeeper's QuorumPeerConfig reads it:
 *
 *     server.1=127.0.0.1:2888:3888                 # quorum port, election port
 *     server.2=127.0.0.1:2889:3889:participant;2182
 *     server.4=10.0.0.4:2888:3888:observer;0.0.0.0:2181
 *     initLimit=10
 *     syncLimit=5
 *     peerType=observer                            # this server, if it is one
 *     readonlymode.enabled=true                    # a JVM property in ZooKeeper; here too
 *
 * and `<dataDir>/myid`, which names this server. One server line (or none) means standalone,
 * as ZooKeeper's standaloneEnabled default has it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidArgumentError } from "../protocol/errors.js";
import { type QuorumTlsSettings, resolveQuorumTls } from "./quorum/quorum-tls.js";

export interface QuorumServer {
  readonly id: number;
  readonly host: string;
  readonly quorumPort: number;
  readonly electionPort: number;
  readonly type: "participant" | "observer";
  /** From the `;[address:]port` part, if given. */
  readonly clientPort?: number;
  readonly clientAddress?: string;
}

export interface EnsembleConfig {
  readonly servers: readonly QuorumServer[];
  /** Ticks a follower has to connect and sync to a new leader. Default 10 (zoo_sample.cfg). */
  readonly initLimit: number;
  /** Ticks a follower may lag (or be silent) before it is dropped. Default 5. */
  readonly syncLimit: number;
  /** This server's peerType, if the config says: it must match its server line. */
  readonly peerType?: "participant" | "observer";
  /** readonlymode.enabled: serve reads while cut off from the quorum. Default false. */
  readonly readOnlyModeEnabled: boolean;
  /** sslQuorum / portUnification and the ssl.quorum.* key material; undefined: plain links. */
  readonly quorumTls?: QuorumTlsSettings;
}

const SERVER_KEY = /^server\.(\d+)$/;

/** The ensemble, or undefined for a standalone server (no server lines, or just one). */
export function ensembleFromConfig(props: ReadonlyMap<string, string>): EnsembleConfig | undefined {
  const servers: QuorumServer[] = [];
  for (const [key, value] of props) {
    const match = SERVER_KEY.exec(key);
    if (match) servers.push(parseServer(Number(match[1]), value, key));
  }
  if (servers.length <= 1) return undefined;
  servers.sort((a, b) => a.id - b.id);
  const peerType = props.get("peerType");
  if (peerType !== undefined && peerType !== "participant" && peerType !== "observer") {
    throw new InvalidArgumentError(`peerType: "${peerType}" is not participant or observer`);
  }
  if (!servers.some((s) => s.type === "participant")) {
    throw new InvalidArgumentError(
      "the ensemble has no participant (every server.N is an observer)",
    );
  }
  const quorumTls = resolveQuorumTls(props);
  return {
    servers,
    initLimit: positive(props, "initLimit", 10),
    syncLimit: positive(props, "syncLimit", 5),
    ...(peerType !== undefined && { peerType }),
    readOnlyModeEnabled: /^true$/i.test(
      props.get("readonlymode.enabled") ?? props.get("zookeeper.readonlymode.enabled") ?? "false",
    ),
    ...(quorumTls !== undefined && { quorumTls }),
  };
}

/** `host:quorumPort:electionPort[:type][;[clientAddress:]clientPort]` */
export function parseServer(id: number, value: string, key = `server.${id}`): QuorumServer {
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new InvalidArgumentError(`${key}: the server id must be a non-negative integer`);
  }
  const [address = "", client] = value.split(";", 2);
  const parts = splitHostPorts(address.trim(), key);
  if (parts.length < 3 || parts.length > 4) {
    throw new InvalidArgumentError(
      `${key}: "${value}" is not host:quorumPort:electionPort[:participant|observer][;clientPort]`,
    );
  }
  const [host, quorum, election, type = "participant"] = parts as [string, string, string, string?];
  if (type !== "participant" && type !== "observer") {
    throw new InvalidArgumentError(`${key}: "${type}" is not participant or observer`);
  }
  const server: QuorumServer = {
    id,
    host,
    quorumPort: port(quorum, key),
    electionPort: port(election, key),
    type,
    ...parseClient(client?.trim(), key),
  };
  if (server.quorumPort === server.electionPort) {
    throw new InvalidArgumentError(`${key}: the quorum and election ports must differ`);
  }
  return server;
}

/** Splits on ':' but keeps a bracketed IPv6 address whole. */
function splitHostPorts(text: string, key: string): string[] {
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) throw new InvalidArgumentError(`${key}: unclosed "[" in "${text}"`);
    const rest = text.slice(end + 1);
    if (!rest.startsWith(":")) throw new InvalidArgumentError(`${key}: no ports after "${text}"`);
    return [text.slice(1, end), ...rest.slice(1).split(":")];
  }
  return text.split(":");
}

function parseClient(text: string | undefined, key: string) {
  if (text === undefined || text === "") return {};
  const colon = text.lastIndexOf(":");
  if (colon < 0) return { clientPort: port(text, key) };
  const address = text.slice(0, colon).replace(/^\[|\]$/g, "");
  return { clientAddress: address, clientPort: port(text.slice(colon + 1), key) };
}

function port(text: string, key: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= 65535)) throw new InvalidArgumentError(`${key}: "${text}" is not a port`);
  return n;
}

function positive(props: ReadonlyMap<string, string>, key: string, fallback: number): number {
  const text = props.get(key);
  if (text === undefined) return fallback;
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= 0x7fffffff)) {
    throw new InvalidArgumentError(`${key}: "${text}" is not a positive integer`);
  }
  return n;
}

/**
 * `<dataDir>/myid`: this server's id, which must have a server line (QuorumPeerConfig refuses
 * to start otherwise, and so do we, with the file's name in the message).
 */
export function readMyId(dataDir: string, ensemble: EnsembleConfig): QuorumServer {
  const file = join(dataDir, "myid");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new InvalidArgumentError(`${file} is missing: it must hold this server's id`);
  }
  const id = /^\s*(\d+)\s*$/.exec(text);
  if (!id) throw new InvalidArgumentError(`${file}: "${text.trim()}" is not a server id`);
  const me = ensemble.servers.find((s) => s.id === Number(id[1]));
  if (me === undefined) {
    throw new InvalidArgumentError(`${file}: there is no server.${id[1]} line for this server`);
  }
  if (ensemble.peerType !== undefined && ensemble.peerType !== me.type) {
    throw new InvalidArgumentError(
      `peerType is ${ensemble.peerType} but server.${me.id} says ${me.type}`,
    );
  }
  return me;
}
