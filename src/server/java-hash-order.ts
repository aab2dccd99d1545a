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

/** java.util.HashMap.hash for a String key. */
function stringKeyHash(key: string): number {
  const h = javaStringHash(key);
  return h ^ (h >>> 16);
}

/** HashMap.tableSizeFor: the least power of two ≥ n (at least 1). */
function tableSizeFor(n: number): number {
  let size = 1;
  while (size < n) size *= 2;
  return size;
}

/**
 * Stable order of `keys` (given in insertion order) by HashMap bucket in a table of `capacity`
 * (a power of two). A counting sort over the buckets: a parent with hundreds of thousands of
 * children is ordered in milliseconds, where a comparison sort took a good part of a second
 * on the event loop (at every snapshot, and at the first change after one began).
 */
export function byBucket(keys: readonly string[], capacity: number): string[] {
  const n = keys.length;
  // A table far bigger than the keys (a set that shrank: HashSets never do) sorts instead.
  if (n <= 1 || capacity > 4 * n + 64) return byBucketSorted(keys, capacity);
  const mask = capacity - 1;
  const buckets = new Int32Array(n);
  const starts = new Int32Array(capacity + 1);
  for (let i = 0; i < n; i++) {
    const bucket = stringKeyHash(keys[i] as string) & mask;
    buckets[i] = bucket;
    (starts[bucket + 1] as number)++;
  }
  for (let b = 0; b < capacity; b++)
    starts[b + 1] = (starts[b + 1] as number) + (starts[b] as number);
  const ordered = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const bucket = buckets[i] as number;
    ordered[starts[bucket] as number] = keys[i] as string;
    starts[bucket] = (starts[bucket] as number) + 1;
  }
  return ordered;
}

function byBucketSorted(keys: readonly string[], capacity: number): string[] {
  return keys
    .map((key, index) => ({ key, index, bucket: stringKeyHash(key) & (capacity - 1) }))
    .sort((a, b) => a.bucket - b.bucket || a.index - b.index)
    .map((entry) => entry.key);
}

/**
 * The order in which ZooKeeper walks a session's ephemerals (getEphemerals, and the deletes of
 * a closing session): a clone of the session's HashSet<String>. The set's own table started at
 * 16 and doubled whenever it passed three quarters full (`maxSize` is the most paths it ever
 * held: a HashSet never shrinks); the clone is sized for its current size, and filled in the
 * set's iteration order.
 */
export function javaHashSetCloneOrder(paths: readonly string[], maxSize: number): string[] {
  let capacity = 16;
  while (maxSize > capacity * 0.75) capacity *= 2;
  const setOrder = byBucket(paths, capacity);
  if (paths.length === 0) return setOrder;
  return byBucket(setOrder, tableSizeFor(Math.floor(paths.length / 0.75 + 1)));
}
