/**
 * zkts: a ZooKeeper client (and, later, server and recipes) in TypeScript that speaks Apache
 * ZooKeeper's wire protocol.
 */
export * from "./client/index.js";
export {
  AddWatchMode,
  CreateMode,
  EventType,
  KeeperState,
  Perms,
  WatcherType,
} from "./protocol/constants.js";
export * from "./protocol/errors.js";
