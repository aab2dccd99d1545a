/**
 * Every record of ZooKeeper 3.8's client protocol, declared once, in the order of
 * zookeeper-jute/src/main/resources/zookeeper.jute. Each declaration is the record's codec; its
 * TypeScript type is inferred from it (`type Stat = Infer<typeof Stat>`).
 */
import {
  boolean,
  buffer,
  type Infer,
  int,
  long,
  type RecordCodec,
  record,
  ustring,
  vector,
} from "./codec.js";

// module org.apache.zookeeper.data

/** class Id { ustring scheme; ustring id; } */
export const Id = record("Id", { scheme: ustring, id: ustring });
export type Id = Infer<typeof Id>;

/** class ACL { int perms; Id id; } */
export const ACL = record("ACL", { perms: int, id: Id });
export type ACL = Infer<typeof ACL>;

/**
 * class Stat { long czxid; long mzxid; long ctime; long mtime; int version; int cversion;
 * int aversion; long ephemeralOwner; int dataLength; int numChildren; long pzxid; }
 * Written out by hand: it rides on most replies, and a fixed shape keeps V8 fast.
 */
export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}
export const Stat: RecordCodec<Stat> = {
  name: "Stat",
  shape: {
    kind: "record",
    fields: {
      czxid: long,
      mzxid: long,
      ctime: long,
      mtime: long,
      version: int,
      cversion: int,
      aversion: int,
      ephemeralOwner: long,
      dataLength: int,
      numChildren: int,
      pzxid: long,
    },
  },
  read: (r) => ({
    czxid: r.readLong(),
    mzxid: r.readLong(),
    ctime: r.readLong(),
    mtime: r.readLong(),
    version: r.readInt(),
    cversion: r.readInt(),
    aversion: r.readInt(),
    ephemeralOwner: r.readLong(),
    dataLength: r.readInt(),
    numChildren: r.readInt(),
    pzxid: r.readLong(),
  }),
  write: (w, s) => {
    w.writeLong(s.czxid).writeLong(s.mzxid).writeLong(s.ctime).writeLong(s.mtime);
    w.writeInt(s.version).writeInt(s.cversion).writeInt(s.aversion);
    w.writeLong(s.ephemeralOwner).writeInt(s.dataLength).writeInt(s.numChildren);
    w.writeLong(s.pzxid);
  },
};

/** class StatPersisted: Stat without dataLength and numChildren (the server's own copy). */
export const StatPersisted = record("StatPersisted", {
  czxid: long,
  mzxid: long,
  ctime: long,
  mtime: long,
  version: int,
  cversion: int,
  aversion: int,
  ephemeralOwner: long,
  pzxid: long,
});
export type StatPersisted = Infer<typeof StatPersisted>;

/** class ClientInfo { ustring authScheme; ustring user; } (3.8, for whoAmI) */
export const ClientInfo = record("ClientInfo", { authScheme: ustring, user: ustring });
export type ClientInfo = Infer<typeof ClientInfo>;

// module org.apache.zookeeper.proto

/**
 * class ConnectRequest { int protocolVersion; long lastZxidSeen; int timeOut; long sessionId;
 * buffer passwd; } — followed on the wire, since 3.4, by a bare boolean readOnly that the jute
 * file does not declare; it is part of this record here so that nobody forgets it.
 */
export const ConnectRequest = record("ConnectRequest", {
  protocolVersion: int,
  lastZxidSeen: long,
  timeOut: int,
  sessionId: long,
  passwd: buffer,
  readOnly: boolean,
});
export type ConnectRequest = Infer<typeof ConnectRequest>;

/** class ConnectResponse { int protocolVersion; int timeOut; long sessionId; buffer passwd; } + readOnly. */
export const ConnectResponse = record("ConnectResponse", {
  protocolVersion: int,
  timeOut: int,
  sessionId: long,
  passwd: buffer,
  readOnly: boolean,
});
export type ConnectResponse = Infer<typeof ConnectResponse>;

const paths = vector(ustring);

/** class SetWatches { long relativeZxid; vector<ustring> dataWatches, existWatches, childWatches; } */
export const SetWatches = record("SetWatches", {
  relativeZxid: long,
  dataWatches: paths,
  existWatches: paths,
  childWatches: paths,
});
export type SetWatches = Infer<typeof SetWatches>;

/** class SetWatches2: SetWatches plus persistentWatches and persistentRecursiveWatches. */
export const SetWatches2 = record("SetWatches2", {
  relativeZxid: long,
  dataWatches: paths,
  existWatches: paths,
  childWatches: paths,
  persistentWatches: paths,
  persistentRecursiveWatches: paths,
});
export type SetWatches2 = Infer<typeof SetWatches2>;

/** class RequestHeader { int xid; int type; } */
export const RequestHeader = record("RequestHeader", { xid: int, type: int });
export type RequestHeader = Infer<typeof RequestHeader>;

/** class MultiHeader { int type; boolean done; int err; } */
export const MultiHeader = record("MultiHeader", { type: int, done: boolean, err: int });
export type MultiHeader = Infer<typeof MultiHeader>;

/** class AuthPacket { int type; ustring scheme; buffer auth; } */
export const AuthPacket = record("AuthPacket", { type: int, scheme: ustring, auth: buffer });
export type AuthPacket = Infer<typeof AuthPacket>;

/** class ReplyHeader { int xid; long zxid; int err; } */
export interface ReplyHeader {
  xid: number;
  zxid: bigint;
  err: number;
}
export const ReplyHeader: RecordCodec<ReplyHeader> = {
  name: "ReplyHeader",
  shape: { kind: "record", fields: { xid: int, zxid: long, err: int } },
  read: (r) => ({ xid: r.readInt(), zxid: r.readLong(), err: r.readInt() }),
  write: (w, h) => void w.writeInt(h.xid).writeLong(h.zxid).writeInt(h.err),
};

const pathAndWatch = { path: ustring, watch: boolean };
const acls = vector(ACL);

export const GetDataRequest = record("GetDataRequest", pathAndWatch);
export const SetDataRequest = record("SetDataRequest", {
  path: ustring,
  data: buffer,
  version: int,
});
export const ReconfigRequest = record("ReconfigRequest", {
  joiningServers: ustring,
  leavingServers: ustring,
  newMembers: ustring,
  curConfigId: long,
});
export const SetDataResponse = record("SetDataResponse", { stat: Stat });
export const GetSASLRequest = record("GetSASLRequest", { token: buffer });
export const SetSASLRequest = record("SetSASLRequest", { token: buffer });
export const SetSASLResponse = record("SetSASLResponse", { token: buffer });
export const CreateRequest = record("CreateRequest", {
  path: ustring,
  data: buffer,
  acl: acls,
  flags: int,
});
export const CreateTTLRequest = record("CreateTTLRequest", {
  path: ustring,
  data: buffer,
  acl: acls,
  flags: int,
  ttl: long,
});
export const DeleteRequest = record("DeleteRequest", { path: ustring, version: int });
export const GetChildrenRequest = record("GetChildrenRequest", pathAndWatch);
export const GetAllChildrenNumberRequest = record("GetAllChildrenNumberRequest", { path: ustring });
export const GetStatPersistedRequest = record("GetStatPersistedRequest", { path: ustring });
export const GetChildren2Request = record("GetChildren2Request", pathAndWatch);
export const CheckVersionRequest = record("CheckVersionRequest", { path: ustring, version: int });
export const GetMaxChildrenRequest = record("GetMaxChildrenRequest", { path: ustring });
export const GetMaxChildrenResponse = record("GetMaxChildrenResponse", { max: int });
export const SetMaxChildrenRequest = record("SetMaxChildrenRequest", { path: ustring, max: int });
export const SyncRequest = record("SyncRequest", { path: ustring });
export const SyncResponse = record("SyncResponse", { path: ustring });
export const GetACLRequest = record("GetACLRequest", { path: ustring });
export const SetACLRequest = record("SetACLRequest", { path: ustring, acl: acls, version: int });
export const SetACLResponse = record("SetACLResponse", { stat: Stat });
export const AddWatchRequest = record("AddWatchRequest", { path: ustring, mode: int });
/** class WatcherEvent { int type; int state; ustring path; } */
export const WatcherEvent = record("WatcherEvent", { type: int, state: int, path: ustring });
export type WatcherEvent = Infer<typeof WatcherEvent>;
export const ErrorResponse = record("ErrorResponse", { err: int });
export const CreateResponse = record("CreateResponse", { path: ustring });
export const Create2Response = record("Create2Response", { path: ustring, stat: Stat });
export const ExistsRequest = record("ExistsRequest", pathAndWatch);
export const ExistsResponse = record("ExistsResponse", { stat: Stat });
export const GetDataResponse = record("GetDataResponse", { data: buffer, stat: Stat });
export const GetChildrenResponse = record("GetChildrenResponse", { children: paths });
export const GetAllChildrenNumberResponse = record("GetAllChildrenNumberResponse", {
  totalNumber: int,
});
export const GetStatPersistedResponse = record("GetStatPersistedResponse", {
  statPersisted: StatPersisted,
});
export const GetChildren2Response = record("GetChildren2Response", { children: paths, stat: Stat });
export const GetACLResponse = record("GetACLResponse", { acl: acls, stat: Stat });
export const CheckWatchesRequest = record("CheckWatchesRequest", { path: ustring, type: int });
export const RemoveWatchesRequest = record("RemoveWatchesRequest", { path: ustring, type: int });
export const GetEphemeralsRequest = record("GetEphemeralsRequest", { prefixPath: ustring });
export const GetEphemeralsResponse = record("GetEphemeralsResponse", { ephemerals: paths });
/** class WhoAmIResponse { vector<ClientInfo> clientInfo; } (3.8) */
export const WhoAmIResponse = record("WhoAmIResponse", { clientInfo: vector(ClientInfo) });

// module org.apache.zookeeper.server.quorum and .persistence (used by the server and storage)

export const LearnerInfo = record("LearnerInfo", {
  serverid: long,
  protocolVersion: int,
  configVersion: long,
});
export const QuorumPacket = record("QuorumPacket", {
  type: int,
  zxid: long,
  data: buffer,
  authinfo: vector(Id),
});
export const QuorumAuthPacket = record("QuorumAuthPacket", {
  magic: long,
  status: int,
  token: buffer,
});
export const FileHeader = record("FileHeader", { magic: int, version: int, dbid: long });

// module org.apache.zookeeper.txn

export const TxnDigest = record("TxnDigest", { version: int, treeDigest: long });
export const TxnHeader = record("TxnHeader", {
  clientId: long,
  cxid: int,
  zxid: long,
  time: long,
  type: int,
});
export type TxnHeader = Infer<typeof TxnHeader>;
export const CreateTxnV0 = record("CreateTxnV0", {
  path: ustring,
  data: buffer,
  acl: acls,
  ephemeral: boolean,
});
export const CreateTxn = record("CreateTxn", {
  path: ustring,
  data: buffer,
  acl: acls,
  ephemeral: boolean,
  parentCVersion: int,
});
export const CreateTTLTxn = record("CreateTTLTxn", {
  path: ustring,
  data: buffer,
  acl: acls,
  parentCVersion: int,
  ttl: long,
});
export const CreateContainerTxn = record("CreateContainerTxn", {
  path: ustring,
  data: buffer,
  acl: acls,
  parentCVersion: int,
});
export const DeleteTxn = record("DeleteTxn", { path: ustring });
export const SetDataTxn = record("SetDataTxn", { path: ustring, data: buffer, version: int });
export const CheckVersionTxn = record("CheckVersionTxn", { path: ustring, version: int });
export const SetACLTxn = record("SetACLTxn", { path: ustring, acl: acls, version: int });
export const SetMaxChildrenTxn = record("SetMaxChildrenTxn", { path: ustring, max: int });
export const CreateSessionTxn = record("CreateSessionTxn", { timeOut: int });
export const CloseSessionTxn = record("CloseSessionTxn", { paths2Delete: paths });
export const ErrorTxn = record("ErrorTxn", { err: int });
export const Txn = record("Txn", { type: int, data: buffer });
export const MultiTxn = record("MultiTxn", { txns: vector(Txn) });
