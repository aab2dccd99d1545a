/**
 * Invariant checks for programmer errors (TigerBeetle's rule): an assertion that fails means a
 * bug in zkts, never bad input. Bad input gets a typed error instead; never catch this one.
 */
export class AssertionError extends Error {
  override readonly name = "AssertionError";
}

export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new AssertionError(message);
}
