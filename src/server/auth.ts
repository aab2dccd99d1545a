/**
 * Who a connection is, and what that lets it do: the auth schemes of ZooKeeper's standalone
 * server (world, auth, digest, ip, super, and x509 for TLS client certificates) and its ACL
 * rules (ZooKeeperServer.checkACL, PrepRequestProcessor.fixupACL, the providers' matches and
 * isValid).
 */
import { createHash } from "node:crypto";
import type { ACL, Id } from "../jute/records.js";
import { ErrorCode } from "../protocol/errors.js";
import { javaHashOrder } from "./java-hash-order.js";
import { isValidDistinguishedName } from "./x509-name.js";

/** An error code raised by a check; the processors turn it into the reply's err. */
export class KeeperError extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`keeper error ${code}`);
    this.code = code;
  }
}

/** DigestAuthenticationProvider.generateDigest: "user:password" → "user:base64(sha1)". */
export function generateDigest(idPassword: string): string {
  const user = idPassword.split(":", 1)[0] ?? "";
  return `${user}:${createHash("sha1").update(idPassword, "utf8").digest("base64")}`;
}

/**
 * An addAuth packet: the ids it adds to the connection, or null for AUTHFAILED (an unknown
 * scheme). A digest whose result equals superDigest makes the connection the super user too.
 * x509 authenticates by the connection's verified client certificate (`certificateIds`, what
 * the TLS handshake gave), as X509AuthenticationProvider does; without one it fails.
 */
export function authenticate(
  scheme: string,
  auth: Buffer,
  superDigest: string | undefined,
  clientIp: string,
  certificateIds: readonly Id[] = [],
): Id[] | null {
  if (scheme === "digest") {
    const digest = generateDigest(auth.toString("utf8"));
    const ids: Id[] = [];
    if (superDigest !== undefined && digest === superDigest) ids.push({ scheme: "super", id: "" });
    ids.push({ scheme: "digest", id: digest });
    return ids;
  }
  if (scheme === "ip") return [{ scheme: "ip", id: clientIp }];
  if (scheme === "x509") return certificateIds.length > 0 ? [...certificateIds] : null;
  return null;
}

/**
 * ZooKeeperServer.checkACL: throws NOAUTH unless one entry with `perm` matches an id.
 * `anySaslUser` is zookeeper.letAnySaslUserDoX: a sasl ACL naming it admits every sasl id.
 */
export function checkACL(
  acl: readonly ACL[],
  perm: number,
  ids: readonly Id[],
  anySaslUser?: string,
): void {
  if (acl.length === 0) return;
  for (const id of ids) if (id.scheme === "super") return;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    const { scheme, id } = entry.id;
    if (scheme === "world" && id === "anyone") return;
    for (const authId of ids) {
      if (authId.scheme === scheme && matches(scheme, authId.id, id, anySaslUser)) return;
    }
  }
  throw new KeeperError(ErrorCode.NOAUTH);
}

function matches(scheme: string, id: string, aclExpr: string, anySaslUser?: string): boolean {
  if (scheme === "digest") return id === aclExpr;
  if (scheme === "ip") return ipMatches(id, aclExpr);
  // X509AuthenticationProvider.matches; its superUser gets a "super" id instead.
  if (scheme === "x509") return id === aclExpr;
  // SASLAuthenticationProvider.matches: the sasl user "super" matches every sasl ACL, and
  // with zookeeper.letAnySaslUserDoX every sasl id matches the ACL that names its value. A
  // sasl id exists only on a server that runs SASL; ZooKeeper also matches it only when the
  // provider is configured, which is how a sasl ACL can be set at all.
  if (scheme === "sasl") return id === "super" || id === aclExpr || aclExpr === anySaslUser;
  return false;
}

/**
 * PrepRequestProcessor.fixupACL: drops duplicates, expands "auth" to the connection's
 * authenticated ids, and refuses (INVALIDACL) an empty list or an id no provider accepts.
 * `x509` says whether the x509 provider is there: ZooKeeper registers it only when configured
 * (authProvider.x509, which TLS client certificates need), so zkts has it when it serves TLS.
 */
export function fixupACL(
  acl: readonly ACL[],
  ids: readonly Id[],
  providers: { readonly x509?: boolean; readonly sasl?: boolean } = {},
): ACL[] {
  const saslScheme = providers.sasl === true;
  const unique: ACL[] = [];
  for (const entry of acl) {
    if (!unique.some((u) => sameACL(u, entry))) unique.push(entry);
  }
  if (unique.length === 0) throw new KeeperError(ErrorCode.INVALIDACL);
  const fixed: ACL[] = [];
  for (const entry of unique) {
    const { scheme, id } = entry.id;
    if (scheme === "world" && id === "anyone") fixed.push(entry);
    else if (scheme === "auth") {
      // "auth" stands for every id whose provider calls itself authenticated: digest, x509
      // and sasl when its provider is configured (ip is not, and super has no provider).
      const authenticated = javaHashOrder(ids).filter(
        (a) => a.scheme === "digest" || a.scheme === "x509" || (saslScheme && a.scheme === "sasl"),
      );
      if (authenticated.length === 0) throw new KeeperError(ErrorCode.INVALIDACL);
      for (const a of authenticated) fixed.push({ perms: entry.perms, id: a });
    } else if (
      isValidId(scheme, id, providers.x509 === true) ||
      (saslScheme && scheme === "sasl" && isKerberosName(id))
    ) {
      fixed.push(entry);
    } else throw new KeeperError(ErrorCode.INVALIDACL);
  }
  return fixed;
}

/**
 * SASLAuthenticationProvider.isValid: new KerberosName(id) accepts it, which refuses only a
 * name with an "@" that is not "service[/host]@realm" (any part may be empty).
 */
function isKerberosName(id: string): boolean {
  return !id.includes("@") || /^[^/@]*(?:\/[^/@]*)?@[^/@]*$/.test(id);
}

function sameACL(a: ACL, b: ACL): boolean {
  return a.perms === b.perms && a.id.scheme === b.id.scheme && a.id.id === b.id.id;
}

function isValidId(scheme: string, id: string, x509: boolean): boolean {
  if (scheme === "digest") return javaSplitLength(id, ":") === 2;
  if (scheme === "ip") return validIpExpression(id);
  if (scheme === "x509") return x509 && isValidDistinguishedName(id);
  return false;
}

/**
 * The length of Java's `text.split(separator)`: trailing empty strings are dropped, so
 * DigestAuthenticationProvider.isValid refuses "user:" and ":" yet accepts "user:hash:".
 */
function javaSplitLength(text: string, separator: string): number {
  if (text === "") return 1;
  const parts = text.split(separator);
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts.length;
}

/** Java's Integer.parseInt: an optional sign and decimal digits within an int, else null. */
function javaParseInt(text: string): number | null {
  if (!/^[+-]?[0-9]+$/.test(text)) return null;
  const n = Number(text);
  return n >= -(2 ** 31) && n <= 2 ** 31 - 1 ? n : null;
}

/**
 * IPAuthenticationProvider's "addr[/bits]" as ZooKeeper 3.8 reads it: an IPv4 address of four
 * ints 0..255 (so "127.000.0.01" passes and "::1" does not: 3.8 has no IPv6 yet) and a mask of
 * 0..32 bits. Null for an expression it refuses.
 */
function ipExpression(expr: string): { address: number[]; bits: number } | null {
  const slash = expr.indexOf("/");
  const address = v4Bytes(slash < 0 ? expr : expr.slice(0, slash));
  if (address === null) return null;
  if (slash < 0) return { address, bits: 32 };
  const bits = javaParseInt(expr.slice(slash + 1));
  return bits === null || bits < 0 || bits > 32 ? null : { address, bits };
}

/** IPAuthenticationProvider.v4addr2Bytes. */
function v4Bytes(address: string): number[] | null {
  const parts = address.split(".");
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    const v = javaParseInt(part);
    if (v === null || v < 0 || v > 255) return null;
    bytes.push(v);
  }
  return bytes;
}

function validIpExpression(expr: string): boolean {
  return ipExpression(expr) !== null;
}

/** IPAuthenticationProvider.matches: the client address within "addr[/bits]". */
function ipMatches(clientIp: string, aclExpr: string): boolean {
  const acl = ipExpression(aclExpr);
  const client = v4Bytes(clientIp);
  if (acl === null || client === null) return false;
  for (let i = 0; i < 4; i++) {
    const maskBits = Math.max(0, Math.min(8, acl.bits - i * 8));
    const mask = maskBits === 0 ? 0 : (0xff << (8 - maskBits)) & 0xff;
    if (((client[i] as number) & mask) !== ((acl.address[i] as number) & mask)) return false;
  }
  return true;
}

/**
 * whoAmI's view of an id (AuthUtil.getClientInfos): digest shows the user name only; an id
 * whose scheme has no provider (sasl without SASLAuthenticationProvider) shows no user.
 */
export function clientInfo(id: Id, saslScheme = false): { authScheme: string; user: string } {
  if (id.scheme === "digest") return { authScheme: "digest", user: id.id.split(":", 1)[0] ?? "" };
  if (id.scheme === "sasl" && !saslScheme) return { authScheme: "sasl", user: "" };
  return { authScheme: id.scheme, user: id.id };
}
