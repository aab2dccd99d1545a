/**
 * The AdminServer's ensemble commands (leader, observers, voting_view, zabstate), answering as
 * a 3-server Apache ZooKeeper 3.8 ensemble's AdminServer does: the same keys in the same order
 * and the same JSON types (test/interop/admin-ensemble.test.ts compares them). Where ZooKeeper
 * hands Jackson a Java object (a QuorumServer, a MultipleAddresses), the keys are those Jackson
 * makes of its getters, as ZooKeeper's answers show them.
 */
import type { QuorumServer } from "../ensemble-config.js";
import type { ServerView } from "../four-letter-words/index.js";
import { javaHex, javaSocketAddress } from "../four-letter-words/java-text.js";
import type { LearnerLinkInfo } from "../quorum/transport.js";
import type { JsonValue } from "./jackson-json.js";

type Fields = [string, JsonValue][];

const NOT_INITIALIZED: Fields = [["error", "server is not initialized"]];

/** LeaderCommand: whether this server leads, and the leader's id and host. */
export function leader({ quorum }: ServerView): Fields {
  if (quorum === undefined) return NOT_INITIALIZED;
  const id = quorum.leaderId();
  const server = quorum.servers.find((s) => s.id === id);
  return [
    ["is_leader", quorum.state() === "LEADING"],
    ["leader_id", id ?? -1],
    ["leader_ip", server?.host ?? ""],
  ];
}

/**
 * SyncedObserverConsCommand: a leader's synced observers, each as its LearnerHandler's info.
 * Others list none (a follower lists observers only as an observer master, which zkts is not).
 */
export function observers({ quorum }: ServerView): Fields {
  const synced = quorum?.state() === "LEADING" ? (quorum.syncedObservers?.() ?? []) : [];
  return [
    ["synced_observers", synced.length],
    ["observers", synced.map(({ id, link }) => learnerHandlerInfo(id, link))],
  ];
}

/** LearnerHandler.getLearnerHandlerInfo, in its order. */
function learnerHandlerInfo(sid: number, link: LearnerLinkInfo): JsonValue {
  return new Map<string, JsonValue>([
    // Socket.getRemoteSocketAddress().toString(): "/ip:port".
    ["remote_socket_address", javaSocketAddress(link.remote)],
    ["sid", sid],
    // A java.util.Date, which Jackson writes as ms since the epoch.
    ["established", link.establishedAt],
    ["queued_packets", link.queuedPackets],
    ["queued_packets_size", link.queuedBytes],
    ["packets_received", link.packetsReceived],
    ["packets_sent", link.packetsSent],
    ["requests", link.requests],
    ["last_zxid", link.lastZxid],
  ]);
}

/** VotingViewCommand: each voting member's QuorumServer, by id. */
export function votingView(view: ServerView): Fields {
  const { quorum } = view;
  if (quorum === undefined) return [["current_config", new Map()]];
  const members = new Map<number, JsonValue>();
  for (const s of quorum.servers) {
    if (s.type !== "participant") continue;
    members.set(
      s.id,
      new Map<string, JsonValue>([
        ["server_addresses", [`${s.host}:${s.quorumPort}`]],
        ["election_addresses", [`${s.host}:${s.electionPort}`]],
        ["client_address", memberClientAddress(view, s)],
        ["learner_type", "participant"],
      ]),
    );
  }
  return [["current_config", members]];
}

/**
 * A member's client address: its server line's `;[address:]port`; without one, ZooKeeper knows
 * its own (from clientPortAddress and clientPort) and nobody else's.
 */
function memberClientAddress(view: ServerView, s: QuorumServer): string {
  if (s.clientPort !== undefined) return `${s.clientAddress ?? "0.0.0.0"}:${s.clientPort}`;
  return s.id === view.quorum?.myId ? ownClientAddress(view) : "";
}

/** The address this server takes clients on, as Jackson writes an InetSocketAddress. */
function ownClientAddress(view: ServerView): string {
  return `${view.server.options.clientPortAddress}:${view.clientPort}`;
}

/**
 * ZabStateCommand: who this server is, its addresses, its last logged zxid and its phase of
 * Zab (QuorumPeer.ZabState: election, discovery, synchronization or broadcast).
 */
export function zabState(view: ServerView): Fields {
  const { quorum } = view;
  if (quorum === undefined) {
    return [
      ["voting", false],
      ["zabstate", ""],
    ];
  }
  const me = quorum.servers.find((s) => s.id === quorum.myId);
  const state = quorum.state();
  // zkts's Zab does not tell discovery from synchronization: both are "not serving yet".
  const phase =
    state === "LOOKING" ? "election" : quorum.serving() ? "broadcast" : "synchronization";
  const zxid = quorum.lastLoggedZxid?.() ?? view.server.lastZxid;
  const host = me?.host ?? "";
  return [
    ["myid", quorum.myId],
    ["is_leader", state === "LEADING"],
    ["quorum_address", multipleAddresses(host, me?.quorumPort ?? 0)],
    ["election_address", multipleAddresses(host, me?.electionPort ?? 0)],
    ["client_address", ownClientAddress(view)],
    ["voting", me?.type === "participant"],
    ["last_zxid", `0x${javaHex(zxid)}`],
    ["zab_epoch", Number(BigInt.asUintN(64, zxid) >> 32n)],
    ["zab_counter", Number(BigInt.asUintN(32, zxid))],
    ["zabstate", phase],
  ];
}

/**
 * ZooKeeper's MultipleAddresses of one address, as Jackson writes its getters. zkts checks no
 * reachability: the one address counts as reachable, as it does for ZooKeeper on loopback.
 */
function multipleAddresses(host: string, port: number): JsonValue {
  const address = `${host}:${port}`;
  return new Map<string, JsonValue>([
    ["empty", false],
    ["all_addresses", [address]],
    ["all_reachable_addresses", [address]],
    ["one", address],
    ["reachable_address", address],
    ["wildcard_addresses", [`0.0.0.0:${port}`]],
    ["all_ports", [port]],
    ["all_host_strings", [host]],
    ["all_reachable_addresses_or_all", [address]],
    ["reachable_or_one", address],
  ]);
}
