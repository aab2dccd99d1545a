/**
 * The order in which ZooKeeper lists a connection's auth ids. It keeps them in a set backed by
 * a Java ConcurrentHashMap, so whoAmI and the "auth" ACL expansion list them in hash-bucket
 * order, not in the order they were added. Clients can see that order, so zkts reproduces it:
 * Java's String.hashCode, jute's Id.hashCode, ConcurrentHashMap's spread and bucket index.
 */
import type { Id } from "../jute/records.js";

/** java.lang.String.hashCode: s[0]·31^(n−1) + … + s[n−1], over UTF-16 units, in int arithmetic. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** jute's generated Id.hashCode: 37·(37·17 + scheme.hashCode()) + id.hashCode(). */
export function idHashCode(id: Id): number {
  const withScheme = (Math.imul(37, 17) + javaStringHash(id.scheme)) | 0;
  return (Math.imul(37, withScheme) + javaStringHash(id.id)) | 0;
}

/** ConcurrentHashMap.spread: the high bits folded in, the sign bit cleared. */
function spread(h: number): number {
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

/**
 * `ids` (given in insertion order) in the order a ConcurrentHashMap iterates them: by bucket
 * of a table of 16, doubled each time it passes three quarters full; insertion order within a
 * bucket.
 */
export function javaHashOrder<T extends Id>(ids: readonly T[]): T[] {
  let table = 16;
  while (ids.length > table * 0.75) table *= 2;
  return ids
    .map((id, index) => ({ id, index, bucket: spread(idHashCode(id)) & (table - 1) }))
    .sort((a, b) => a.bucket - b.bucket || a.index - b.index)
    .map((entry) => entry.id);
}
