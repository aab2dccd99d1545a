/**
 * Zxids as Zab numbers them: the epoch of the leader that proposed a txn in the high 32 bits,
 * that leader's counter in the low 32 (ZxidUtils). Counters start at 1 in every epoch; a zxid
 * with counter 0 names an epoch's start (NEWLEADER carries it).
 */
const MASK = 0xffffffffn;

export function makeZxid(epoch: bigint, counter: bigint): bigint {
  return (epoch << 32n) | (counter & MASK);
}

export function epochOf(zxid: bigint): bigint {
  return zxid >> 32n;
}

export function counterOf(zxid: bigint): bigint {
  return zxid & MASK;
}

export function zxidHex(zxid: bigint): string {
  return `0x${zxid.toString(16)}`;
}

/** The smaller of two zxids (Math.min does not take bigints). */
export function minZxid(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function maxZxid(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
