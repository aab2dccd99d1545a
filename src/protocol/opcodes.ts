/** Operation codes (ZooDefs.OpCode) and the reserved xids of ClientCnxn, ZooKeeper 3.8. */
export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;
export type OpCode = (typeof OpCode)[keyof typeof OpCode];

/** xids the client reserves for packets outside the request pipeline. */
export const Xid = {
  notification: -1,
  ping: -2,
  auth: -4,
  setWatches: -8,
} as const;

/** The client protocol version ZooKeeper 3.x speaks in ConnectRequest. */
export const PROTOCOL_VERSION = 0;

/** jute.maxbuffer's default (0xfffff): the largest packet either side accepts. */
export const DEFAULT_MAX_BUFFER_BYTES = 0xfffff;

/** Where ZooKeeper keeps the ensemble's dynamic configuration (getConfig reads it). */
export const CONFIG_NODE = "/zookeeper/config";
