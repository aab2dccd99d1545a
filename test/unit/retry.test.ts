/**
 * retry() without a server: which errors are tried again, how many times, what comes out when
 * the attempts run out, and an abort during the wait between attempts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ConnectionLossError,
  InvalidArgumentError,
  NoNodeError,
  OperationTimeoutError,
  retry,
  SessionExpiredError,
  SessionMovedError,
} from "../../src/index.js";

/** A call that fails with `errors` in turn, then returns "ok"; records the attempt numbers. */
function failing(errors: Error[]) {
  const attempts: number[] = [];
  const call = async (attempt: number) => {
    attempts.push(attempt);
    const error = errors.shift();
    if (error !== undefined) throw error;
    return "ok";
  };
  return { attempts, call };
}

const fast = { baseDelayMs: 1, maxDelayMs: 2 };

describe("retry", () => {
  test("tries again through connection loss, operation timeout and session moved", async () => {
    const { attempts, call } = failing([
      new ConnectionLossError("/a"),
      new OperationTimeoutError("/a"),
      new SessionMovedError("/a"),
    ]);
    assert.equal(await retry(call, fast), "ok");
    assert.deepEqual(attempts, [1, 2, 3, 4]);
  });

  test("an answer that retrying cannot change is thrown at once, as it is", async () => {
    for (const error of [
      new NoNodeError("/a"),
      new SessionExpiredError("/a"),
      new TypeError("x"),
    ]) {
      const { attempts, call } = failing([error]);
      await assert.rejects(retry(call, fast), (thrown) => thrown === error);
      assert.deepEqual(attempts, [1]);
    }
  });

  test("after maxAttempts the last error is thrown", async () => {
    const errors = [1, 2, 3].map(() => new ConnectionLossError("/a"));
    const last = errors[2];
    const { attempts, call } = failing([...errors]);
    await assert.rejects(retry(call, { ...fast, maxAttempts: 3 }), (thrown) => thrown === last);
    assert.deepEqual(attempts, [1, 2, 3]);
  });

  test("retryOn chooses what is tried again", async () => {
    const { attempts, call } = failing([new NoNodeError("/a")]);
    const onlyNoNode = (error: unknown) => error instanceof NoNodeError;
    assert.equal(await retry(call, { ...fast, retryOn: onlyNoNode }), "ok");
    assert.deepEqual(attempts, [1, 2]);
  });

  test("an abort while waiting for the next attempt rejects with its reason", async () => {
    const controller = new AbortController();
    const attempts: number[] = [];
    const reason = new Error("stop");
    const retried = retry(
      async (attempt) => {
        attempts.push(attempt);
        // Abort as the first attempt fails: no second attempt, before or during the wait.
        queueMicrotask(() => controller.abort(reason));
        throw new ConnectionLossError("/a");
      },
      { baseDelayMs: 60_000, signal: controller.signal },
    );
    await assert.rejects(retried, (thrown) => thrown === reason);
    assert.deepEqual(attempts, [1]);
  });

  test("nonsense maxAttempts is refused", async () => {
    for (const maxAttempts of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(
        retry(async () => 1, { maxAttempts }),
        InvalidArgumentError,
      );
    }
  });
});
