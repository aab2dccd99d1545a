/** The rules ZooKeeper's client applies to a create before sending it. */

import { NULL_BUFFER } from "../jute/reader.js";
import { CreateMode, isSequential, isTTL } from "../protocol/constants.js";
import { InvalidArgumentError } from "../protocol/errors.js";
import { OpCode } from "../protocol/opcodes.js";
import { validatePath } from "./paths.js";

/** EphemeralType's largest TTL: 40 bits of milliseconds. */
export const MAX_TTL_MS = 0xffffffffff;

export function validateCreate(path: string, mode: CreateMode, ttlMs: number | undefined): void {
  if (!Object.values(CreateMode).includes(mode)) {
    throw new InvalidArgumentError(`unknown create mode ${mode}`);
  }
  validatePath(path, isSequential(mode));
  if (isTTL(mode)) {
    if (ttlMs === undefined || !Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TTL_MS) {
      throw new InvalidArgumentError(`ttlMs must be an integer in 1..${MAX_TTL_MS} for a TTL node`);
    }
  } else if (ttlMs !== undefined) {
    throw new InvalidArgumentError("ttlMs is only for PERSISTENT_WITH_TTL modes");
  }
}

/** The opcode a create travels as: containers and TTL nodes have their own. */
export function createOpcode(
  mode: CreateMode,
  withStat: boolean,
):
  | typeof OpCode.create
  | typeof OpCode.create2
  | typeof OpCode.createContainer
  | typeof OpCode.createTTL {
  if (mode === CreateMode.CONTAINER) return OpCode.createContainer;
  if (isTTL(mode)) return OpCode.createTTL;
  return withStat ? OpCode.create2 : OpCode.create;
}

export function ttlOf(ttlMs: number | undefined): bigint {
  return BigInt(ttlMs ?? -1);
}

/** Data as bytes: strings are UTF-8; no data is jute's null, as ZooKeeper's Java client sends it. */
export function toData(data: Uint8Array | string | null | undefined): Buffer {
  if (data === undefined || data === null) return NULL_BUFFER;
  if (typeof data === "string") return Buffer.from(data, "utf8");
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
