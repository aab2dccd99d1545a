/**
 * `startEnsembleServer()`: one server of an ensemble — the client port of a ZooKeeperServer,
 * a Zab peer on the quorum and election ports, and the peer's durable state in dataDir — as
 * ZooKeeper's QuorumPeerMain runs it.
 *
 *     const server = await startEnsembleServer(options, ensemble, me);
 *     server.role();          // "LEADING", "FOLLOWING", "OBSERVING" or "LOOKING"
 */
import type { Snapshot } from "../../zab/messages.js";
import type { AdminExtension } from "../admin/http.js";
import type { ResolvedServerOptions } from "../config.js";
import type { EnsembleConfig, QuorumServer } from "../ensemble-config.js";
import type { QuorumView } from "../four-letter-words/index.js";
import { type RunningServer, serveClients } from "../index.js";
import type { Logger } from "../logger.js";
import { dataDirs } from "../recovery.js";
import { ZooKeeperServer } from "../zookeeper-server.js";
import { EnsembleRole, type ForwardedRequest } from "./ensemble-role.js";
import { QuorumPeerShell } from "./peer-shell.js";
import { PeerSnapshots, treeFromSnapshot } from "./peer-snapshots.js";
import { DurablePeerStorage } from "./peer-storage.js";
import { QuorumEvents } from "./quorum-events.js";
import { quorumSockets } from "./quorum-sockets.js";

/** The Zab peer's clock. */
const ZAB_TICK_MS = 50;
/** FastLeaderElection's finalizeWait: how long a quorum's choice waits for a better vote. */
const FINALIZE_WAIT_MS = 200;
/** How often a looking server repeats its vote. */
const NOTIFICATION_INTERVAL_MS = 400;

export interface RunningEnsembleServer extends Omit<RunningServer, "database"> {
  readonly id: number;
  /** This server's Zab state now. */
  role(): "LOOKING" | "FOLLOWING" | "LEADING" | "OBSERVING";
  /** True while it takes clients (an established leader, or a synced learner). */
  serving(): boolean;
}

export async function startEnsembleServer(
  resolved: ResolvedServerOptions & { dataDir: string },
  ensemble: EnsembleConfig,
  me: QuorumServer,
  log: Logger,
  /** More routes on the AdminServer (the dashboard). */
  adminExtension?: AdminExtension,
): Promise<RunningEnsembleServer> {
  let role!: EnsembleRole;
  let snapshots!: PeerSnapshots;
  const dirs = dataDirs(resolved.dataDir, resolved.dataLogDir);
  const opened = DurablePeerStorage.open(
    dirs,
    log,
    (entries) => {
      role.applyCommitted(entries);
      snapshots.applied(entries);
    },
    (error) => {
      log.error({ reason: error.message }, "the txn log failed; stopping");
      void running.close();
    },
  );
  const zooKeeper = new ZooKeeperServer(resolved, log, Date.now, opened.tree, BigInt(me.id));
  role = new EnsembleRole(zooKeeper, log, ensemble.readOnlyModeEnabled);
  opened.storage.onInstall = (snapshot) => {
    zooKeeper.loadTree(treeFromSnapshot(snapshot));
    snapshots.installed(snapshot.zxid);
  };
  const shell = new QuorumPeerShell<Buffer>({
    me,
    servers: ensemble.servers,
    // Zab ticks finer than tickTime, so an election takes ZooKeeper's fraction of a second:
    // initLimit and syncLimit keep their meaning (in tickTimes), the election its own waits.
    config: {
      initLimit: Math.ceil((ensemble.initLimit * resolved.tickTime) / ZAB_TICK_MS),
      syncLimit: Math.ceil((ensemble.syncLimit * resolved.tickTime) / ZAB_TICK_MS),
      finalizeWait: Math.ceil(FINALIZE_WAIT_MS / ZAB_TICK_MS),
      notificationInterval: Math.ceil(NOTIFICATION_INTERVAL_MS / ZAB_TICK_MS),
      // History in memory is cut back as snapshots are taken (peer-snapshots.ts).
      snapshot: (): Snapshot => snapshots.forLearner(shell.peer.committed),
    },
    durable: opened.durable,
    storage: opened.storage,
    tickMs: ZAB_TICK_MS,
    log,
    sockets: quorumSockets(ensemble.quorumTls, log),
    onEstablished: (epoch) => role.roleChanged("LEADING", epoch, true),
    onRole: (state, _leader, epoch) => {
      zooKeeper.stats.metrics.roleChanged(state, Date.now());
      role.roleChanged(state, epoch, false);
    },
    onRequest: (_from, request) => role.handleForwarded(request as ForwardedRequest),
    onTick: () => {
      role.tick();
      events.observe();
    },
  });
  snapshots = new PeerSnapshots(dirs.snapDir, resolved, log, {
    tree: () => zooKeeper.tree,
    roll: () => opened.storage.roll(),
    compact: (zxid) => shell.peer.compact(zxid),
  });
  role.attach(shell);
  const { peer } = shell;
  const events = new QuorumEvents(peer, log);
  zooKeeper.stats.metrics.roleChanged(peer.state, Date.now());
  const served = await serveClients(zooKeeper, resolved, log, {
    // What the AdminServer and the metrics show of the ensemble.
    quorum: quorumView(me, ensemble, shell),
    ...(adminExtension !== undefined && { adminExtension }),
    stop: async () => {
      role.stopReadOnly();
      await shell.stop();
      await snapshots.idle();
      await opened.storage.close();
    },
  });
  role.closeClients = served.closeClients;
  await shell.start();
  const running: RunningEnsembleServer = {
    ...served,
    id: me.id,
    role: () => shell.peer.state,
    serving: () => role.serving,
  };
  return running;
}

/** What the AdminServer, the metrics and the dashboard show of the ensemble. */
function quorumView(
  me: QuorumServer,
  ensemble: EnsembleConfig,
  shell: QuorumPeerShell<Buffer>,
): QuorumView {
  const { peer } = shell;
  return {
    myId: me.id,
    servers: ensemble.servers,
    state: () => peer.state,
    leaderId: () => peer.leader,
    serving: () => peer.serving,
    epoch: () => peer.epoch,
    lastLoggedZxid: () => peer.lastZxid,
    syncedFollowers: () => peer.syncedFollowers(),
    // An observer synced in Zab whose link just closed is left out: it has no link to show.
    syncedObservers: () =>
      peer.syncedObservers().flatMap((id) => {
        const link = shell.learnerLink(id);
        return link === undefined ? [] : [{ id, link }];
      }),
    resetObserverCounts: () => shell.resetLearnerCounts(peer.syncedObservers()),
  };
}
