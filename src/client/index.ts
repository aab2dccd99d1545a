export { CREATOR_ALL_ACL, digestACL, digestId, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from "./acl.js";
export { type ConnectOptions, connect, type SecureOptions } from "./connect.js";
export { parseConnectString } from "./connect-string.js";
export { PersistentWatch } from "./persistent-watch.js";
export { type RetryOptions, retry } from "./retry.js";
export type * from "./types.js";
export { ZooKeeper } from "./zookeeper.js";
