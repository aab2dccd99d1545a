/** ZooDefs.Ids: the ACLs everybody uses, and the digest scheme's id for a user and password. */
import { createHash } from "node:crypto";
import type { ACL } from "../jute/records.js";
import { Perms } from "../protocol/constants.js";

/** world:anyone with every permission. */
export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([
  { perms: Perms.ALL, id: { scheme: "world", id: "anyone" } },
]);

/** Every permission for the identities the creating session authenticated as. */
export const CREATOR_ALL_ACL: readonly ACL[] = Object.freeze([
  { perms: Perms.ALL, id: { scheme: "auth", id: "" } },
]);

/** world:anyone may read. */
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([
  { perms: Perms.READ, id: { scheme: "world", id: "anyone" } },
]);

/**
 * The digest scheme's id for `user:password`: `user:base64(sha1("user:password"))`, as
 * ZooKeeper's DigestAuthenticationProvider.generateDigest computes it.
 */
export function digestId(user: string, password: string): string {
  const hash = createHash("sha1").update(`${user}:${password}`, "utf8").digest("base64");
  return `${user}:${hash}`;
}

/** An ACL entry for a digest user. */
export function digestACL(user: string, password: string, perms: number = Perms.ALL): ACL {
  return { perms, id: { scheme: "digest", id: digestId(user, password) } };
}
