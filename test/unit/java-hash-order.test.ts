/**
 * Goal: byBucket lists keys as a Java HashMap of that capacity iterates them (by bucket of the
 * spread String.hashCode, insertion order within a bucket), whichever way it sorts.
 * Method: against a plain stable sort by bucket, over random names (many colliding buckets in
 * small tables) and capacities from far too small to far too big for the keys.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { byBucket, javaStringHash } from "../../src/server/java-hash-order.js";

function reference(keys: readonly string[], capacity: number): string[] {
  const bucket = (key: string) => {
    const h = javaStringHash(key);
    return (h ^ (h >>> 16)) & (capacity - 1);
  };
  return keys
    .map((key, index) => ({ key, index }))
    .sort((a, b) => bucket(a.key) - bucket(b.key) || a.index - b.index)
    .map((entry) => entry.key);
}

test("byBucket is a stable order by HashMap bucket, for any table size", () => {
  const names = fc.uniqueArray(fc.string({ maxLength: 12, unit: "binary" }), { maxLength: 300 });
  fc.assert(
    fc.property(names, fc.integer({ min: 0, max: 14 }), (keys, log2) => {
      const capacity = 2 ** log2;
      assert.deepEqual(byBucket(keys, capacity), reference(keys, capacity));
    }),
    { numRuns: 500 },
  );
});
